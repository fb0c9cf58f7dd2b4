package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// canaryOf returns the recipients of c's canary (batch 0).
func canaryOf(t *testing.T, st *store.Store, c string) []store.Recipient {
	t.Helper()
	return batchOf(t, st, c, 0)
}

// endCanary ends the chunks of c's canary, as workers do after its first
// pass.
func endCanary(t *testing.T, st *store.Store, c string, sum *store.StageSummary) {
	t.Helper()
	meta, err := st.Meta(context.Background(), c, false)
	if err != nil {
		t.Fatal(err)
	}
	for ch := meta.Batches[0].First; ch <= meta.Batches[0].Last; ch++ {
		if _, err := st.EndChunk(context.Background(), c, sum.Stage, 0, ch, true); err != nil {
			t.Fatal(err)
		}
	}
}

// attemptCanary stages c (a canary of 9: 3 per language), releases its
// canary with p, attempts each of its recipients as kinds says, in order,
// and ends its chunks, as workers do after its first pass.
func attemptCanary(t *testing.T, st *store.Store, c string, p store.TickParams, kinds []store.Kind) *store.StageSummary {
	t.Helper()
	sum := stage(t, st, c, stageOpts{n: 18, canary: 3, size: 6})
	if r := tick(t, st, c, sum, p); r.Code != store.TickReleased {
		t.Fatalf("first tick %+v", r)
	}
	canary := canaryOf(t, st, c)
	if len(canary) != len(kinds) {
		t.Fatalf("canary of %d, want %d", len(canary), len(kinds))
	}
	l := st.Ledger(c, sum.Stage)
	for i, r := range canary {
		attempt(t, l, r, kinds[i], store.Policy{MaxAttempts: 3}, time.Now())
	}
	endCanary(t, st, c, sum)
	return sum
}

// TestApproveRefusedWhileCanaryRetries (red team): with
// approve_after_canary, SMTP down, all 9 canary recipients failed
// temporarily and the batch gate paused the campaign; approve was
// accepted although nobody of the canary had been delivered. README.md
// (7. Approve the canary) refuses "an approval while the canary is still
// being sent": a canary whose recipients wait for a retry is. The refusal
// says how many wait and the last error; a canary whose recipients all
// have a final outcome, and an approval in advance, are approved as
// before.
func TestApproveRefusedWhileCanaryRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	sent, temp, failed, doubt := store.KindSent, store.KindTemp, store.KindFailed, store.KindInDoubt
	for i, tc := range []struct {
		name      string
		kinds     []store.Kind // the canary's first attempts, in order
		gate      float64      // the batch gate (max_failure_rate); else the operator pauses
		inAdvance bool
		waiting   int // > 0: refused, saying so many wait for a retry
	}{
		{"all temporary, the gate paused it", []store.Kind{temp, temp, temp, temp, temp, temp, temp, temp, temp}, 0.5, false, 9},
		{"some sent, some waiting", []store.Kind{sent, sent, temp, sent, sent, temp, sent, sent, temp}, 0, false, 3},
		{"every one has a final outcome", []store.Kind{sent, failed, doubt, sent, sent, failed, sent, sent, sent}, 0, false, 0},
		{"all temporary, approved in advance", []store.Kind{temp, temp, temp, temp, temp, temp, temp, temp, temp}, 0.5, true, 0},
	} {
		c := fmt.Sprintf("c-canary-retry-%d", i)
		t.Run(tc.name, func(t *testing.T) {
			p := store.TickParams{ApproveAfterCanary: true, MaxFailureRate: tc.gate}
			sum := attemptCanary(t, st, c, p, tc.kinds)
			if tc.gate > 0 {
				if r := tick(t, st, c, sum, p); r.Code != store.TickGated {
					t.Fatalf("the canary's gate: %+v, want it paused", r)
				}
			} else if _, err := st.Pause(ctx, c, who, "checking the canary"); err != nil {
				t.Fatal(err)
			}
			_, err := st.Approve(ctx, c, "", tc.inAdvance, who, "canary checked")
			ctl, cerr := st.Control(ctx, c)
			if cerr != nil {
				t.Fatal(cerr)
			}
			if tc.waiting == 0 {
				if err != nil || ctl.State != store.StatePaused || !ctl.Approved {
					t.Errorf("approve: %v; control %+v; want approved, still paused", err, ctl)
				}
				return
			}
			te := (*store.TransitionError)(nil)
			if !errors.As(err, &te) || te.PausedFor != store.CanaryRunning || te.Waiting != tc.waiting || te.LastError != "451" {
				t.Errorf("approve of a canary with %d recipients waiting for a retry: %v (%+v); want refused as %s, %d waiting, last error 451", tc.waiting, err, te, store.CanaryRunning, tc.waiting)
			}
			if ctl.State != store.StatePaused || ctl.Approved {
				t.Errorf("after the refusal: %+v; want paused, not approved (nothing changed)", ctl)
			}
		})
	}
}

// TestCanaryRetriedAfterResumeThenApproved: the gate paused a canary whose
// recipients all failed temporarily; resumed (the relay fixed), it runs
// their retries before it awaits approval, not at once (which an
// approval would let through undelivered), and once they are delivered
// the approval is accepted.
func TestCanaryRetriedAfterResumeThenApproved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	c := "c-canary-resumed"
	sum := stage(t, st, c, stageOpts{n: 18, canary: 3, size: 6})
	p := store.TickParams{ApproveAfterCanary: true, MaxFailureRate: 0.5}
	tick(t, st, c, sum, p)
	canary := canaryOf(t, st, c)
	l := st.Ledger(c, sum.Stage)
	pol := store.Policy{MaxAttempts: 3}
	for _, r := range canary {
		attempt(t, l, r, store.KindTemp, pol, time.Now())
	}
	endCanary(t, st, c, sum)
	if r := tick(t, st, c, sum, p); r.Code != store.TickGated {
		t.Fatalf("the canary's gate: %+v, want it paused", r)
	}
	if _, err := st.Resume(ctx, c, who, "relay fixed"); err != nil {
		t.Fatal(err)
	}
	if r := tick(t, st, c, sum, p); r.Code != store.TickNoop {
		t.Errorf("tick after the resume, the canary's retries not run: %+v, want nothing (it runs them)", r)
	}
	if _, err := st.Approve(ctx, c, "", false, who, "canary checked"); err == nil {
		t.Errorf("approve after the resume, the canary's retries not run: accepted")
	}
	for i, r := range canary {
		kind := store.KindSent
		if i == 0 {
			kind = store.KindTemp // once more: still one waiting
		}
		attempt(t, l, r, kind, pol, time.Now())
	}
	if _, err := st.Approve(ctx, c, "", false, who, "canary checked"); err == nil {
		t.Errorf("approve with one canary recipient still waiting: accepted")
	}
	attempt(t, l, canary[0], store.KindSent, pol, time.Now())
	if r := tick(t, st, c, sum, p); r.Code != store.TickAwaiting {
		t.Fatalf("tick after every canary recipient was sent: %+v, want awaiting approval", r)
	}
	if _, err := st.Approve(ctx, c, "", false, who, "canary checked"); err != nil {
		t.Errorf("approve of a canary delivered after its retries: %v", err)
	}
	if ctl, err := st.Control(ctx, c); err != nil || ctl.State != store.StateRunning || !ctl.Approved {
		t.Errorf("after the approval: %+v, %v; want running, approved", ctl, err)
	}
}
