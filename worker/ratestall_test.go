package worker_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRateHoldsAfterAStall: the campaign's rate is global across all
// workers, and the README (Sending semantics, Rate) states the burst over
// it: in any t seconds the relay receives at most rate x (t + 50 ms) + 20 +
// one message per connection (rates of 20/s and more). A chunk takes its
// tokens up to 20 at a time; before, it kept those it had not spent while
// its connection was stuck in a slow SMTP transaction, the limiter refilled
// meanwhile, and when the relay answered again every connection spent its
// hoard at once on top of what the limiter handed out (red team 7: 876
// messages in the first second after the stall, 560 within 200 ms, at
// 400/s). Tokens held longer than 50 ms are now dropped, not spent late.
//
// Measured at the SMTP server: rate 400/s, 3 workers x 8 connections; the
// relay stalls every RCPT for 1.5 s once 1200 messages went through; the
// bound is checked over the first 200 ms and the first second after the
// stall.
func TestRateHoldsAfterAStall(t *testing.T) {
	const (
		rate    = 400
		workers = 3
		conns   = 8
		bulk    = 20 // min(20, rate/20): the limiter's burst
	)
	var (
		stalled atomic.Bool
		blocked atomic.Int64
		release = make(chan struct{})
		once    sync.Once
	)
	e := newEnv(t, func(string) error {
		if stalled.Load() {
			blocked.Add(1)
			<-release
		}
		return nil
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	e.stage(t, opts{n: 6000, size: 6000, rate: "400/s"})
	for i := 0; i < workers; i++ {
		e.startWorker(t, wopts{concurrency: conns})
	}
	wait.For(t, 60*time.Second, "1200 messages at the steady rate", func() bool { return e.smtp.Count() >= 1200 })
	stalled.Store(true)
	stallAt := time.Now()
	// Every connection ends up waiting on the relay (one that was waiting
	// for tokens gets the burst the limiter refilled, and blocks at its
	// first RCPT).
	wait.For(t, 30*time.Second, "every connection to wait on the stalled relay", func() bool { return blocked.Load() >= workers*conns })
	time.Sleep(1500*time.Millisecond - time.Since(stallAt))
	before := e.smtp.Count()
	stalled.Store(false)
	t0 := time.Now()
	once.Do(func() { close(release) })
	wait.For(t, 60*time.Second, "sending to go on for 2 s after the stall", func() bool { return time.Since(t0) > 2*time.Second })
	in := func(d time.Duration) int {
		n := 0
		for _, m := range e.smtp.Messages() {
			if !m.At.Before(t0) && m.At.Before(t0.Add(d)) {
				n++
			}
		}
		return n
	}
	// bound is the README's: rate x (t + 50 ms) + bulk + one message in
	// flight per connection (its transaction began before the interval).
	bound := func(d time.Duration) int { return int(rate*(d+50*time.Millisecond).Seconds()) + bulk + workers*conns }
	t.Logf("before the stall's end: %d messages; after it: %d within 200 ms, %d within 1 s, %d within 2 s", before, in(200*time.Millisecond), in(time.Second), in(2*time.Second))
	for _, d := range []time.Duration{200 * time.Millisecond, time.Second} {
		if got, want := in(d), bound(d); got > want {
			t.Errorf("the SMTP server received %d messages in the first %v after a 1.5 s stall, want at most %d (rate %d/s x (%v + 50 ms) + burst %d + one in flight per connection, %d): connections spent rate tokens they held through the stall",
				got, d, want, rate, d, bulk, workers*conns)
		}
	}
	// The claims a connection held while its tokens ran out wait for new
	// tokens: sent once, later, neither failed nor in doubt.
	for addr, c := range e.received() {
		if c > 1 {
			t.Errorf("%s received %d messages", addr, c)
		}
	}
	st, err := e.st.Status(t.Context(), e.name)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Counts[store.OutcomeFailed] + st.Counts[store.OutcomeInDoubt]; n > 0 {
		t.Errorf("%d recipients failed or in doubt, want none: %v", n, st.Counts)
	}
}
