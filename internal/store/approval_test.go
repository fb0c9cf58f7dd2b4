package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestApprovalSurvivesPauseAndResume: a campaign awaiting approval after
// its canary, paused and resumed by someone, still waits for the approval:
// the next tick neither releases the next batch nor skips the wait. The
// same holds for a canary its batch gate paused.
func TestApprovalSurvivesPauseAndResume(t *testing.T) {
	for _, gated := range []bool{false, true} {
		name := map[bool]string{false: "awaiting approval", true: "paused by the canary's gate"}[gated]
		t.Run(name, func(t *testing.T) {
			st := store.New(startRedis(t))
			ctx := context.Background()
			c := "c-approval"
			sum := stage(t, st, c, stageOpts{n: 12, canary: 1, size: 5})
			p := store.TickParams{ApproveAfterCanary: true, MaxFailureRate: 0.5, Actor: store.Actor{Who: "worker"}}
			if r := tick(t, st, c, sum, p); r.Code != store.TickReleased || r.Batch != 0 {
				t.Fatalf("first tick %+v, want the canary released", r)
			}
			meta, err := st.Meta(ctx, c, false)
			if err != nil {
				t.Fatal(err)
			}
			l, pol := st.Ledger(c, sum.Stage), store.Policy{MaxAttempts: 1}
			kind := store.KindSent
			if gated {
				kind = store.KindFailed
			}
			for n := meta.Batches[0].First; n <= meta.Batches[0].Last; n++ {
				recs, err := st.Chunk(ctx, c, n)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					if _, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Batch: 0, Token: r.ID}}, pol, time.Now()); err != nil {
						t.Fatal(err)
					}
					if _, err := l.Step(ctx, []store.Record{{ID: r.ID, Lang: r.Lang, Batch: 0, Kind: kind, Code: "550"}}, nil, pol, time.Now()); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := st.EndChunk(ctx, c, sum.Stage, 0, n, true); err != nil {
					t.Fatal(err)
				}
			}
			want := store.TickAwaiting
			if gated {
				want = store.TickGated
			}
			if r := tick(t, st, c, sum, p); r.Code != want {
				t.Fatalf("tick after the canary: %+v, want code %d", r, want)
			}
			if _, err := st.Pause(ctx, c, who, "looking"); err != nil && !gated {
				t.Fatal(err)
			}
			if _, err := st.Resume(ctx, c, who, "resumed, not approved"); err != nil {
				t.Fatal(err)
			}
			r := tick(t, st, c, sum, p)
			ctl, err := st.Control(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != store.TickAwaiting || ctl.CurBatch != 0 || ctl.State != store.StateAwaitingApproval {
				t.Fatalf("tick after resume: %+v, control %+v; want awaiting approval, batch 1 not released", r, ctl)
			}
			// Paused after its canary was done, it is approved (not in
			// advance: the canary was there to see) and stays paused.
			if _, err := st.Pause(ctx, c, who, "approve first"); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Approve(ctx, c, "", false, who, "looks right"); err != nil {
				t.Fatalf("approve of a done canary, paused: %v", err)
			}
			if ctl, err := st.Control(ctx, c); err != nil || ctl.State != store.StatePaused || !ctl.Approved {
				t.Fatalf("after approving while paused: %+v, %v; want paused and approved", ctl, err)
			}
			if _, err := st.Resume(ctx, c, who, "approved"); err != nil {
				t.Fatal(err)
			}
			if r := tick(t, st, c, sum, p); r.Code != store.TickReleased || r.Batch != 1 {
				t.Errorf("tick after approve: %+v, want batch 1 released", r)
			}
		})
	}
}

// TestApproveOfAnEarlierStaging: an approval that names a staging (what
// the console's page showed) is refused once the campaign was staged again
// (StagedAgain), in advance (staged, running) as well as awaiting
// approval, and marks nothing approved; naming the current staging, or
// none (the CLI), approves.
func TestApproveOfAnEarlierStaging(t *testing.T) {
	st := store.New(startRedis(t))
	ctx := context.Background()
	c := "c-restaged"
	a := stage(t, st, c, stageOpts{n: 6, canary: 1, size: 3})
	if _, _, err := st.Cancel(ctx, c, who, "wrong file"); err != nil {
		t.Fatal(err)
	}
	b := stage(t, st, c, stageOpts{n: 6, canary: 1, size: 3, resume: true})
	if a.Stage == b.Stage {
		t.Fatalf("two stagings with one id %s", a.Stage)
	}
	approved := func() bool {
		s, err := st.Status(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return s.Approved
	}
	var te *store.TransitionError
	if _, err := st.Approve(ctx, c, a.Stage, false, who, "A looked right"); !errors.As(err, &te) || te.PausedFor != store.StagedAgain || approved() {
		t.Fatalf("approve of A once B is staged: %v (approved %v), want refused as staged again", err, approved())
	}
	if _, err := st.Approve(ctx, c, b.Stage, true, who, "B in advance"); err != nil || !approved() {
		t.Fatalf("approve of B: %v (approved %v)", err, approved())
	}
	if _, err := st.Approve(ctx, c, "", false, who, "any"); err != nil {
		t.Fatalf("approve naming no staging: %v", err)
	}
}
