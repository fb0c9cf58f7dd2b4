package worker

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestABacklogRecordIsAmendedByTheLineItsWorkerWrote: a temporary failure
// journaled temp (the worker did not know yet that the campaign was
// cancelled) whose step failed (Redis unreachable) goes to the worker's
// backlog; the worker then reads the cancel, and the backlog's step, in
// another chunk's run, records it cancelled. The line that amends is
// written against the line the worker wrote (temp), so report --journal
// reads r1 cancelled, as the ledger has it. Before, the backlog's run
// compared the ledger's answer with the line the worker would write now
// (cancelled: it knows of the cancel), wrote no amending line, and the
// journal kept r1 pending.
func TestABacklogRecordIsAmendedByTheLineItsWorkerWrote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	sum := stageTest(t, st, "ub", 2, 10, true)
	jdir := t.TempDir()
	w := journaledWorker(t, rdb, jdir, nil)
	policy := store.Policy{MaxAttempts: 3}
	good := st.Ledger("ub", sum.Stage)
	if res, err := good.Step(ctx, nil, []store.Claim{{ID: "r1", Lang: "de", Token: "t1"}}, policy, time.Now()); err != nil || res.Claims[0].Result != store.ClaimOK {
		t.Fatalf("claim: %+v %v", res, err)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	cs := &campaignState{name: "ub", stage: sum.Stage, ledger: store.New(down).Ledger("ub", sum.Stage), policy: policy}
	run1 := &run{w: w, cs: cs, tries: 1}
	run1.recs = []store.Record{{ID: "r1", Lang: "de", Kind: store.KindTemp, Code: "451", Response: "greylisted", Token: "t1", Attempt: 1}}
	run1.note(run1.entry(time.Now(), "r1", "r1@x.example", "de", run1.journaled(&run1.recs[0])), &run1.recs[0])
	if _, err := run1.step(ctx, nil); err == nil {
		t.Fatal("a step on an unreachable Redis succeeded")
	}
	// The campaign is cancelled, and the worker reads it.
	if _, _, err := st.Cancel(ctx, "ub", store.Actor{Who: "on-call"}, "wrong template"); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.states = map[string]store.Probe{"ub": {Stage: sum.Stage, State: store.StateCancelled}}
	w.mu.Unlock()
	cs.ledger = good
	w.flushBacklogs(ctx, false)
	if es, err := st.Entries(ctx, "ub", []string{"r1"}); err != nil || es[0].State != store.OutcomeCancelled {
		t.Fatalf("the ledger holds r1 %+v, %v; want cancelled", es, err)
	}
	j, err := report.ReadJournal(jdir, "ub")
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Rows) != 1 {
		t.Fatalf("report --journal has %d rows, want r1's", len(j.Rows))
	}
	if r := j.Rows[0]; r.Outcome != store.OutcomeCancelled {
		t.Errorf("report --journal reads r1 %s (%d attempts), want cancelled", r.Outcome, r.Attempts)
	}
}
