package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

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
	sum := stageTest(t, st, "oc", 1, 0, true)
	meta, err := st.Meta(ctx, "oc", false)
	if err != nil {
		t.Fatal(err)
	}
	w := &Worker{
		cfg: Config{Queue: "tidings-oc", OrphanGrace: 10 * time.Second}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		st: st, client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb),
	}
	cs := &campaignState{name: "oc", stage: sum.Stage, meta: meta}
	if err := w.enqueue(ctx, cs, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	id := taskID("oc", sum.Stage, 0, 0)
	cs.orphans = map[string]time.Time{id: time.Now().Add(-time.Hour)} // an earlier run, seen unannounced long ago
	if err := w.reconcile(ctx, cs, sync.OnceValues(w.taskStates)); err != nil {
		t.Fatal(err)
	}
	if since, ok := cs.orphans[id]; ok {
		t.Errorf("a pending task still looks abandoned since %v: its next run would be replaced at once", since)
	}
	if _, gens, err := st.ChunkTasks(ctx, "oc"); err != nil || len(gens) != 0 {
		t.Errorf("generations %v, %v: want the task left alone", gens, err)
	}
}

// TestOrphanClockSurvivesAFailedPass: a reconcile pass that a Redis error
// ends before it reaches a task keeps how long that task has looked
// abandoned. Had it dropped the clock, errors during a failover would put
// off replacing a killed worker's task again and again, up to asynq's own
// lease (30 s or more).
func TestOrphanClockSurvivesAFailedPass(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	sum := stageTest(t, st, "of", 2, 1, true)
	meta, err := st.Meta(ctx, "of", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Batches) != 1 || meta.Batches[0].Last != 1 {
		t.Fatalf("batches %+v: want one batch of chunks 0 and 1", meta.Batches)
	}
	// The inspector's listing of the queue's pending tasks fails, as during
	// a failover: the pass ends before it reaches chunk 1.
	id1 := taskID("of", sum.Stage, 1, 0)
	failing := redis.NewClient(rdb.Options())
	t.Cleanup(func() { _ = failing.Close() })
	failing.AddHook(failOn{":pending"})
	w := &Worker{
		cfg: Config{Queue: "tidings-of", OrphanGrace: 10 * time.Second}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		st: st, client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(failing),
	}
	cs := &campaignState{name: "of", stage: sum.Stage, meta: meta}
	for n := range 2 {
		if err := w.enqueue(ctx, cs, n, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Now().Add(-5 * time.Second)
	cs.orphans = map[string]time.Time{id1: since} // chunk 1's task, seen abandoned 5 s ago
	if err := w.reconcile(ctx, cs, sync.OnceValues(w.taskStates)); err == nil {
		t.Fatal("the pass did not fail")
	}
	if got, ok := cs.orphans[id1]; !ok || !got.Equal(since) {
		t.Errorf("after a pass that failed before reaching it, chunk 1's task looks abandoned since %v (kept: %v); want %v", got, ok, since)
	}
}

// failOn fails every command that names id (or a key containing it), as a
// Redis in failover would.
type failOn struct{ id string }

func (f failOn) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f failOn) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if strings.Contains(fmt.Sprint(cmd.Args()...), f.id) {
			err := errors.New("READONLY You can't write against a read only replica.")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}
func (f failOn) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// stageTest stages campaign c with n recipients r0, r1, ... (German), in
// chunks of chunkSize (0: the default), starts it and, with release, lets
// its first batch go.
func stageTest(t *testing.T, st *store.Store, c string, n, chunkSize int, release bool) *store.StageSummary {
	t.Helper()
	ctx := context.Background()
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "t", ChunkSize: chunkSize})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprint("r", i)
		if err := sg.Add(ctx, store.Recipient{Line: 2 + i, ID: id, Email: id + "@x.example", Locale: "de", Lang: "de"}, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if !release {
		return sum
	}
	if res, err := st.Tick(ctx, c, store.TickParams{Stage: sum.Stage}, time.Now()); err != nil || res.Code != store.TickReleased {
		t.Fatalf("release the first batch of %s: %+v, %v", c, res, err)
	}
	return sum
}

// TestReconcileFromListings: a reconcile pass reads the queue's tasks in
// listings (here 2 tasks at a time, over several pages) and leaves the
// listed tasks alone; a chunk whose task is gone (deleted, as a failover
// loses it) gets a task again, found by looking that one up.
func TestReconcileFromListings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	sum := stageTest(t, st, "rl", 7, 1, true) // 7 chunks of 1
	meta, err := st.Meta(ctx, "rl", false)
	if err != nil {
		t.Fatal(err)
	}
	w := &Worker{
		cfg: Config{Queue: "tidings-rl", OrphanGrace: 10 * time.Second}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		st: st, client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb), page: 2,
	}
	cs := &campaignState{name: "rl", stage: sum.Stage, meta: meta}
	for n := range 7 {
		if err := w.enqueue(ctx, cs, n, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	states, err := w.taskStates()
	if err != nil {
		t.Fatal(err)
	}
	for n := range 7 {
		if id := taskID("rl", sum.Stage, n, 0); states[id] != asynq.TaskStatePending {
			t.Errorf("chunk %d's task %s listed as %v, want pending (listings: %v)", n, id, states[id], states)
		}
	}
	lost := taskID("rl", sum.Stage, 5, 0)
	if err := w.insp.DeleteTask("tidings-rl", lost); err != nil {
		t.Fatal(err)
	}
	if err := w.reconcile(ctx, cs, sync.OnceValues(w.taskStates)); err != nil {
		t.Fatal(err)
	}
	if info, err := w.insp.GetTaskInfo("tidings-rl", lost); err != nil || info.State != asynq.TaskStatePending {
		t.Errorf("chunk 5's task after the pass: %+v, %v; want it enqueued again", info, err)
	}
	if _, gens, err := st.ChunkTasks(ctx, "rl"); err != nil || len(gens) != 0 {
		t.Errorf("generations %v, %v: want every listed task left alone", gens, err)
	}
}
