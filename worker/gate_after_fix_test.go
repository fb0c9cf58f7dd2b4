package worker_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestFixedRelayResumedDoesNotPauseAgainForTheOldFailures: the
// recovery the README gives on-call for a relay that refused everyone.
//
// README (On-call, "Everyone refused because of us"): "every recipient gets
// a 5xx reply ... recorded failed until the campaign pauses itself ... Once
// the cause is fixed, `tidings retry CAMPAIGN --env ENV --permanent`
// re-queues them as well ... then `resume`." README (Automatic pauses):
// "Resume starts the window afresh: the campaign can pause itself again
// only after min_attempts new attempts." README (On-call, Act): "Resume:
// continues where it stopped."
//
// What happened (red team 14d): the relay refuses the first attempts of batch 0 (554 5.7.1
// Relay access denied) until the error window pauses the campaign; the
// relay is fixed, `retry --permanent` re-queues the refused, `resume`.
// From then on every attempt is accepted: no new failure at all. When batch
// 0's first pass completes, its batch gate counts the first attempts made
// before the fix (the refused ones, since delivered) and pauses the campaign
// again, "batch gate: N of the 40 first attempts in batch 0 failed ...,
// last error: 554 5.7.1 Relay access denied", with a second "paused
// automatically" notification: on-call is paged again at 2 a.m. for the
// fault they fixed and resumed from, and must resume a second time.
//
// Fixed: a retry takes back from errors1 the failed first attempts it
// re-queues (lua/sweep_chunk.lua). The cause, as guessed: lua/tick.lua:56-59 (the gate of a batch
// whose first pass completes after a resume counts errors1 from before it;
// a resume resets the window, lua/transition.lua:62, but nothing the gate
// counts), with lua/step.lua:300-306 and lua/sweep_chunk.lua:50-54 (errors1
// is never taken back when retry --permanent re-queues a failed first
// attempt that is then sent).
func TestFixedRelayResumedDoesNotPauseAgainForTheOldFailures(t *testing.T) {
	t.Parallel()
	var fixed atomic.Bool
	e := newEnv(t, func(string) error {
		if fixed.Load() {
			return nil
		}
		return smtpcapture.Reject(554, "5.7.1 Relay access denied")
	})
	// Two batches of 40; the window (20 attempts, at least 10, 50%) and
	// the batch gate (5%) as a production campaign would have them.
	e.stage(t, opts{n: 80, size: 40, window: 20, minAtt: 10, errorRate: 0.5, maxFail: 0.05, maxAttempt: 1})
	e.startWorker(t, wopts{concurrency: 1})
	ctx := context.Background()
	e.waitState(t, 30*time.Second, store.StatePaused)
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.Reason, "auto-pause: error rate") || st.Batches[0].Done {
		t.Fatalf("want the error window to pause batch 0 before its first pass completed; reason %q, batch 0 %+v", st.Reason, st.Batches[0])
	}
	refused := st.Counts[store.OutcomeFailed]

	// The relay is fixed; the README's recovery.
	fixed.Store(true)
	n, err := e.st.Retry(ctx, e.name, tester, store.RetryScope{Permanent: true})
	if err != nil || int64(n) != refused {
		t.Fatalf("retry --permanent re-queued %d (err %v), want the %d refused", n, err, refused)
	}
	if _, err := e.st.Resume(ctx, e.name, tester, "relay fixed"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 60*time.Second, "the campaign done or paused again", func() bool {
		s := e.state(t)
		return s == store.StateDone || s == store.StatePaused
	})
	st, err = e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != store.StateDone {
		t.Errorf("after the relay was fixed, the refused re-queued and the campaign resumed, every attempt succeeded, yet it is %s again by %s: %q "+
			"(counts %v): it paused itself with no new failure, for the %d refusals already fixed and since delivered",
			st.State, st.By, st.Reason, st.Counts, refused)
	}
	e.checkReconcile(t)
}
