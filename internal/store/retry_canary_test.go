package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestRetryOfTheCanaryAwaitingApproval (review of 2d4d53b): a campaign
// with approve_after_canary awaits approval, its canary done (some of its
// recipients failed for good with 550); `tidings retry --permanent`
// re-queued those as pending, and the campaign stayed in
// awaiting-approval, where nothing is claimed: they were never attempted,
// and approve was accepted with canary recipients undelivered, although
// README (7. Approve the canary) refuses an approval while the canary is
// still being sent.
//
// Now a retry that re-queues canary recipients of a campaign awaiting
// approval moves it back to running; approve is refused (how many wait)
// until they have outcomes, when the tick awaits approval again. A retry
// that re-queues none of the canary's leaves the campaign as it was; one
// of a paused campaign leaves it paused (a resume runs the canary again);
// an approval given before the retry stands.
func TestRetryOfTheCanaryAwaitingApproval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	perm := store.RetryScope{Permanent: true}
	for i, tc := range []struct {
		name  string
		scope store.RetryScope
		// before the retry: "" (awaiting approval), "pause", "pause,approve"
		// (approved while paused), "approve,batch1" (approved, batch 1
		// released and two of it failed, temporarily, their attempts run
		// out: a retry of temporary failures re-queues those only)
		before string
		want   store.State // after the retry
		n      int         // re-queued
		canary int         // of them, the canary's
		// waiting: approve is refused with so many of the canary's waiting
		// (0: it is accepted, or approved already)
		waiting int
	}{
		{"awaiting approval, retry --permanent of the canary's 550s", perm, "", store.StateRunning, 3, 3, 3},
		{"awaiting approval, retry of temporary failures: none", store.RetryScope{}, "", store.StateAwaitingApproval, 0, 0, 0},
		{"awaiting approval, retry --permanent --code 554: none", store.RetryScope{Permanent: true, Code: "554"}, "", store.StateAwaitingApproval, 0, 0, 0},
		{"paused after awaiting approval, retry --permanent", perm, "pause", store.StatePaused, 3, 3, 3},
		{"approved while paused, then retry --permanent", perm, "pause,approve", store.StatePaused, 3, 3, 0},
		{"approved, batch 1's temporary failures retried", store.RetryScope{}, "approve,batch1", store.StateRunning, 2, 0, 0},
	} {
		c := fmt.Sprintf("c-retry-canary-%d", i)
		t.Run(tc.name, func(t *testing.T) {
			sum := stage(t, st, c, stageOpts{n: 18, canary: 3, size: 6})
			p := store.TickParams{ApproveAfterCanary: true}
			pol := store.Policy{MaxAttempts: 1}
			if r := tick(t, st, c, sum, p); r.Code != store.TickReleased {
				t.Fatalf("first tick %+v", r)
			}
			l := st.Ledger(c, sum.Stage)
			canary := canaryOf(t, st, c)
			var failed []store.Recipient // for good, with 550
			for i, r := range canary {
				kind := store.KindSent
				if i%3 == 0 {
					kind = store.KindFailed
					failed = append(failed, r)
				}
				attempt(t, l, r, kind, pol, time.Now())
			}
			endCanary(t, st, c, sum)
			if r := tick(t, st, c, sum, p); r.Code != store.TickAwaiting {
				t.Fatalf("tick after the canary: %+v, want awaiting approval", r)
			}
			switch tc.before {
			case "pause", "pause,approve":
				if _, err := st.Pause(ctx, c, who, "checking the canary"); err != nil {
					t.Fatal(err)
				}
				if tc.before == "pause,approve" {
					if _, err := st.Approve(ctx, c, "", false, who, "canary checked"); err != nil {
						t.Fatal(err)
					}
				}
			case "approve,batch1":
				if _, err := st.Approve(ctx, c, "", false, who, "canary checked"); err != nil {
					t.Fatal(err)
				}
				if r := tick(t, st, c, sum, p); r.Code != store.TickReleased || r.Batch != 1 {
					t.Fatalf("tick after the approval: %+v, want batch 1 released", r)
				}
				failed = nil
				for i, r := range batchOf(t, st, c, 1) {
					kind := store.KindSent
					if i < 2 {
						kind = store.KindTemp
						failed = append(failed, r)
					}
					attempt(t, l, r, kind, pol, time.Now())
				}
			}
			rt, err := st.Requeue(ctx, c, who, tc.scope)
			if err != nil || rt.N != tc.n || rt.Canary != tc.canary {
				t.Fatalf("retry: %+v, %v; want %d re-queued, %d of the canary's", rt, err, tc.n, tc.canary)
			}
			// What the retry's answer says (nextstep.Requeued words it).
			rerun := tc.before == "" && tc.canary > 0
			approved := strings.Contains(tc.before, "approve")
			if rt.Rerun != rerun || rt.Approved != approved && tc.n > 0 || rt.Paused != (tc.want == store.StatePaused) || tc.n > 0 && rt.State != tc.want {
				t.Errorf("retry: %+v; want rerun %v, approved %v, paused %v, state %s", rt, rerun, approved, tc.want == store.StatePaused, tc.want)
			}
			ctl, err := st.Control(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if ctl.State != tc.want {
				t.Errorf("after a retry that re-queued %d of the canary's: %s (%s: %s), want %s", tc.canary, ctl.State, ctl.Action, ctl.Reason, tc.want)
			}
			_, err = st.Approve(ctx, c, "", false, who, "canary checked")
			te := (*store.TransitionError)(nil)
			refused := errors.As(err, &te) && te.PausedFor == store.CanaryRunning
			switch {
			case tc.waiting > 0 && (!refused || te.Waiting != tc.waiting || te.LastError != "550"):
				t.Fatalf("approve with %d of the canary's re-queued: %v (%+v); want refused as %s, %d waiting, last error 550", tc.waiting, err, te, store.CanaryRunning, tc.waiting)
			case tc.waiting == 0 && err != nil:
				t.Fatalf("approve: %v", err)
			case tc.waiting == 0:
				return // approved (or approved already): nothing to wait for
			}
			if tc.want == store.StatePaused {
				if _, err := st.Resume(ctx, c, who, "canary retried"); err != nil {
					t.Fatal(err)
				}
			}
			if r := tick(t, st, c, sum, p); r.Code != store.TickNoop {
				t.Errorf("tick with the canary's re-queued waiting: %+v, want nothing (they are sent first)", r)
			}
			for _, r := range failed {
				attempt(t, l, r, store.KindSent, pol, time.Now())
			}
			if r := tick(t, st, c, sum, p); r.Code != store.TickAwaiting {
				t.Fatalf("tick once the canary's re-queued are sent: %+v, want awaiting approval again", r)
			}
			if _, err := st.Approve(ctx, c, "", false, who, "canary checked"); err != nil {
				t.Errorf("approve of the canary delivered after its retry: %v", err)
			}
		})
	}
}

// batchOf returns the recipients of batch b of c.
func batchOf(t *testing.T, st *store.Store, c string, b int) []store.Recipient {
	t.Helper()
	meta, err := st.Meta(context.Background(), c, false)
	if err != nil {
		t.Fatal(err)
	}
	var rs []store.Recipient
	for ch := meta.Batches[b].First; ch <= meta.Batches[b].Last; ch++ {
		got, err := st.Chunk(context.Background(), c, ch)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, got...)
	}
	return rs
}
