package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStagingAfterLostMetaOfRecipientsTheLedgerHas: Redis lost the meta of
// a campaign mid-send; it is cancelled and staged again (clearLost keeps
// its ledger), and the journals the recovery excludes lack some of the
// lost staging's deliveries (a worker whose journal directory was not
// copied, a line lost): r0 and r1 sent, r2 claimed and never recorded.
// The staging after it must mail none of them again (the ledger says so)
// and still account for every row. Before, r0 and r1 were staged as
// pending, their claims skipped (the ledger has them sent) and never
// counted: the campaign stayed running for ever, 2 pending. Now that
// staging keeps their outcome from the ledger, as a staging again does,
// and the campaign ends done, its outcomes adding up to its total.
// Also when the first send of that staging was interrupted and run again
// (interrupted): that run too is a staging after the lost one.
// And when that staging was interrupted and cancelled (drops: the cancel
// drops it, dropStaging), once or twice, before the staging again: the
// drop keeps the lost staging's ledger, and the staging after it is a
// staging after the lost one too. Before, the drop removed the ledger,
// and r0 and r1 (whose journal lines the exclusions lack) were claimed
// for sending a second time.
func TestStagingAfterLostMetaOfRecipientsTheLedgerHas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		drops       int
		interrupted bool
	}{{0, false}, {0, true}, {1, false}, {2, true}} {
		t.Run(fmt.Sprintf("drops=%d/interrupted=%v", tc.drops, tc.interrupted), func(t *testing.T) {
			t.Parallel()
			stagingAfterLostMeta(t, tc.drops, tc.interrupted)
		})
	}
}

// stageAndDie begins a staging of c after the lost one (two rows, 1-row
// chunks) and dies: its lease runs out (Abort), its staging never ends.
func stageAndDie(t *testing.T, st *store.Store, c string) {
	t.Helper()
	ctx := context.Background()
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "bob", Columns: []string{"posts"}, ChunkSize: 1, ResumeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Locale: "de", Lang: "de", Fields: map[string]string{"posts": "1"}}, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	sg.Abort(ctx)
}

func stagingAfterLostMeta(t *testing.T, drops int, interrupted bool) {
	ctx := context.Background()
	rdb := startRedis(t)
	st := store.New(rdb)
	c, n := "c-meta-lost-ledger", 6
	sum := stage(t, st, c, stageOpts{n: n, size: n})
	if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick %+v", r)
	}
	sendAll(t, st.Ledger(c, sum.Stage), 0, 2)
	p := store.Policy{MaxAttempts: 3, Sender: "run|w1"}
	if _, err := st.Ledger(c, sum.Stage).Step(ctx, nil, []store.Claim{{ID: "r2", Lang: "en", Token: "w1/2"}}, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	loseMeta(t, st, c, sum.Stage, true)
	if _, _, err := st.Cancel(ctx, c, who, "state loss"); err != nil {
		t.Fatal(err)
	}
	for range drops { // a send stages it and dies; the operator cancels that staging
		stageAndDie(t, st, c)
		if cc, _, err := st.Cancel(ctx, c, who, "interrupted"); err != nil || !cc.Dropped {
			t.Fatalf("cancel of the interrupted staging after the lost one: %+v, %v; want it dropped", cc, err)
		}
	}
	if interrupted { // a send stages it and dies: its lease runs out
		stageAndDie(t, st, c)
	}
	again := stage(t, st, c, stageOpts{n: n, size: n, resume: true})
	if r := tick(t, st, c, again, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick after the staging again %+v", r)
	}
	l := st.Ledger(c, again.Stage)
	p.Sender = "run2|w2"
	for i := range n {
		id, lang := fmt.Sprint("r", i), []string{"de", "fr", "en"}[i%3]
		tok := fmt.Sprintf("w2/%d", i)
		res, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: lang, Token: tok}}, p, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if a := res.Claims[0]; a.Result == store.ClaimOK {
			if i < 3 {
				t.Errorf("%s claimed for sending again (the lost staging sent or claimed it): %+v", id, a)
			}
			if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: lang, Kind: store.KindSent, Code: "250", Token: tok}}, nil, p, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := tick(t, st, c, again, store.TickParams{})
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != store.TickDone || s.State != store.StateDone || s.Counts[store.OutcomePending] != 0 ||
		s.Counts[store.OutcomeSent] != int64(n-1) || s.Counts[store.OutcomeInDoubt] != 1 {
		t.Errorf("after every recipient was claimed: tick %+v, state %s, counts %v; want done: %d sent (2 by the lost staging), 1 in doubt (r2), nobody pending", r, s.State, s.Counts, n-1)
	}
}
