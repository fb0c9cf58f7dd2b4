package worker_test

import (
	"context"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRateHoldsAcrossPauseResumeAndAStallWithTwoWorkers: README, Sending
// semantics, Rate: "rate: is global across all workers"; "over any t
// seconds, the relay receives at most rate × (t + 50 ms) + bulk + C
// messages". At 20/s (bulk 1) with 2 workers of 4 connections (C = 8),
// any 2 s hold at most 20 × 2.05 + 1 + 8 = 50. Counted at the SMTP
// server over the whole campaign, through a pause and resume and a 1.5 s
// stall of the relay; a limit broken per worker would give about 80.
func TestRateHoldsAcrossPauseResumeAndAStallWithTwoWorkers(t *testing.T) {
	t.Parallel()
	const (
		rate  = 20
		n     = 260
		win   = 2 * time.Second
		bound = rate*2.05 + 1 + 8
	)
	var stall atomic.Bool
	release := make(chan struct{})
	e := newEnv(t, func(string) error {
		if stall.Load() {
			<-release
		}
		return nil
	})
	e.stage(t, opts{n: n, size: n, rate: "20/s"})
	e.startWorker(t, wopts{concurrency: 4})
	e.startWorker(t, wopts{concurrency: 4})
	ctx := context.Background()
	wait.For(t, 60*time.Second, "60 messages", func() bool { return e.smtp.Count() >= 60 })
	if _, err := e.st.Pause(ctx, e.name, tester, "rate test"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the limiter refills meanwhile
	if _, err := e.st.Resume(ctx, e.name, tester, "rate test"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 60*time.Second, "140 messages", func() bool { return e.smtp.Count() >= 140 })
	stall.Store(true)
	time.Sleep(1500 * time.Millisecond)
	stall.Store(false)
	close(release)
	e.waitState(t, 90*time.Second, store.StateDone)
	e.checkReconcile(t)
	var at []time.Time
	for _, m := range e.smtp.Messages() {
		at = append(at, m.At)
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	most, j := 0, 0
	for i := range at {
		for at[i].Sub(at[j]) >= win {
			j++
		}
		most = max(most, i-j+1)
	}
	t.Logf("at most %d messages in any %s (bound %.0f), %d in all", most, win, bound, len(at))
	if float64(most) > bound {
		t.Errorf("%d messages within %s at rate %d/s with 2 workers of 4 connections; the README's bound is %.0f", most, win, rate, bound)
	}
}
