package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusTimesAreRedisClock: the batch's release (released_at, and its
// idle time's start) and the state changes a tick makes are written in
// Redis's clock, as batch_done_at is, not in the clock of whichever
// worker ticks (store.Tick's now): status compares them with each other
// and with its own now, and a skewed worker made the figures off by its
// skew. Before they were taken from Redis's TIME, a release by a worker
// 3 hours ahead made the campaign due 3 hours from now (its work not
// waiting: no stall ever seen), and a worker 3 hours ahead marked the
// campaign done 3 hours from now, in its control and its audit log.
func TestStatusTimesAreRedisClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	camp := campaign.Campaign{Name: "skew", Environment: "test", Template: "t", Recipients: "r.csv", From: "a@example.com",
		Batches: campaign.Batches{Size: 7, Interval: 5 * time.Minute}, Rate: campaign.Rate{Count: 1, Per: time.Minute}}.WithDefaults()
	def, err := camp.Definition()
	if err != nil {
		t.Fatal(err)
	}
	pol := store.Policy{MaxAttempts: 3}
	langs := []string{"de", "fr", "en"}
	// send records recipients r<from> to r<to-1> sent, at the time at.
	send := func(t *testing.T, l *store.Ledger, from, to int, at time.Time) {
		t.Helper()
		for i := from; i < to; i++ {
			id, lang := fmt.Sprint("r", i), langs[i%3]
			if _, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: lang, Token: id}}, pol, at); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: lang, Kind: store.KindSent, Code: "250", Response: "ok", Token: id}}, nil, pol, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	near := func(t *testing.T, what string, got time.Time) {
		t.Helper()
		if now := time.Now(); got.Before(now.Add(-time.Hour)) || got.After(now.Add(time.Hour)) {
			t.Errorf("%s %v, %v from now; want Redis's clock (this host's: now, give or take the test's time)", what, got, got.Sub(now).Round(time.Second))
		}
	}
	t.Run("released by a worker 3 hours ahead: due now", func(t *testing.T) {
		t.Parallel()
		st := store.New(startRedis(t))
		sum := stage(t, st, "skew", stageOpts{n: 14, size: 7, def: def})
		tp := store.TickParams{Stage: sum.Stage, Interval: camp.Batches.Interval}
		if r, err := st.Tick(ctx, "skew", tp, time.Now().Add(3*time.Hour)); err != nil || r.Code != store.TickReleased || r.Batch != 0 {
			t.Fatalf("release batch 0: %+v, %v", r, err)
		}
		s, err := st.Status(ctx, "skew")
		if err != nil {
			t.Fatal(err)
		}
		near(t, "due since", s.DueSince)
		if !s.WorkWaiting(time.Now().Add(time.Hour)) {
			t.Errorf("batch 0 released, nothing sent: its work not waiting (due since %v)", s.DueSince)
		}
	})
	t.Run("done by a worker 3 hours ahead: done now", func(t *testing.T) {
		t.Parallel()
		st := store.New(startRedis(t))
		sum := stage(t, st, "skew", stageOpts{n: 7, size: 7, def: def})
		tp := store.TickParams{Stage: sum.Stage, Interval: camp.Batches.Interval}
		if r, err := st.Tick(ctx, "skew", tp, time.Now()); err != nil || r.Code != store.TickReleased {
			t.Fatalf("release batch 0: %+v, %v", r, err)
		}
		send(t, st.Ledger("skew", sum.Stage), 0, 7, time.Now())
		if _, err := st.EndChunk(ctx, "skew", sum.Stage, 0, 0, true); err != nil {
			t.Fatal(err)
		}
		if r, err := st.Tick(ctx, "skew", tp, time.Now().Add(3*time.Hour)); err != nil || r.Code != store.TickDone {
			t.Fatalf("tick that sees every outcome: %+v, %v; want done", r, err)
		}
		s, err := st.Status(ctx, "skew")
		if err != nil {
			t.Fatal(err)
		}
		if s.State != store.StateDone {
			t.Fatalf("state %s, want done", s.State)
		}
		near(t, "done at", s.At)
		if n := len(s.Audit); n == 0 || s.Audit[n-1].Action != "done" {
			t.Fatalf("audit %+v: want the done last", s.Audit)
		} else {
			near(t, "the audit's done at", s.Audit[n-1].At)
		}
	})
}
