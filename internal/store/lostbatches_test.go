package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestTickPausesOnLostBatches: Redis loses a campaign's batches (which
// chunks each batch holds) while it is paused over a weekend (an eviction,
// an operator's clean-up; TestKeyLostWhilePaused in worker), and it is
// resumed. Before, every tick failed on them (a Lua error: cjson.decode of
// the missing entry, logged by each worker every tick), and the campaign
// stayed running for ever, its next batch never released and nothing
// telling on-call why. Now the tick pauses it as state loss, naming what
// was lost and what to do, and resume refuses it.
func TestTickPausesOnLostBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := startRedis(t)
	st := store.New(rdb)
	const c = "c-lost-batches"
	sum := stage(t, st, c, stageOpts{n: 6, size: 3})
	if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick %+v", r)
	}
	sendAll(t, st.Ledger(c, sum.Stage), 0, 2)
	if _, err := st.Pause(ctx, c, who, "2 a.m. Saturday"); err != nil {
		t.Fatal(err)
	}
	if got, err := rdb.Unlink(ctx, "tidings:{"+c+"}:batches").Result(); err != nil || got != 1 {
		t.Fatalf("unlink batches: %d, %v", got, err)
	}
	if _, err := st.Resume(ctx, c, who, "Monday"); err != nil {
		t.Fatal(err)
	}
	r, err := st.Tick(ctx, c, store.TickParams{Stage: sum.Stage}, time.Now())
	if err != nil {
		t.Fatalf("tick after the batches were lost: %v", err)
	}
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	const says = "Redis lost this campaign's batches"
	if r.Code != store.TickStateLoss || s.State != store.StatePaused || s.Action != "state-loss" || !strings.Contains(s.Reason, says) || !strings.Contains(s.Reason, "stage it again excluding the deliveries") {
		t.Fatalf("tick %+v; status %s, action %q, reason %q; want paused as state-loss saying %q", r, s.State, s.Action, s.Reason, says)
	}
	if _, err := st.Resume(ctx, c, who, ""); err == nil {
		t.Error("resume of a campaign paused for lost batches went through")
	}
}
