//go:build unix

package freeport

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// Closed returns "127.0.0.1:PORT" where a connection is refused until the
// test ends. The port is held by a socket that is bound but never listens:
// the kernel answers a connection with a reset, and no other server (a
// parallel test's, say) can take the port in the meantime, as it could one
// that was merely free a moment ago.
func Closed(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("hold a closed port: socket: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("hold a closed port: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("hold a closed port: getsockname: %v", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("hold a closed port: bound to %T", sa)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(in4.Port))
}
