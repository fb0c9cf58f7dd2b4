package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestCancelReportsProgress: a cancel sweeps every chunk of the campaign
// (seconds for 200,000 recipients), and says as it goes how many of the
// recipients staged it has swept, so that the command can show it: the
// last report is every one of them, and the counts only grow.
func TestCancelReportsProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	const n = 100
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: "swept", Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Locale: "en", Lang: "en"}, i/40, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sg.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	var dones []int
	got, _, err := st.CancelWatched(ctx, "swept", store.Actor{Who: "bob"}, "wrong list", func(done, total int) {
		if total != n {
			t.Errorf("progress total %d, want %d", total, n)
		}
		dones = append(dones, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Recipients != n {
		t.Errorf("cancelled %d, want %d", got.Recipients, n)
	}
	// 100 recipients in chunks of 7 within batches of 40: 6+6+3 chunks.
	if len(dones) != 15 || dones[len(dones)-1] != n {
		t.Fatalf("progress %v, want one report a chunk (15), the last %d", dones, n)
	}
	for i := 1; i < len(dones); i++ {
		if dones[i] <= dones[i-1] {
			t.Fatalf("progress %v goes back", dones)
		}
	}
}
