package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestOutOfMemoryMidStaging: Redis reaches its maxmemory (noeviction:
// every write refused with OOM) while a send stages a campaign's first
// staging (CONFIG SET maxmemory 1 after 100 of 300 rows, on a real
// redis-server of the test's own). The staging fails saying OOM, and
// what it left is no half-staged campaign that sends: its control is not
// running (no worker acts on it), and its status says the staging was
// interrupted and that no worker sends it. Once memory is back, the send
// run again stages it afresh: all 300 rows, each once, and it runs.
func TestOutOfMemoryMidStaging(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	rdb := r.Client()
	st := store.New(rdb)
	ctx := context.Background()
	const c, n = "oom", 300
	cfg := store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "bob", Host: "laptop", ChunkSize: 7}
	stage := func(sg *store.Stager, from, to int) error {
		for i := from; i < to; i++ {
			rc := store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Lang: "de", Fields: map[string]string{"pad": strings.Repeat("x", 200)}}
			if err := sg.Add(ctx, rc, 0, false); err != nil {
				return err
			}
		}
		return nil
	}
	sg, err := st.NewStager(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := stage(sg, 0, 100); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	err = stage(sg, 100, n)
	if err == nil {
		_, err = sg.Finish(ctx, true)
	}
	if err == nil || !strings.Contains(err.Error(), "OOM") {
		t.Fatalf("staging under OOM: %v, want Redis's OOM", err)
	}
	sg.Abort(ctx) // as send does when staging fails
	if p, err := st.Probe(ctx, c); err != nil || p.State == store.StateRunning {
		t.Fatalf("the half-staged campaign: %+v, %v; want it not running", p, err)
	}
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != store.StateStagingInterrupted || !strings.Contains(s.Reason, "no worker sends it") {
		t.Errorf("status of the half-staged campaign: %s %q; want %s saying no worker sends it", s.State, s.Reason, store.StateStagingInterrupted)
	}

	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	sg, err = st.NewStager(ctx, cfg) // the send run again
	if err != nil {
		t.Fatalf("staging again once memory is back: %v", err)
	}
	if err := stage(sg, 0, n); err != nil {
		t.Fatal(err)
	}
	if _, err := sg.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	if s, err = st.Status(ctx, c); err != nil || s.State != store.StateRunning || s.Total != n {
		t.Fatalf("staged again: %v; want running with %d recipients", err, n)
	}
	meta, err := st.Meta(ctx, c, false)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, b := range meta.Batches {
		for k := b.First; k <= b.Last; k++ {
			recs, err := st.Chunk(ctx, c, k)
			if err != nil {
				t.Fatal(err)
			}
			for _, rc := range recs {
				seen[rc.ID]++
			}
		}
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s is in the chunks %d times", id, k)
		}
	}
	if len(seen) != n {
		t.Errorf("%d recipients in the chunks, want %d", len(seen), n)
	}
}
