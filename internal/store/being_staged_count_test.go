package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestBeingStagedCountsTheRowsWritten: while its first staging runs, a
// campaign's status (*store.BeingStagedError, store.BeingStaged) says how
// many recipients that staging has written so far: the count its record
// as begun holds, rewritten once per written batch of chunks (no write per
// row); the rows of a chunk not written yet are not counted. `tidings
// status` of a 200,000-row campaign being staged said "0/0 recipients".
func TestBeingStagedCountsTheRowsWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	for _, tt := range []struct {
		name string
		rows int
		want int
	}{
		{"nothing written yet", 20, 0},               // 2 whole chunks of 7 queued, not written
		{"one batch of 16 chunks written", 112, 112}, // the 16th chunk of 7 writes them
		{"the rows after it not yet", 120, 112},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := fmt.Sprintf("c%d", tt.rows)
			sg := begin(t, st, c) // chunks of 7
			defer sg.Abort(ctx)
			for i := range tt.rows {
				if err := sg.Add(ctx, store.Recipient{ID: fmt.Sprint(i), Email: fmt.Sprintf("u%d@example.com", i), Lang: "en", Line: i + 2}, 0, false); err != nil {
					t.Fatal(err)
				}
			}
			_, err := st.Status(ctx, c)
			var be *store.BeingStagedError
			if !errors.As(err, &be) || be.Staged != tt.want {
				t.Fatalf("status while staging %d rows: %v (%+v); want a *BeingStagedError with %d staged", tt.rows, err, be, tt.want)
			}
			if s := store.BeingStaged(c, "test", be); s.Staged != int64(tt.want) {
				t.Errorf("BeingStaged: %d staged; want %d", s.Staged, tt.want)
			}
		})
	}
}
