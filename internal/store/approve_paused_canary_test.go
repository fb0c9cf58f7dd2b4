package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestACanaryDoneAndPausedCanBeApproved (red team 13) holds approve to README.md
// (Walk-through, 7. Approve the canary): "A campaign paused after its canary
// is done can be approved; it stays paused until resumed", and refuses only
// "an approval while the canary is still being sent (or not yet released)".
//
// What happened before the fix: the canary's last recipient is recorded and the campaign is
// paused before the next tick marks the canary's batch done (batch_done_at):
// by the auto-pause that its last failure trips (the tick never runs on a
// paused campaign, so it stays so), or by an operator. Every canary
// recipient has an outcome and its chunk has ended, yet approve is refused
// with "its canary (the first batch) is still being sent, or not yet
// released, so nobody has checked it", and the advice ("approve once status
// shows awaiting-approval") never comes true while it is paused.
//
// Guessed cause: internal/store/lua/transition.lua ARGV[16]: "the canary is
// done" is read only from the control's batch_done_at, which lua/tick.lua
// sets only while the campaign runs; the canary's chunks_done (bstats) says
// its first pass is complete.
func TestACanaryDoneAndPausedCanBeApproved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	for _, tc := range []struct {
		name  string
		kinds []store.Kind // the canary's outcomes, in order
		pol   store.Policy
		pause bool // the operator pauses after the canary's chunk ended
	}{
		{"auto-pause on the canary's last failure", []store.Kind{store.KindSent, store.KindFailed, store.KindFailed},
			store.Policy{MaxAttempts: 1, Window: 10, ErrorRate: 0.5, MinAttempts: 3}, false},
		{"paused by an operator after the canary", []store.Kind{store.KindSent, store.KindSent, store.KindSent},
			store.Policy{MaxAttempts: 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := "c-rt13-approve-" + map[bool]string{true: "op", false: "auto"}[tc.pause]
			sum := stage(t, st, c, stageOpts{n: 9, canary: 1, size: 6})
			if r := tick(t, st, c, sum, store.TickParams{ApproveAfterCanary: true}); r.Code != store.TickReleased {
				t.Fatalf("first tick %+v", r)
			}
			meta, err := st.Meta(ctx, c, false)
			if err != nil {
				t.Fatal(err)
			}
			b := meta.Batches[0]
			var canary []store.Recipient
			for ch := b.First; ch <= b.Last; ch++ {
				rs, err := st.Chunk(ctx, c, ch)
				if err != nil {
					t.Fatal(err)
				}
				canary = append(canary, rs...)
			}
			if len(canary) != len(tc.kinds) {
				t.Fatalf("canary of %d, want %d", len(canary), len(tc.kinds))
			}
			l := st.Ledger(c, sum.Stage)
			for i, r := range canary {
				attempt(t, l, r, tc.kinds[i], tc.pol, time.Now())
			}
			for ch := b.First; ch <= b.Last; ch++ {
				if _, err := st.EndChunk(ctx, c, sum.Stage, 0, ch, true); err != nil {
					t.Fatal(err)
				}
			}
			if tc.pause {
				if _, err := st.Pause(ctx, c, who, "checking the canary"); err != nil {
					t.Fatal(err)
				}
			}
			ctl, err := st.Control(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if ctl.State != store.StatePaused {
				t.Fatalf("state %s (%s), want paused", ctl.State, ctl.Reason)
			}
			if _, err := st.Approve(ctx, c, "", false, who, "canary checked"); err != nil {
				t.Errorf("approve of a canary done (all %d recipients have an outcome, its chunk ended) and paused: %v", len(canary), err)
			}
			if ctl, err := st.Control(ctx, c); err != nil || ctl.State != store.StatePaused || !ctl.Approved {
				t.Errorf("after the approval: %+v, %v; want paused and approved", ctl, err)
			}
		})
	}
}
