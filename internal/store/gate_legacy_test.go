package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestGateOfFirstAttemptsAnEarlierBuildCounted: a batch whose first
// attempts an earlier build's workers recorded (they counted them in
// bstats "<batch>:attempted", before tried and sent_late) is still gated
// by this build's tick when they failed: the gate takes the larger of the
// two counts. Before, it read tried + sent - sent_late alone, 0 there, and
// a canary of nothing but failures released the next batch (the gate
// skips a batch with no attempt).
func TestGateOfFirstAttemptsAnEarlierBuildCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := startRedis(t)
	st := store.New(rdb)
	const c, n = "c-gate-earlier", 10
	pol := store.Policy{MaxAttempts: 1}
	// Two batches: the second is what the gate holds back.
	sum, _, _ := gateRunOf(t, st, c, stageOpts{n: 2 * n, size: n}, pol, slices.Repeat([]store.Kind{store.KindFailed}, n)...)
	k := "tidings:{" + c + "}:bstats"
	tried, err := rdb.HGet(ctx, k, "0:tried").Int()
	if err != nil || tried != n {
		t.Fatalf("batch 0's tried %d (%v), want %d", tried, err, n)
	}
	// As an earlier build's step wrote them.
	if err := rdb.HDel(ctx, k, "0:tried").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, k, "0:attempted", n).Err(); err != nil {
		t.Fatal(err)
	}
	r := tick(t, st, c, sum, store.TickParams{MaxFailureRate: 0.3, MaxAttempts: 1})
	if r.Code != store.TickGated {
		t.Fatalf("tick after %d failed first attempts an earlier build counted: %+v; want the gate", n, r)
	}
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Batches[0].Attempted; got != n {
		t.Errorf("status: batch 0 attempted %d, want %d", got, n)
	}
}
