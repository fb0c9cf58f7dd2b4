//go:build unix

package freeport_test

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/tidings-mail/tidings/internal/freeport"
)

// TestClosed: a connection to the address is refused, and the port stays
// taken for the test's life (no server can listen on it meanwhile).
func TestClosed(t *testing.T) {
	t.Parallel()
	addr := freeport.Closed(t)
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			t.Fatalf("a connection to %s was accepted", addr)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial %s: %v, want connection refused", addr, err)
		}
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("could listen on %s while it is held", addr)
	}
}
