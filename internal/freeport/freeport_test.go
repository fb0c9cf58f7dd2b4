package freeport_test

import (
	"net"
	"testing"

	"github.com/tidings-mail/tidings/internal/freeport"
)

func TestAddr(t *testing.T) {
	t.Parallel()
	addr := freeport.Addr(t)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("something listens on %s", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	ln.Close()
}
