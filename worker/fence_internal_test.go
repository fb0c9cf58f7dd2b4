package worker

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestFenceAndBeginNeverBothTakeAClaim: Run's fence (a chunk stuck past
// the shutdown timeout) and the chunk's own goroutine share the window's
// claims: each claim is either begun by the chunk (sent, never given back
// by the fence) or given back (by the fence, or by the chunk when it
// stops), never both and never neither. A claim the fence gave back is not
// begun afterwards, and the chunk does not give it back a second time.
func TestFenceAndBeginNeverBothTakeAClaim(t *testing.T) {
	tests := []struct {
		name string
		// begun: the claims the chunk begins before the fence.
		begun []int
		// stopAt: the index from which the chunk, stopping after the
		// fence, gives back its window (unclaim); -1: it does not stop.
		stopAt int
		// fenced, chunk: the claims given back by the fence, and by the
		// chunk.
		fenced, chunk []string
		// refused: the claim the chunk tries to begin after the fence,
		// refused (-1: none tried).
		refused int
	}{
		{name: "fenced before the first message", begun: nil, stopAt: 0, fenced: []string{"a", "b", "c", "d"}, refused: 0},
		{name: "fenced while the first is sent", begun: []int{0}, stopAt: 1, fenced: []string{"b", "c", "d"}, refused: 1},
		{name: "fenced after the third began", begun: []int{0, 1, 2}, stopAt: 3, fenced: []string{"d"}, refused: 3},
		{name: "the begun claim was not sent after all (a redial saw the stop)", begun: []int{0, 1}, stopAt: 1, fenced: []string{"c", "d"}, chunk: []string{"b"}, refused: -1},
		{name: "fenced after the whole window began", begun: []int{0, 1, 2, 3}, stopAt: -1, refused: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &Worker{log: slog.New(slog.DiscardHandler)} // no journal: give-backs are ledger records only
			r := &run{w: w, cs: &campaignState{name: "c"}}
			var claims []store.Claim
			for _, id := range []string{"a", "b", "c", "d"} {
				claims = append(claims, store.Claim{ID: id, Token: "t-" + id})
			}
			held := []int{0, 1, 2, 3}
			if !r.open(claims, held) {
				t.Fatal("open refused a window before any fence")
			}
			for _, j := range tt.begun {
				if !r.begin(j) {
					t.Fatalf("begin(%d) refused before the fence", j)
				}
			}
			if got := ids(r.fence()); !slices.Equal(got, tt.fenced) {
				t.Errorf("the fence gave back %v, want %v", got, tt.fenced)
			}
			if tt.refused >= 0 && r.begin(tt.refused) {
				t.Errorf("begin(%d) after the fence: allowed, want refused (its claim was given back)", tt.refused)
			}
			if tt.stopAt >= 0 {
				r.unclaim(claims, tt.stopAt, held)
			} else {
				r.close()
			}
			if got := ids(r.recs); !slices.Equal(got, tt.chunk) {
				t.Errorf("the chunk gave back %v, want %v", got, tt.chunk)
			}
			if r.open(claims, held) {
				t.Error("open allowed a new window after the fence")
			}
		})
	}
}

// ids returns the ids of recs that give a claim back.
func ids(recs []store.Record) []string {
	var out []string
	for _, rec := range recs {
		if rec.Kind == store.KindUnclaim {
			out = append(out, rec.ID)
		}
	}
	return out
}
