package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestChunkEndAdvancesOnlyWhenTheCampaignCan: EndChunk says Advance (the
// worker wakes its dispatch loop) only for the end that completes its
// batch's first pass, and for a finished end once every recipient has an
// outcome (done): not for the other ends of a batch (a huge campaign's
// chunks would each wake the loop and run the tick for nothing), not for
// a chunk's second end, not for an unfinished end after the first pass.
// Two batches of two chunks (chunk size 7), each step after the one
// before.
func TestChunkEndAdvancesOnlyWhenTheCampaignCan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, sum, l := released(t, "c-advance", 28, 14)
	pol := store.Policy{MaxAttempts: 2}
	sendAll := func(t *testing.T, n int) {
		recs, err := st.Chunk(ctx, "c-advance", n)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			attempt(t, l, r, store.KindSent, pol, time.Now())
		}
	}
	for _, tt := range []struct {
		name     string
		send     bool // send the chunk's recipients first
		tick     bool // tick first (releases batch 1 once batch 0 passed)
		batch, n int
		finished bool
		advance  bool
	}{
		{"batch 0's first chunk, finished", true, false, 0, 0, true, false},
		{"the same chunk ended again", false, false, 0, 0, true, false},
		{"batch 0's last chunk: its first pass complete", true, false, 0, 1, true, true},
		{"batch 1's first chunk, not finished", true, true, 1, 2, false, false},
		{"batch 1's last chunk, not finished: its first pass complete", true, false, 1, 3, false, true},
		{"chunk 2 again, not finished", false, false, 1, 2, false, false},
		{"chunk 2 finished: chunk 3 is not, but every recipient has an outcome", false, false, 1, 2, true, true},
	} {
		if tt.tick {
			if r := tick(t, st, "c-advance", sum, store.TickParams{}); r.Code != store.TickReleased || r.Batch != tt.batch {
				t.Fatalf("%s: tick %+v, want batch %d released", tt.name, r, tt.batch)
			}
		}
		if tt.send {
			sendAll(t, tt.n)
		}
		end, err := st.EndChunk(ctx, "c-advance", sum.Stage, tt.batch, tt.n, tt.finished)
		if err != nil || !end.Recorded || end.Advance != tt.advance {
			t.Errorf("%s: EndChunk = %+v, %v; want recorded, advance %v", tt.name, end, err, tt.advance)
		}
	}
}
