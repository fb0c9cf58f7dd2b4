package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusNamesTheLostChunks: Status names every chunk Redis lost, in
// batch order (the canary batch, staged last, first), and none when
// Redis lost none.
func TestStatusNamesTheLostChunks(t *testing.T) {
	t.Parallel()
	// 6 canary recipients (chunk 5, batch 0), then 34 in batches of 14:
	// chunks 0-1 (batch 1), 2-3 (batch 2), 4 (batch 3).
	for _, tc := range []struct {
		name string
		del  []int
		want []int
	}{
		{"none", nil, nil},
		{"one", []int{3}, []int{3}},
		{"the canary's and others", []int{4, 1, 5}, []int{5, 1, 4}},
		{"every one", []int{0, 1, 2, 3, 4, 5}, []int{5, 0, 1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rdb := startRedis(t)
			st := store.New(rdb)
			ctx := context.Background()
			sum := stage(t, st, "c-lost", stageOpts{n: 40, canary: 2, size: 14})
			if sum.Chunks != 6 {
				t.Fatalf("staged %d chunks, want 6", sum.Chunks)
			}
			for _, n := range tc.del {
				if err := rdb.Del(ctx, fmt.Sprintf("tidings:{c-lost}:chunk:%d", n)).Err(); err != nil {
					t.Fatal(err)
				}
			}
			s, err := st.Status(ctx, "c-lost")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.LostChunks, tc.want) {
				t.Errorf("LostChunks %v, want %v", s.LostChunks, tc.want)
			}
		})
	}
}
