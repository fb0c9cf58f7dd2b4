package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestSweepSums: what a sweep returns says, sum by sum, what it did.
// The campaign has a canary (batch 0: r0 being sent, r1 failed with a
// temporary error) and a batch 1 (r2 failed the same way, r3 pending). A
// cancel cancels r3 and finds r0 being sent (in flight, not among those
// cancelled); a retry re-queues r1 and r2, r1 of them batch 0's, and finds
// nobody in flight. Before, the second sum meant in flight for a cancel
// and batch 0's re-queued for a retry.
func TestSweepSums(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		action              string
		state               State
		n, inFlight, batch0 int
	}{
		{"cancel", StateCancelled, 1, 1, 0},
		{"retry", StateDone, 2, 0, 1},
	} {
		t.Run(tt.action, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := New(redistest.Start(t).Client())
			c := "sums-" + tt.action
			sg, err := s.NewStager(ctx, StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "t", Canary: true, ChunkSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			for i, b := range []int{0, 0, 1, 1} {
				if err := sg.Add(ctx, Recipient{Line: 2 + i, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Locale: "de", Lang: "de"}, b, b == 0); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := sg.Finish(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			k := keysFor(c)
			failed := "failed|1|1|451|t|later"
			if err := s.rdb.HSet(ctx, k.ledger, "r0", "sending|1|1|||tok0", "r1", failed, "r2", failed).Err(); err != nil {
				t.Fatal(err)
			}
			if err := s.rdb.HSet(ctx, k.control, "state", string(tt.state)).Err(); err != nil {
				t.Fatal(err)
			}
			n, inFlight, batch0, err := s.sweep(ctx, c, tt.action, sum.Stage, RetryScope{}, nil)
			if err != nil || n != tt.n || inFlight != tt.inFlight || batch0 != tt.batch0 {
				t.Errorf("sweep: n %d, in flight %d, batch 0's %d, %v; want %d, %d, %d", n, inFlight, batch0, err, tt.n, tt.inFlight, tt.batch0)
			}
		})
	}
}
