package worker_test

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// blackhole is an SMTP server that accepts TCP connections and never
// answers: no greeting, no reply, until the client gives up.
type blackhole struct {
	ln       net.Listener
	mu       sync.Mutex
	open     int // connections accepted and not closed by the client yet
	most     int // the most open at once
	accepted int
}

func startBlackhole(t testing.TB) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.open++
			b.accepted++
			b.most = max(b.most, b.open)
			b.mu.Unlock()
			go func() {
				defer c.Close()
				var buf [512]byte
				for {
					if _, err := c.Read(buf[:]); err != nil {
						break
					}
				}
				b.mu.Lock()
				b.open--
				b.mu.Unlock()
			}()
		}
	}()
	return b
}

func (b *blackhole) counts() (open, most, accepted int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open, b.most, b.accepted
}

func (b *blackhole) smtp(timeout time.Duration) *send.Config {
	a := b.ln.Addr().(*net.TCPAddr)
	return &send.Config{Host: "127.0.0.1", Port: a.Port, TLS: send.TLSNone, Timeout: timeout}
}

// TestBlackholeRelay (red team 28): an SMTP server that accepts TCP
// connections and never answers (no greeting) made a running campaign look
// healthy: every deferred retry moved the campaign's last progress, so
// status never said NO PROGRESS, the no-progress notification never fired,
// and the ETA was worked out at the campaign's rate while nothing
// completed. Now (b): a deferral is not progress: with only deferrals the
// last progress stays unset, Stalled counts from when recipients became
// due, and the ETA says it waits for an outcome instead of a number.
// (a): the worker's connections are dialled at once, each by its own chunk:
// the listener holds as many accepted, silent connections as the worker's
// concurrency (counted there, not timed).
func TestBlackholeRelay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// 8 chunks of 50, a rate (whose ETA would be invented), retries that
	// never run out and an auto-pause that cannot trip before the test
	// ends: only deferrals happen.
	e.stage(t, opts{n: 400, size: 400, chunk: 50, rate: "20/s", maxAttempt: 100, backoff: "100ms", window: 400, minAtt: 400, errorRate: 1})
	b := startBlackhole(t)
	e.startWorker(t, wopts{concurrency: 4, smtp: b.smtp(300 * time.Millisecond)})

	// (a) Four chunks, four connections accepted and silent at once.
	wait.For(t, 60*time.Second, "4 silent connections at once at the blackhole", func() bool { _, most, _ := b.counts(); return most >= 4 })
	if _, most, _ := b.counts(); most > 4 {
		t.Errorf("%d connections open at once, above the worker's 4", most)
	}

	// (b) Deferrals only: no progress, no ETA.
	ctx := t.Context()
	var st *store.Status
	wait.For(t, 60*time.Second, "deferrals and an ETA that waits for an outcome", func() bool {
		var err error
		st, err = e.st.Status(ctx, e.name)
		if err != nil {
			t.Fatal(err)
		}
		return st.Retries >= 8 && st.ETAWaitsFor != ""
	})
	if st.State != store.StateRunning {
		t.Fatalf("state %s, want running (nothing may end the test's campaign)", st.State)
	}
	if st.Counts[store.OutcomePending] != st.Total {
		t.Fatalf("counts %v: a recipient reached an outcome, want all pending (deferred)", st.Counts)
	}
	if !st.LastProgress.IsZero() {
		t.Errorf("last progress %v after only deferrals (%d waiting): a deferral is not progress", st.LastProgress, st.Retries)
	}
	if got := st.Stalled(); got.IsZero() || !got.Equal(st.DueSince) {
		t.Errorf("Stalled() = %v, want since recipients were due (%v)", got, st.DueSince)
	}
	if st.ETAWaitsFor != store.ETAWaitsForOutcome || st.ETASeconds != 0 {
		t.Errorf("ETA %v s, waits for %q; want no number and %q", st.ETASeconds, st.ETAWaitsFor, store.ETAWaitsForOutcome)
	}
	if st.Rate != 0 {
		t.Errorf("rate %v msg/s, want 0: no recipient reached an outcome", st.Rate)
	}
}
