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
