package worker_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// churnEnv is a campaign sent by workers sharing one journal directory
// through a relay that greylists every third recipient's first attempt,
// always defers every tenth recipient (until hard is cleared: they end
// failed, for a retry), and refuses every thirteenth for good; on a Redis
// with AOF (deploy/redis.conf), which a crash of redis-server loses
// nothing of.
type churnEnv struct {
	*env
	r    *redistest.Redis
	hard atomic.Bool
	ops  store.Actor
}

func newChurnEnv(t *testing.T) *churnEnv {
	t.Helper()
	ce := &churnEnv{ops: store.Actor{Who: "ops"}}
	ce.hard.Store(true)
	var seen sync.Map
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{Fault: func(rcpt string) error {
		var i int
		if _, err := fmtSscanf(rcpt, &i); err != nil {
			return nil
		}
		switch {
		case i%13 == 5:
			return smtpReject(550, "no such user")
		case i%10 == 1 && ce.hard.Load():
			return smtpReject(451, "try again later")
		case i%3 == 0:
			if _, again := seen.LoadOrStore(rcpt, true); !again {
				return smtpReject(451, "greylisted, try again later")
			}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ce.r = redistest.StartServer(t, "../deploy/redis.conf")
	rdb := ce.r.Client()
	ce.env = &env{rdb: rdb, st: store.New(rdb), smtp: srv, byLang: map[string]int{}}
	return ce
}

// noStateLoss fails the test when the campaign was ever paused for state
// loss (or refused), with its audit.
func (ce *churnEnv) noStateLoss(t *testing.T) {
	t.Helper()
	s, err := ce.st.Status(context.Background(), ce.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range s.Audit {
		if a.Action == "state-loss" || a.Action == "refuse" || a.Action == "journal" {
			t.Fatalf("FALSE PAUSE on a healthy Redis: %s by %s: %s", a.Action, a.Who, a.Reason)
		}
	}
}

// churn pauses and resumes the campaign n times at random moments while
// it sends (resuming an auto-pause too), calling at(i) between the pause
// and the resume of round i.
func (ce *churnEnv) churn(t *testing.T, n int, at func(i int)) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		time.Sleep(time.Duration(50+rand.IntN(300)) * time.Millisecond)
		ce.noStateLoss(t)
		if _, err := ce.st.Pause(ctx, ce.name, ce.ops, "churn"); err != nil && !strings.Contains(err.Error(), "done") {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(250)) * time.Millisecond)
		if at != nil {
			at(i)
		}
		ce.resume(t)
	}
}

// resume resumes the campaign unless it is done.
func (ce *churnEnv) resume(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	s, err := ce.st.Status(ctx, ce.name)
	if err != nil {
		t.Fatal(err)
	}
	if s.State == store.StatePaused {
		if _, err := ce.st.Resume(ctx, ce.name, ce.ops, ""); err != nil {
			ce.noStateLoss(t)
			t.Fatal(err)
		}
	}
}

// finish waits for the campaign to be done, resuming auto-pauses, and
// fails on a state-loss pause.
func (ce *churnEnv) finish(t *testing.T) {
	t.Helper()
	wait.For(t, 120*time.Second, "the campaign to be done", func() bool {
		ce.noStateLoss(t)
		s, err := ce.st.Status(context.Background(), ce.name)
		if err != nil {
			return false
		}
		if s.State == store.StatePaused && s.Action == "auto-pause" {
			ce.resume(t)
		}
		return s.State == store.StateDone
	})
	ce.noStateLoss(t)
}

// TestRedTeamChurnNoFalseStateLoss: a healthy Redis (AOF) and three
// workers over time sharing one journal directory; the campaign is paused
// and resumed 16 times while it sends (each resume runs the new verify on
// every worker while the others are mid-window), one worker is replaced
// by a new one mid-campaign, redis-server is killed and restarted (AOF:
// nothing lost, but another run id, so verify runs again), greylisted
// recipients are retried automatically, and a `retry` re-sends the
// recipients whose attempts ran out. Nobody may receive two messages and
// no pause for state loss may happen.
func TestRedTeamChurnNoFalseStateLoss(t *testing.T) {
	t.Parallel()
	ce := newChurnEnv(t)
	ce.stage(t, opts{n: 3000, size: 500, rate: "600/s", maxAttempt: 2, backoff: "300ms", errorRate: 0.6, window: 100, minAtt: 50, maxFail: 1})
	dir := t.TempDir()
	ce.startWorker(t, wopts{journal: dir, id: "w1"})
	stop2 := ce.startWorker(t, wopts{journal: dir, id: "w2"})
	ce.churn(t, 16, func(i int) {
		switch i {
		case 5:
			stop2()
			ce.startWorker(t, wopts{journal: dir, id: "w3"})
		case 9:
			if err := ce.r.Restart(context.Background(), false); err != nil {
				t.Fatal(err)
			}
		}
	})
	ce.finish(t)
	s, _ := ce.st.Status(context.Background(), ce.name)
	t.Logf("done: %v", s.Counts)
	ce.hard.Store(false)
	retried, err := ce.st.Requeue(context.Background(), ce.name, ce.ops, store.RetryScope{})
	if err != nil || retried.N == 0 {
		t.Fatalf("retry: %d, %v", retried.N, err)
	}
	ce.churn(t, 3, nil)
	ce.finish(t)
	s, _ = ce.st.Status(context.Background(), ce.name)
	t.Logf("after the retry (%d re-queued): %v", retried.N, s.Counts)
	ce.checkReconcile(t)
}

// TestRedTeamRestagedWithChangedFile: cancel mid-send and stage the same
// run again (send --resume-existing) from a file with its last 1,000 rows
// removed (some delivered, some claimed, some failed), churn, cancel and
// stage the whole file again (the removed rows back), churn to the end.
// The journals hold deliveries of three stagings of one run; verify reads
// them all. No pause for state loss, nobody mailed twice.
func TestRedTeamRestagedWithChangedFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ce := newChurnEnv(t)
	o := opts{n: 3000, size: 500, rate: "600/s", maxAttempt: 2, backoff: "300ms", errorRate: 0.6, window: 100, minAtt: 50, maxFail: 1}
	ce.stage(t, o)
	dir := t.TempDir()
	ce.startWorker(t, wopts{journal: dir, id: "w1"})
	ce.startWorker(t, wopts{journal: dir, id: "w2"})
	ce.churn(t, 3, nil)
	wait.For(t, 3*time.Minute, "1,500 messages", func() bool { return ce.smtp.Count() >= 1500 })
	for round, n := range []int{2000, 3000} {
		if _, _, err := ce.st.Cancel(ctx, ce.name, ce.ops, "wrong file"); err != nil {
			t.Fatal(err)
		}
		o.n, o.resume = n, true
		ce.stage(t, o)
		ce.noStateLoss(t)
		ce.churn(t, 4, nil)
		if round == 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	ce.finish(t)
	twice := 0
	for addr, n := range ce.received() {
		if n > 1 {
			twice++
			t.Errorf("%s received %d messages", addr, n)
		}
	}
	s, _ := ce.st.Status(ctx, ce.name)
	t.Logf("done: %v; %d messages, %d twice", s.Counts, ce.smtp.Count(), twice)
}
