// Package freeport gives tests a loopback address nothing listens on: to
// listen on, or to find a server unreachable at. Import it from _test files
// and test helper packages only.
package freeport

import (
	"net"
	"testing"
)

// Addr returns "127.0.0.1:PORT" for a port that was free a moment ago
// (the test fails when none can be found).
func Addr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	return addr
}
