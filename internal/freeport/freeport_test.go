package freeport_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/freeport"
)

func TestAddr(t *testing.T) {
	t.Parallel()
	// A port free a moment ago may be taken by a parallel test before it
	// is tried: three ports, and one must pass. An Addr that returned a
	// used port would fail all three.
	var failures []string
	for range 3 {
		addr := freeport.Addr(t)
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			failures = append(failures, "something listens on "+addr)
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			failures = append(failures, fmt.Sprintf("listen on %s: %v", addr, err))
			continue
		}
		ln.Close()
		return
	}
	t.Fatal(strings.Join(failures, "; "))
}
