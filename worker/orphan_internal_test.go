package worker

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestOrphanClockRestartsBetweenRuns: how long a task has looked abandoned
// is forgotten as soon as the task is seen between two runs (pending,
// scheduled, retrying). The same task id runs again after a retry; had its
// clock kept the time its earlier run was first seen unannounced, the next
// run would be replaced as soon as it started, before asynq announced it.
func TestOrphanClockRestartsBetweenRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: "oc", Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Locale: "de", Lang: "de"}, 0, false); err != nil {
		t.Fatal(err)
	}
	sum, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := st.Tick(ctx, "oc", store.TickParams{Stage: sum.Stage}, time.Now()); err != nil || res.Code != store.TickReleased {
		t.Fatalf("release the first batch: %+v, %v", res, err)
	}
	meta, err := st.Meta(ctx, "oc", false)
	if err != nil {
		t.Fatal(err)
	}
	w := &Worker{
		cfg: Config{Queue: "tidings-oc", OrphanGrace: 10 * time.Second}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		st: st, client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb),
	}
	cs := &campaignState{name: "oc", stage: sum.Stage, batches: meta.Batches}
	if err := w.enqueue(ctx, cs, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	id := taskID("oc", sum.Stage, 0, 0)
	cs.orphans = map[string]time.Time{id: time.Now().Add(-time.Hour)} // an earlier run, seen unannounced long ago
	if err := w.reconcile(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if since, ok := cs.orphans[id]; ok {
		t.Errorf("a pending task still looks abandoned since %v: its next run would be replaced at once", since)
	}
	if _, gens, err := st.ChunkTasks(ctx, "oc"); err != nil || len(gens) != 0 {
		t.Errorf("generations %v, %v: want the task left alone", gens, err)
	}
}
