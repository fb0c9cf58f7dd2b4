package e2e

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// blackholeTimeoutVar sets TestBlackhole's smtp.timeout (default 1s): the
// measurement in docs/benchmarks.md runs it at the default 30s and at 5s.
const blackholeTimeoutVar = "TIDINGS_E2E_BLACKHOLE_TIMEOUT"

// TestBlackhole runs the real binary's worker, at the campaign defaults
// (auto_pause.min_attempts 20; retry 5 attempts, 30 s backoff; one chunk
// of 150 recipients), against a relay that accepts TCP connections and
// never writes a byte. Each connection the worker opens costs one
// recipient one attempt (deferred for a retry, counted by the auto-pause),
// and no other recipient stays claimed: the campaign pauses itself after
// min_attempts connections, with nobody claimed, in doubt or failed.
// Counted, not timed; it logs how long the auto-pause took (the figure in
// docs/benchmarks.md and README, "A relay that never answers").
func TestBlackhole(t *testing.T) {
	t.Parallel()
	const (
		name        = "e2e-blackhole"
		n           = 150
		minAttempts = 20 // the default
	)
	timeout := time.Second
	if v := os.Getenv(blackholeTimeoutVar); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s=%q: %v: give a duration such as 30s", blackholeTimeoutVar, v, err)
		}
		timeout = d
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var (
		mu    sync.Mutex
		dials int
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			dials++
			mu.Unlock()
			go func() { // never writes; reads until the worker gives up
				defer c.Close()
				var buf [512]byte
				for {
					if _, err := c.Read(buf[:]); err != nil {
						return
					}
				}
			}()
		}
	}()

	e := newEnv(t, ln.Addr().(*net.TCPAddr).Port, 4)
	e.extra = append(e.extra, "TIDINGS_SMTP_TIMEOUT="+timeout.String())
	rows := simpleRows(n, acceptedLocales)
	e.stageSimple(campaignSpec{name: name, size: 500}, rows)
	start := time.Now()
	w := e.startWorker("worker", 4)
	var st status
	wait.For(t, 40*timeout+time.Minute, "the auto-pause", func() bool {
		if done, err := w.exited(); done {
			t.Fatalf("the worker exited (%v):\n%s", err, tail(w.log, 4000))
		}
		st = e.status(name)
		return st.State == "paused"
	})
	took := time.Since(start)
	mu.Lock()
	got := dials
	mu.Unlock()
	t.Logf("smtp.timeout %s: auto-paused %.1f s after the worker started (%.2f timeouts), %d connections", timeout, took.Seconds(), float64(took)/float64(timeout), got)

	if !strings.HasPrefix(st.Reason, "auto-pause") {
		t.Errorf("paused with reason %q, want the auto-pause's", st.Reason)
	}
	if st.Counts["in-doubt"] != 0 || st.Counts["failed"] != 0 || st.Counts["sent"] != 0 {
		t.Errorf("counts %v: want nobody sent, failed or in doubt (nothing was sent; retries remain)", st.Counts)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id()
	}
	es, err := store.New(e.redis.Client()).Entries(context.Background(), name, ids)
	if err != nil {
		t.Fatal(err)
	}
	attempts, claimed := 0, 0
	for _, en := range es {
		attempts += en.Attempts
		if en.Sending() {
			claimed++
		}
	}
	if attempts != minAttempts || got != minAttempts || claimed != 0 {
		t.Errorf("%d attempts recorded, %d connections, %d recipients still claimed; want %d, %d, 0: one attempt a connection, nobody claimed once paused",
			attempts, got, claimed, minAttempts, minAttempts)
	}
}
