package worker_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/worker"
)

// gatedRelay is a TCP listener that hands each connection it accepts to
// the test (conns) and does nothing with it: the worker's dial waits for a
// greeting until the test acts (closes it, or serves it).
type gatedRelay struct {
	ln    net.Listener
	conns chan net.Conn
}

func startGatedRelay(t *testing.T) *gatedRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedRelay{ln: ln, conns: make(chan net.Conn, 64)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			g.conns <- c
		}
	}()
	return g
}

func (g *gatedRelay) smtp(timeout time.Duration) *send.Config {
	a := g.ln.Addr().(*net.TCPAddr)
	return &send.Config{Host: "127.0.0.1", Port: a.Port, TLS: send.TLSNone, Timeout: timeout}
}

// greetThenClose serves c as a relay that dies after its greeting: it
// greets, answers EHLO, and closes the connection when MAIL FROM comes
// (nothing of a message is ever accepted).
func greetThenClose(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	if _, err := fmt.Fprint(c, "220 gated.test ESMTP\r\n"); err != nil {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if len(line) >= 4 && (line[:4] == "EHLO" || line[:4] == "HELO") {
			fmt.Fprint(c, "250 gated.test\r\n")
			continue
		}
		return // MAIL FROM (or anything else): the relay dies
	}
}

// TestConnectionFailureGivesBackTheWindow: a connection that cannot be
// dialled or greeted, or that dies after its greeting, costs the campaign
// one attempt (one recipient, deferred for a retry, counted by the
// auto-pause) and holds no other claim: the rest of its window of claims
// is given back at once (pending again, not failed, not in doubt: nothing
// was sent), and the next dial is made before any recipient is claimed.
// Before, a window's claims (16) stayed claimed while each of them waited
// for a dial of its own: against a relay that never answers, up to 16
// SMTP timeouts, and a worker killed meanwhile left them all in doubt.
//
// Counted, not timed: the relay's connections (dials), the claims the
// worker's journal holds (claimed and unclaimed lines), the recipients
// with an attempt recorded, the claims held while a dial waits for its
// greeting (the gated rows stop each dial until the test has counted
// them), and the campaign's state at the end (auto-paused after
// min_attempts failures, nobody claimed, nobody in doubt).
func TestConnectionFailureGivesBackTheWindow(t *testing.T) {
	t.Parallel()
	const minAtt = 5
	tests := []struct {
		name string
		// relay starts the relay and returns the worker's SMTP settings,
		// its dial count, and serve, which the test calls with each
		// connection (nil: the relay is not gated).
		relay func(t *testing.T) (cfg *send.Config, dials func() int, gated chan net.Conn, serve func(net.Conn))
		// window is how many recipients each attempt claims: 1 when the
		// dial before the claims failed, the claim window when the relay
		// greeted and died later.
		window int
	}{
		{
			name: "blackhole: no greeting, every dial times out",
			relay: func(t *testing.T) (*send.Config, func() int, chan net.Conn, func(net.Conn)) {
				b := startBlackhole(t)
				return b.smtp(300 * time.Millisecond), func() int { _, _, n := b.counts(); return n }, nil, nil
			},
			window: 1,
		},
		{
			name: "no greeting, the connection closed",
			relay: func(t *testing.T) (*send.Config, func() int, chan net.Conn, func(net.Conn)) {
				g := startGatedRelay(t)
				return g.smtp(time.Minute), nil, g.conns, func(c net.Conn) { c.Close() }
			},
			window: 1,
		},
		{
			name: "greets, then dies at MAIL FROM",
			relay: func(t *testing.T) (*send.Config, func() int, chan net.Conn, func(net.Conn)) {
				g := startGatedRelay(t)
				return g.smtp(time.Minute), nil, g.conns, func(c net.Conn) { go greetThenClose(c) }
			},
			window: worker.DefaultClaimWindow,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			// One chunk of 60; retries an hour away (none runs during the
			// test); the auto-pause after minAtt failures.
			e.stage(t, opts{n: 60, size: 500, errorRate: 0.5, window: 200, minAtt: minAtt, maxAttempt: 5, backoff: "1h"})
			cfg, dials, gated, serve := tt.relay(t)
			dir := t.TempDir()
			stop := e.startWorker(t, wopts{concurrency: 4, smtp: cfg, journal: dir})

			var held []int // claims held at each gated dial
			deadline := time.After(2 * time.Minute)
			for e.state(t) != store.StatePaused {
				select {
				case c := <-gated:
					held = append(held, e.claimed(t))
					serve(c)
				case <-time.After(20 * time.Millisecond):
				case <-deadline:
					t.Fatalf("no auto-pause within 2 minutes; claims held at each dial %v; status %+v", held, e.status(t))
				}
			}
			// The connections the worker opened once the campaign paused
			// (none expected) are counted too.
			for len(gated) > 0 {
				c := <-gated
				held = append(held, e.claimed(t))
				c.Close()
			}
			n := len(held)
			if dials != nil {
				n = dials()
			}

			st := e.status(t)
			if st.Action != "auto-pause" {
				t.Errorf("paused by %q (%s), want the auto-pause", st.Action, st.Reason)
			}
			if got := e.claimed(t); got != 0 {
				t.Errorf("%d recipients claimed after the auto-pause, want 0", got)
			}
			if got := st.Counts[store.OutcomeInDoubt]; got != 0 {
				t.Errorf("%d recipients in doubt, want 0: nothing was sent", got)
			}
			if got := e.received(); len(got) != 0 {
				t.Errorf("the capture server received %v, want nothing", got)
			}
			attempts := 0
			for _, en := range e.entries(t) {
				attempts += en.Attempts
			}
			if attempts != minAtt || st.Retries != minAtt {
				t.Errorf("%d attempts recorded, %d recipients waiting for a retry; want %d of each (one per failed connection, up to min_attempts)", attempts, st.Retries, minAtt)
			}
			if n != minAtt {
				t.Errorf("%d connections dialled, want %d: one attempt per connection, none once the auto-pause is recorded", n, minAtt)
			}
			for i, h := range held {
				if h != 0 {
					t.Errorf("dial %d waited for its greeting with %d recipients claimed, want 0 (claims held: %v)", i+1, h, held)
					break
				}
			}
			stop() // its journal is flushed
			claimed, unclaimed := journalLines(t, dir, e.name)
			if claimed != minAtt*tt.window || unclaimed != minAtt*(tt.window-1) {
				t.Errorf("journal: %d claims, %d given back; want %d and %d (%d claimed per connection, all but the one attempted given back)",
					claimed, unclaimed, minAtt*tt.window, minAtt*(tt.window-1), tt.window)
			}
		})
	}
}

// journalLines counts the claimed and unclaimed lines of campaign c in the
// journal directory dir, as written (journal.Read resolves them).
func journalLines(t *testing.T, dir, c string) (claimed, unclaimed int) {
	t.Helper()
	files, err := journal.Files(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		for line := range bytes.Lines(b) {
			var e struct {
				Outcome string `json:"outcome"`
			}
			if err := json.Unmarshal(line, &e); err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			switch e.Outcome {
			case journal.OutcomeClaimed:
				claimed++
			case journal.OutcomeUnclaimed:
				unclaimed++
			}
		}
	}
	return claimed, unclaimed
}
