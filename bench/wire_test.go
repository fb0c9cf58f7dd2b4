package main

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestWireMeterCountsBytes writes known amounts both ways over loopback and
// checks that the kernel's counters, as read by wireMeter, match exactly,
// and that a connection opened before the period is not counted.
func TestWireMeterCountsBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	const up, down = 123457, 6789
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				n := 0
				for n < up {
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					n += k
				}
				_, _ = c.Write(make([]byte, down))
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()

	before, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	if _, err := before.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}

	m, err := newWireMeter(port)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(make([]byte, up)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, down)); err != nil {
		t.Fatal(err)
	}
	// The last ACK may still be on its way: poll with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := m.sample(); err != nil {
			t.Fatal(err)
		}
		sent, received, conns := m.total()
		if sent == up && received == down && conns == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("wire meter: sent %d received %d over %d connections, want %d, %d over 1", sent, received, conns, up, down)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkTCPConnsTo is the cost of one sample of the wire meter (it runs
// every 100 ms during a round, in the bench process).
func BenchmarkTCPConnsTo(b *testing.B) {
	for b.Loop() {
		if _, err := tcpConnsTo(25); err != nil {
			b.Fatal(err)
		}
	}
}
