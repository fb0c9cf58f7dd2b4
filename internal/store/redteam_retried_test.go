package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestRetriedGateOrderings runs orderings of a batch's retried recipients
// (3 of 10 refused, re-queued by `retry --permanent`, the campaign
// resumed) that no other test runs, and requires that every recipient ends
// with one outcome (counted once), that the gate's count of retried
// errors comes back to 0, and that the gate then judges by the errors that
// stand: the retried sent, the retried retried again, a retried claim in
// flight when its worker dies (the next pass finds it in doubt, then the
// dead worker's late record comes), a retried claim given back at
// shutdown, a pause while the gate waits for them, and a record of the
// first attempt that comes again after the retry.
func TestRetriedGateOrderings(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sent, f := store.KindSent, store.KindFailed
	claim := func(t *testing.T, l *store.Ledger, r store.Recipient, tok string) store.ClaimResult {
		t.Helper()
		res, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Token: tok}}, retriedPol, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return first(res).Result
	}
	record := func(t *testing.T, l *store.Ledger, r store.Recipient, kind store.Kind, tok string) {
		t.Helper()
		if _, err := l.Step(ctx, []store.Record{{ID: r.ID, Lang: r.Lang, Kind: kind, Code: map[store.Kind]string{f: "550"}[kind], Token: tok}}, nil, retriedPol, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	retry := func(t *testing.T, c string, want int) {
		t.Helper()
		if retried, err := st.Requeue(ctx, c, who, store.RetryScope{Permanent: true}); retried.N != want || err != nil {
			t.Fatalf("retry --permanent: %d, %v; want %d re-queued", retried.N, err, want)
		}
	}
	// sendAll records every one of rs sent at its next attempt.
	sendAll := func(t *testing.T, l *store.Ledger, rs []store.Recipient) {
		t.Helper()
		for _, r := range rs {
			attempt(t, l, r, sent, retriedPol, time.Now())
		}
	}
	// undecided requires batch 0 to count retried of its errors1 first-attempt errors undecided.
	undecided := func(t *testing.T, c, when string, retried, errors1 int) {
		t.Helper()
		if b, _ := batch0(t, st, c); b.Retried1 != retried || b.Errors1 != errors1 {
			t.Fatalf("%s: %d retried undecided of %d first-attempt errors, want %d of %d", when, b.Retried1, b.Errors1, retried, errors1)
		}
	}
	for _, tt := range []struct {
		name string
		// run plays the ordering on the 3 retried (recs[:3]).
		run     func(t *testing.T, c string, sum *store.StageSummary, l *store.Ledger, recs []store.Recipient)
		want    store.TickCode
		errors1 int // first-attempt errors that stand
		counts  map[string]int64
	}{
		{"retried-again-then-sent", func(t *testing.T, c string, _ *store.StageSummary, l *store.Ledger, recs []store.Recipient) {
			for _, r := range recs[:3] {
				attempt(t, l, r, f, retriedPol, time.Now())
			}
			retry(t, c, 3)
			undecided(t, c, "retried again", 3, 3)
			sendAll(t, l, recs[:3])
		}, store.TickReleased, 0, map[string]int64{"sent": 10}},
		{"one-retried-again-while-the-others-wait", func(t *testing.T, c string, _ *store.StageSummary, l *store.Ledger, recs []store.Recipient) {
			attempt(t, l, recs[0], f, retriedPol, time.Now())
			retry(t, c, 1)
			undecided(t, c, "one retried again", 3, 3)
			attempt(t, l, recs[0], f, retriedPol, time.Now())
			sendAll(t, l, recs[1:3])
		}, store.TickReleased, 1, map[string]int64{"sent": 9, "failed": 1}},
		{"in-flight-when-its-worker-dies", func(t *testing.T, c string, _ *store.StageSummary, l *store.Ledger, recs []store.Recipient) {
			if res := claim(t, l, recs[0], "dead"); res != store.ClaimOK {
				t.Fatalf("retried claim: %v", res)
			}
			// The next pass (the dead worker's chunk given to another).
			if res := claim(t, l, recs[0], "next"); res != store.ClaimSkip {
				t.Fatalf("claim of the retried left sending by a dead worker: %v, want skip (in doubt)", res)
			}
			undecided(t, c, "retried in doubt", 2, 3)
			sendAll(t, l, recs[1:3])
			record(t, l, recs[0], sent, "dead") // it was not dead: its late record
		}, store.TickReleased, 1, map[string]int64{"sent": 10}},
		{"given-back-at-shutdown", func(t *testing.T, c string, _ *store.StageSummary, l *store.Ledger, recs []store.Recipient) {
			if res := claim(t, l, recs[0], "stopping"); res != store.ClaimOK {
				t.Fatalf("retried claim: %v", res)
			}
			record(t, l, recs[0], store.KindUnclaim, "stopping")
			undecided(t, c, "retried claim given back", 3, 3)
			sendAll(t, l, recs[:3])
		}, store.TickReleased, 0, map[string]int64{"sent": 10}},
		{"paused-while-the-gate-waits", func(t *testing.T, c string, sum *store.StageSummary, l *store.Ledger, recs []store.Recipient) {
			if r := tick(t, st, c, sum, retriedTick); r.Code != store.TickNoop || r.Reason == "" {
				t.Fatalf("tick: %+v, want the gate to wait", r)
			}
			if _, err := st.Pause(ctx, c, who, "look at the relay"); err != nil {
				t.Fatal(err)
			}
			if res := claim(t, l, recs[0], "paused"); res != store.ClaimStop {
				t.Fatalf("claim while paused: %v, want stop", res)
			}
			if r := tick(t, st, c, sum, retriedTick); r.Code != store.TickNoop {
				t.Fatalf("tick while paused: %+v, want nothing", r)
			}
			if _, err := st.Resume(ctx, c, who, "relay fine"); err != nil {
				t.Fatal(err)
			}
			sendAll(t, l, recs[:3])
		}, store.TickReleased, 0, map[string]int64{"sent": 10}},
		{"first-attempt-record-comes-again", func(t *testing.T, c string, _ *store.StageSummary, l *store.Ledger, recs []store.Recipient) {
			// A step of the first attempts run again (its answer lost), with
			// a record that holds no token (a tool's): it must not fail the
			// re-queued again.
			record(t, l, recs[0], f, "")
			undecided(t, c, "the record came again", 3, 3)
			sendAll(t, l, recs[:3])
		}, store.TickReleased, 0, map[string]int64{"sent": 10}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := "c-rt-" + tt.name
			sum, l, recs := retriedGate(t, st, c, f, f, f)
			tt.run(t, c, sum, l, recs)
			if r := tick(t, st, c, sum, retriedTick); r.Code != tt.want {
				t.Errorf("tick after the retries ended: %+v, want code %d", r, tt.want)
			}
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if b := s.Batches[0]; b.Errors1 != tt.errors1 || b.Retried1 != 0 || s.GateWaitsForRetried != 0 {
				t.Errorf("batch 0: %d first-attempt errors stand, %d retried undecided, the gate waits for %d; want %d, 0, 0", b.Errors1, b.Retried1, s.GateWaitsForRetried, tt.errors1)
			}
			for _, o := range []string{"sent", "failed", "in-doubt", "deferred", "cancelled"} {
				if s.Counts[o] != tt.counts[o] {
					t.Errorf("count %s: %d, want %d (counts %v)", o, s.Counts[o], tt.counts[o], s.Counts)
				}
			}
		})
	}
}
