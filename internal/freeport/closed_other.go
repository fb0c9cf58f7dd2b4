//go:build !unix

package freeport

import "testing"

// Closed returns "127.0.0.1:PORT" where nothing listened a moment ago.
// Unlike on Unix, the port is not held: a server started meanwhile could
// take it.
func Closed(t testing.TB) string {
	t.Helper()
	return Addr(t)
}
