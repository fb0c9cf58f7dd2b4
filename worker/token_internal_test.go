package worker

import (
	"strconv"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestClaimTokens: a window's tokens, written into one string, are what
// each claim's token was before (WorkerID + "/" + its number in base 36),
// the worker's next numbers in order, for windows of 1 to more than the 64
// ends kept on the stack and numbers whose base-36 text grows within the
// window; the next window goes on from the last number.
func TestClaimTokens(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		id    string
		from  uint64 // claims made before the window
		k     int
		label string
	}{
		{"host-1", 0, 1, "first claim"},
		{"host-1", 0, 16, "default window"},
		{"w/7", 30, 10, "digits grow from 1 to 2 (35 -> 36 -> 'z' -> '10')"},
		{"worker-with-a-long-name.example.org-12345", 36*36 - 5, 70, "more than 64 claims, 2 to 3 digits"},
		{"", 1<<64 - 3, 2, "the largest numbers (the second window wraps, as the counter does)"},
	} {
		t.Run(tt.label, func(t *testing.T) {
			t.Parallel()
			w := &Worker{cfg: Config{WorkerID: tt.id}}
			w.claims.Store(tt.from)
			for window := 0; window < 2; window++ {
				claims := make([]store.Claim, tt.k)
				w.claimTokens(claims)
				for j, c := range claims {
					n := tt.from + uint64(window*tt.k+j) + 1
					if want := tt.id + "/" + strconv.FormatUint(n, 36); c.Token != want {
						t.Fatalf("window %d claim %d: token %q, want %q", window, j, c.Token, want)
					}
				}
			}
		})
	}
	w := &Worker{}
	w.claimTokens(nil) // no claims: no number taken
	if n := w.claims.Load(); n != 0 {
		t.Errorf("an empty window took %d numbers", n)
	}
}
