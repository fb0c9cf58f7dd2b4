// Package freeport finds a loopback port nothing listens on: to start a
// server on (tests, test helper packages, the benchmark), or to find a
// server unreachable at (Closed, which holds the port so nothing else can
// take it).
package freeport

import (
	"fmt"
	"net"
	"strconv"
	"testing"
)

// Port returns a loopback TCP port that was free a moment ago.
func Port() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}

// Addr returns "127.0.0.1:PORT" for a port that was free a moment ago
// (the test fails when none can be found).
func Addr(t testing.TB) string {
	t.Helper()
	port, err := Port()
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
