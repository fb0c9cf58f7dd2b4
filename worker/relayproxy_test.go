package worker_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Modes of a relayProxy.
const (
	modeProxy    = iota // pass the connection on to the capture server
	modeGreet421        // "421" as the greeting, then close
	modeAuth535         // greet, offer AUTH PLAIN, refuse every AUTH with 535
	modeTLS454          // greet, offer STARTTLS, refuse it with 454
)

// relayProxy stands in front of a capture server and misbehaves on
// demand: it is what the workers dial. A real TCP listener, speaking SMTP
// itself when it misbehaves.
type relayProxy struct {
	ln    net.Listener
	to    string
	mode  atomic.Int32
	conns atomic.Int64 // connections accepted
	mu    sync.Mutex
	open  map[net.Conn]struct{}
}

func startRelayProxy(t testing.TB, to string) *relayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &relayProxy{ln: ln, to: to, open: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); p.kill() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			go p.serve(c)
		}
	}()
	return p
}

func (p *relayProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// kill closes every proxied connection (a relay restarting).
func (p *relayProxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.open {
		c.Close()
	}
	clear(p.open)
}

func (p *relayProxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.open[c] = struct{}{}
	}
}

func (p *relayProxy) serve(c net.Conn) {
	defer c.Close()
	switch p.mode.Load() {
	case modeGreet421:
		io.WriteString(c, "421 4.3.2 relay.example Service not available, closing transmission channel\r\n")
		return
	case modeAuth535, modeTLS454:
		br := bufio.NewReader(c)
		io.WriteString(c, "220 relay.example ESMTP\r\n")
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"):
				io.WriteString(c, "250-relay.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-STARTTLS\r\n250-AUTH PLAIN\r\n250 ENHANCEDSTATUSCODES\r\n")
			case strings.HasPrefix(cmd, "STARTTLS"):
				io.WriteString(c, "454 4.7.0 TLS not available due to local problem\r\n")
			case strings.HasPrefix(cmd, "AUTH"):
				io.WriteString(c, "535 5.7.8 Error: authentication failed: credentials revoked\r\n")
			case strings.HasPrefix(cmd, "QUIT"):
				io.WriteString(c, "221 2.0.0 Bye\r\n")
				return
			case strings.HasPrefix(cmd, "MAIL"):
				io.WriteString(c, "530 5.7.0 Authentication required\r\n")
			default:
				io.WriteString(c, "503 5.5.1 Error: authentication required\r\n")
			}
		}
	}
	s, err := net.Dial("tcp", p.to)
	if err != nil {
		return
	}
	defer s.Close()
	p.track(c, s)
	done := make(chan struct{}, 2)
	go func() { io.Copy(s, c); s.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, s); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}
