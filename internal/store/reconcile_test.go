package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/wait"
)

// TestReconcileTurn: one worker at a time reconciles a campaign, and keeps
// the turn by asking again; once it stops asking, the turn runs out and
// goes to whoever asks first.
func TestReconcileTurn(t *testing.T) {
	t.Parallel()
	st, _, _ := released(t, "c-turn", 3, 3)
	ctx := context.Background()
	turn := func(owner string) bool {
		t.Helper()
		ok, err := st.ReconcileTurn(ctx, "c-turn", owner, 2*time.Second) // long enough that no stall between two calls ends it
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !turn("w1") {
		t.Fatal("w1 did not get the first turn")
	}
	if turn("w2") {
		t.Fatal("w2 got the turn while w1's runs")
	}
	if !turn("w1") {
		t.Fatal("w1 could not keep its turn")
	}
	wait.For(t, 30*time.Second, "w2 to get the turn after w1's", func() bool { return turn("w2") })
	if turn("w1") {
		t.Fatal("w1 got the turn while w2's runs")
	}
}

// TestBumpGen: a chunk's task moves to its next generation only from the
// generation the caller saw, and only in the staging the caller read: two
// workers replacing the same abandoned task (the reconcile turn lapsed
// between them) give the chunk one successor, not two running at once.
func TestBumpGen(t *testing.T) {
	t.Parallel()
	st, sum, _ := released(t, "c-gen", 3, 3)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		stage string
		seen  int64
		want  int64
	}{
		{"first replacement", sum.Stage, 0, 1},
		{"a second worker that saw generation 0", sum.Stage, 0, -1},
		{"the next replacement", sum.Stage, 1, 2},
		{"a task of an earlier staging", "an-earlier-stage", 2, -1},
	} {
		got, err := st.BumpGen(ctx, "c-gen", tc.stage, 0, tc.seen)
		if err != nil || got != tc.want {
			t.Fatalf("%s: BumpGen = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	if _, gens, err := st.ChunkTasks(ctx, "c-gen"); err != nil || gens[0] != 2 || gens[1] != 0 {
		t.Fatalf("ChunkTasks: gens %v, %v; want chunk 0 at 2, chunk 1 at 0", gens, err)
	}
}
