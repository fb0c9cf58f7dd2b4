package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestAStepNotAcknowledgedIsCountedAndJournaledAsTheLedgerRecordedIt: a
// ledger step that no replica acknowledges (an *AckError on every try)
// wrote its records on the master and answered what it wrote
// (store.StepResult.Recorded), and its records go to the worker's backlog;
// the backlog's step then finds them written and answers nothing of them.
// tidings_messages_total still counts each record once, as the ledger
// recorded it (r0 sent; r1, a temporary failure of a campaign cancelled
// meanwhile, cancelled), and the delivery journal amends r1's temp line
// to cancelled, as report --journal reads it. Before, the answer of the
// step not acknowledged was dropped: neither was counted, and r1 stayed
// pending in the journal though the ledger had it cancelled. When a
// failover lost what the step wrote, the backlog's step writes it again,
// and it is still counted and journaled once.
func TestAStepNotAcknowledgedIsCountedAndJournaledAsTheLedgerRecordedIt(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		lost bool // a failover lost the ledger entries the step wrote
	}{{"written", false}, {"lost in a failover", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stepNotAcknowledged(t, tt.lost)
		})
	}
}

// stepNotAcknowledged is a case of
// TestAStepNotAcknowledgedIsCountedAndJournaledAsTheLedgerRecordedIt.
func stepNotAcknowledged(t *testing.T, lost bool) {
	t.Helper()
	r := redistest.Start(t)
	if r.Embedded {
		t.Skip("the embedded Redis has no WAIT; CI runs this on redis-server")
	}
	ctx := context.Background()
	rdb := r.Client()
	st := store.New(rdb)
	sum := stageTest(t, st, "ua", 2, 10, true)
	jdir, reg := t.TempDir(), prometheus.NewRegistry()
	w := journaledWorker(t, rdb, jdir, reg)
	policy := store.Policy{MaxAttempts: 3}
	good := st.Ledger("ua", sum.Stage)
	claims := []store.Claim{{ID: "r0", Lang: "de", Token: "t0"}, {ID: "r1", Lang: "de", Token: "t1"}}
	if res, err := good.Step(ctx, nil, claims, policy, time.Now()); err != nil || res.Claims[0].Result != store.ClaimOK || res.Claims[1].Result != store.ClaimOK {
		t.Fatalf("claims: %+v %v", res, err)
	}
	// r0 was sent, r1 failed temporarily (attempt 1 of 3: its line says
	// temp); the campaign is cancelled before the step records them.
	if _, _, err := st.Cancel(ctx, "ua", store.Actor{Who: "on-call"}, "wrong template"); err != nil {
		t.Fatal(err)
	}
	unacked := store.NewWithConfig(rdb, store.Config{ReplicaAcks: 1, AckTimeout: 10 * time.Millisecond}) // no replica
	cs := &campaignState{name: "ua", stage: sum.Stage, ledger: unacked.Ledger("ua", sum.Stage), policy: policy}
	run1 := &run{w: w, cs: cs, tries: 1}
	run1.recs = []store.Record{
		{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250", Response: "ok", Token: "t0", Attempt: 1},
		{ID: "r1", Lang: "de", Kind: store.KindTemp, Code: "451", Response: "greylisted", Token: "t1", Attempt: 1},
	}
	run1.note(run1.entry(time.Now(), "r1", "r1@x.example", "de", run1.journaled(&run1.recs[1])), &run1.recs[1])
	ledgerKey := "tidings:{ua}:ledger"
	before, err := rdb.HGetAll(ctx, ledgerKey).Result()
	if err != nil || len(before) != 2 {
		t.Fatalf("the ledger %s before the step: %v, %v; want r0's and r1's claims", ledgerKey, before, err)
	}
	var ae *store.AckError
	if _, err := run1.step(ctx, nil); !errors.As(err, &ae) {
		t.Fatalf("the step no replica acknowledged: %v, want an *AckError", err)
	}
	if lost {
		if err := rdb.HSet(ctx, ledgerKey, before).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.backlog[cs]) != 2 {
		t.Fatalf("%d records kept, want both", len(w.backlog[cs]))
	}
	// The replicas are back: the backlog's step finds both written.
	cs.ledger = good
	w.flushBacklogs(ctx, false)
	if len(w.backlog[cs]) != 0 {
		t.Fatalf("%d records still kept", len(w.backlog[cs]))
	}
	es, err := st.Entries(ctx, "ua", []string{"r0", "r1"})
	if err != nil || es[0].State != store.OutcomeSent || es[1].State != store.OutcomeCancelled {
		t.Fatalf("the ledger holds %+v, %v; want r0 sent, r1 cancelled", es, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var counted []string // "outcome=n" of tidings_messages_total
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == "tidings_messages_total" && l.GetName() == "outcome" {
					counted = append(counted, fmt.Sprint(l.GetValue(), "=", m.GetCounter().GetValue()))
				}
			}
		}
	}
	if s := strings.Join(counted, " "); s != "cancelled=1 sent=1" {
		t.Errorf("tidings_messages_total by outcome %q, want r0 sent and r1 cancelled, once each", s)
	}
	if err := w.journal.Sync(); err != nil {
		t.Fatal(err)
	}
	j, err := report.ReadJournal(jdir, "ua")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range j.Rows {
		got = append(got, row.ID+":"+row.Outcome)
	}
	if s := strings.Join(got, " "); s != "r1:cancelled" {
		t.Errorf("report --journal reads %q, want r1 cancelled (amended)", s)
	}
}

// journaledWorker returns a worker of rdb, not running, whose delivery
// journal (worker w1, every line synced) is open in jdir, and whose
// metrics go to reg (when not nil).
func journaledWorker(t *testing.T, rdb *redis.Client, jdir string, reg *prometheus.Registry) *Worker {
	t.Helper()
	cfg := Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test"}
	if reg != nil {
		cfg.Metrics = reg
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if w.journal, err = journal.Open(journal.Config{Dir: jdir, Worker: "w1", Always: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.journal.Close() })
	return w
}
