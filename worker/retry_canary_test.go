package worker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRetriedCanaryIsSentBeforeTheApproval: with approve_after_canary,
// the relay refused one canary recipient (554 5.7.1, for good) and the
// campaign awaits approval. The relay fixed, `retry --permanent`
// re-queues him: before, the campaign stayed awaiting approval, where
// nothing is claimed, so he was never attempted, and approve was
// accepted with him undelivered. Now the retry moves the campaign back to
// running its canary; a real worker sends him (the relay holds his
// message while approve is tried: refused, 1 waiting), the campaign
// awaits approval again by itself, and only then is approve accepted;
// batch 1 goes after it.
func TestRetriedCanaryIsSentBeforeTheApproval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	refused := email(0, "de") // in the canary: the first of its language
	var fixed atomic.Bool
	held, hold := make(chan string, 1), make(chan struct{})
	var released atomic.Bool
	release := func() {
		if released.CompareAndSwap(false, true) {
			close(hold)
		}
	}
	t.Cleanup(release)
	e := newEnv(t, func(rcpt string) error {
		switch {
		case rcpt != refused:
			return nil
		case !fixed.Load():
			return smtpcapture.Reject(554, "5.7.1 Relay access denied")
		}
		select { // his retry: held until the test releases it
		case held <- rcpt:
		default:
		}
		<-hold
		return nil
	})
	const canary, n = 6, 30 // one per language, then batch 1 of 24
	e.stage(t, opts{n: n, canary: 1, size: 500, approve: true, maxAttempt: 1, errorRate: 1, maxFail: 1})
	e.startWorker(t, wopts{concurrency: 2})
	e.waitState(t, 30*time.Second, store.StateAwaitingApproval)
	if got := e.received(); len(got) != canary-1 || got[refused] != 0 {
		t.Fatalf("canary: %v; want %d delivered, %s refused", got, canary-1, refused)
	}

	fixed.Store(true)
	r, err := e.st.Requeue(ctx, e.name, tester, store.RetryScope{Permanent: true})
	if err != nil || r.N != 1 || r.Canary != 1 || !r.Rerun || r.State != store.StateRunning {
		t.Fatalf("retry --permanent: %+v, %v; want him re-queued, the campaign back to running its canary", r, err)
	}
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatalf("the re-queued canary recipient was not attempted (state %s)", e.state(t))
	}
	_, err = e.st.Approve(ctx, e.name, "", false, tester, "canary checked")
	if te := (*store.TransitionError)(nil); !errors.As(err, &te) || te.PausedFor != store.CanaryRunning || te.Waiting != 1 {
		t.Fatalf("approve while the re-queued canary recipient is being sent: %v; want refused as %s, 1 waiting", err, store.CanaryRunning)
	}
	release()
	e.waitState(t, 30*time.Second, store.StateAwaitingApproval)
	if got := e.received(); len(got) != canary || got[refused] != 1 {
		t.Fatalf("awaiting approval again: received %v; want the whole canary (%d), %s once, nothing of batch 1", got, canary, refused)
	}
	if _, err := e.st.Approve(ctx, e.name, "", false, tester, "canary checked"); err != nil {
		t.Fatalf("approve of the canary delivered after its retry: %v", err)
	}
	wait.For(t, 30*time.Second, "the campaign done", func() bool { return e.state(t) == store.StateDone })
	if st := e.checkReconcile(t); st.Counts[store.OutcomeSent] != n {
		t.Errorf("counts %v; want all %d sent", st.Counts, n)
	}
}
