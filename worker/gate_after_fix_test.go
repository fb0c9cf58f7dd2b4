package worker_test

import (
	"context"
	"strings"
	"sync"
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
	retried, err := e.st.Requeue(ctx, e.name, tester, store.RetryScope{Permanent: true})
	if err != nil || int64(retried.N) != refused {
		t.Fatalf("retry --permanent re-queued %d (err %v), want the %d refused", retried.N, err, refused)
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

// TestBrokenRelayRetriedAndResumedIsPausedAgainByTheGate: the README's
// recovery (retry --permanent, resume) run while the relay is still
// broken. The retried recipients fail again; their first attempts'
// failures stand, and the batch gate pauses the campaign at the batch they
// are of: the next batch is never released into the broken relay.
//
// Before, the retry took those failures back from the gate's count as it
// re-queued them: paused by on-call mid-batch, the campaign's gate passed
// batch 0 with its refused recipients refused again, and the next batch
// went out; paused by the gate itself, the resume released the next batch
// at once, without judging the retries.
func TestBrokenRelayRetriedAndResumedIsPausedAgainByTheGate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// pausedBy: who paused batch 0 before the retry: on-call, the
		// moment refusals appear (the relay then goes on refusing the
		// recipients it refused, accepting the others), or the batch gate
		// (the relay refuses everyone throughout).
		pausedBy string
	}{
		{"on-call-mid-batch", tester.Who},
		{"batch-gate", "batch-gate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu      sync.Mutex
				refused = map[string]bool{}
				paused  atomic.Bool // the relay refuses only those it refused
			)
			e := newEnv(t, func(rcpt string) error {
				mu.Lock()
				defer mu.Unlock()
				if paused.Load() && !refused[rcpt] {
					return nil
				}
				refused[rcpt] = true
				return smtpcapture.Reject(554, "5.7.1 Relay access denied")
			})
			// Two batches of 40; the error window off (error_rate 1), the
			// batch gate at 5%. On-call's pause lands mid-batch at 10/s.
			o := opts{n: 80, size: 40, window: 20, minAtt: 10, errorRate: 1, maxFail: 0.05, maxAttempt: 1}
			if tt.pausedBy != "batch-gate" {
				o.rate = "10/s"
			}
			e.stage(t, o)
			e.startWorker(t, wopts{concurrency: 1})
			ctx := context.Background()
			if tt.pausedBy == "batch-gate" {
				e.waitState(t, 30*time.Second, store.StatePaused)
			} else {
				wait.For(t, 30*time.Second, "refusals", func() bool { return e.status(t).Counts[store.OutcomeFailed] >= 3 })
				if _, err := e.st.Pause(ctx, e.name, tester, "relay refuses"); err != nil {
					t.Fatal(err)
				}
				paused.Store(true)
				// The send in the relay's hands at the pause ends first. The
				// retry and resume follow at once: the chunk's pass may not
				// have seen the pause, and ends after the retry (its chunk
				// then stays unfinished: lua/chunk_end.lua).
				wait.For(t, 30*time.Second, "no claim without an outcome", func() bool { return e.claimed(t) == 0 })
			}
			st := e.status(t)
			if !strings.HasPrefix(st.By, tt.pausedBy) || st.CurBatch != 0 || st.Batches[0].Done == (tt.pausedBy != "batch-gate") {
				t.Fatalf("want batch 0 paused by %s (first pass complete: %v); paused by %s at batch %d (%q), batch 0 %+v",
					tt.pausedBy, tt.pausedBy == "batch-gate", st.By, st.CurBatch, st.Reason, st.Batches[0])
			}
			failed := st.Counts[store.OutcomeFailed]
			if retried, err := e.st.Requeue(ctx, e.name, tester, store.RetryScope{Permanent: true}); err != nil || int64(retried.N) != failed {
				t.Fatalf("retry --permanent re-queued %d (err %v), want the %d refused", retried.N, err, failed)
			}
			if _, err := e.st.Resume(ctx, e.name, tester, "relay fixed, we think"); err != nil {
				t.Fatal(err)
			}
			// Paused again by the gate once enough of the retried are refused
			// again that the rest cannot bring batch 0 under 5%.
			wait.For(t, 60*time.Second, "the campaign done, or paused again by its batch gate", func() bool {
				s := e.status(t)
				return s.State == store.StateDone || s.State == store.StatePaused && s.By == "batch-gate"
			})
			st = e.status(t)
			if st.State != store.StatePaused || st.CurBatch != 0 || st.Batches[1].Attempted != 0 || !strings.HasPrefix(st.Reason, "batch gate: ") {
				t.Fatalf("the retried recipients were refused again, yet the campaign is %s by %s at batch %d (%q), batch 1 attempted %d: "+
					"the gate must pause it at batch 0 and release nothing more into a relay still broken", st.State, st.By, st.CurBatch, st.Reason, st.Batches[1].Attempted)
			}
			if b := st.Batches[0]; b.Errors1 != int(failed) || (b.Errors1-b.Retried1)*20 <= b.Attempted {
				t.Errorf("batch 0: %d first-attempt errors, %d of them retried undecided; want the %d refused, over 5%% of the %d standing", b.Errors1, b.Retried1, failed, b.Attempted)
			}
			e.checkReconcile(t)
		})
	}
}

// status reads e's campaign's status.
func (e *env) status(t testing.TB) *store.Status {
	t.Helper()
	st, err := e.st.Status(context.Background(), e.name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
