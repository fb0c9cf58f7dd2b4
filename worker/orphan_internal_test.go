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
	w, cs, _, sum := reconcileSetup(t, "oc", 1, 0, nil)
	st := w.st
	if err := w.enqueue(ctx, cs, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	id := taskID("oc", sum.Stage, 0, 0)
	cs.orphans = map[string]time.Time{id: time.Now().Add(-time.Hour)} // an earlier run, seen unannounced long ago
	if err := w.reconcile(ctx, cs, 0, sync.OnceValues(w.taskStates)); err != nil {
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
	// The inspector's listing of the queue's pending tasks fails, as during
	// a failover: the pass ends before it reaches chunk 1.
	w, cs, _, sum := reconcileSetup(t, "of", 2, 1, failOn{":pending"})
	if len(cs.meta.Batches) != 1 || cs.meta.Batches[0].Last != 1 {
		t.Fatalf("batches %+v: want one batch of chunks 0 and 1", cs.meta.Batches)
	}
	for n := range 2 {
		if err := w.enqueue(ctx, cs, n, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Both chunks' tasks were seen abandoned 5 s ago. The listing is read at
	// chunk 0, so chunk 0's clock was once dropped before it (found by a
	// reviewer), and chunk 1's is never reached.
	since := time.Now().Add(-5 * time.Second)
	ids := []string{taskID("of", sum.Stage, 0, 0), taskID("of", sum.Stage, 1, 0)}
	cs.orphans = map[string]time.Time{ids[0]: since, ids[1]: since}
	if err := w.reconcile(ctx, cs, 0, sync.OnceValues(w.taskStates)); err == nil {
		t.Fatal("the pass did not fail")
	}
	for n, id := range ids {
		if got, ok := cs.orphans[id]; !ok || !got.Equal(since) {
			t.Errorf("after a pass that failed, chunk %d's task looks abandoned since %v (kept: %v); want %v", n, got, ok, since)
		}
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
	w, cs, _, sum := reconcileSetup(t, "rl", 7, 1, nil) // 7 chunks of 1
	w.page = 2
	st := w.st
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
	if err := w.reconcile(ctx, cs, 0, sync.OnceValues(w.taskStates)); err != nil {
		t.Fatal(err)
	}
	if info, err := w.insp.GetTaskInfo("tidings-rl", lost); err != nil || info.State != asynq.TaskStatePending {
		t.Errorf("chunk 5's task after the pass: %+v, %v; want it enqueued again", info, err)
	}
	if _, gens, err := st.ChunkTasks(ctx, "rl"); err != nil || len(gens) != 0 {
		t.Errorf("generations %v, %v: want every listed task left alone", gens, err)
	}
}

// TestOrphanClockAfterAGapInTurns: a worker that held the reconcile turn
// without a gap keeps its clocks, so a task abandoned long enough is
// replaced; one that gets the turn back after a gap (another worker may
// have held it, and seen the task between two runs) counts the gap as one
// turn only, so a task run that just began is not replaced on a stale
// clock (found by a reviewer when the turn was not kept by its holder),
// while one it had seen abandoned long enough before the gap still is.
func TestOrphanClockAfterAGapInTurns(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		lastTurn time.Duration // how long ago this worker last reconciled
		seenFor  time.Duration // how long the task had looked abandoned then
		replaced bool
	}{
		{"turn held without a gap", 500 * time.Millisecond, time.Hour, true},
		{"turn back after a gap", time.Minute, 4 * time.Second, false},           // 4 s + one turn (3 s) < 10 s
		{"turn back after a gap, seen long", time.Minute, 8 * time.Second, true}, // 8 s + 3 s >= 10 s
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w, cs, rdb, sum := reconcileSetup(t, "ga", 1, 0, nil)
			cs.turnAt = time.Now().Add(-tt.lastTurn)
			st := w.st
			if err := w.enqueue(ctx, cs, 0, 0, 0); err != nil {
				t.Fatal(err)
			}
			id := taskID("ga", sum.Stage, 0, 0)
			activeInNoServer(t, rdb, "tidings-ga", id)
			cs.orphans = map[string]time.Time{id: cs.turnAt.Add(-tt.seenFor)}
			if err := w.reconcile(ctx, cs, 0, sync.OnceValues(w.taskStates)); err != nil {
				t.Fatal(err)
			}
			_, gens, err := st.ChunkTasks(ctx, "ga")
			if err != nil {
				t.Fatal(err)
			}
			if got := len(gens) != 0; got != tt.replaced {
				t.Errorf("task replaced: %v (generations %v), want %v", got, gens, tt.replaced)
			}
		})
	}
}

// activeInNoServer makes task id of queue q run (active) in no server asynq
// knows: as a run that began less than asynq's announcement interval ago,
// or whose worker was killed.
func activeInNoServer(t *testing.T, rdb *redis.Client, q, id string) {
	t.Helper()
	p := "asynq:{" + q + "}:"
	if err := rdb.Eval(context.Background(), `redis.call("LREM", KEYS[1], 0, ARGV[1]); redis.call("LPUSH", KEYS[2], ARGV[1]); redis.call("HSET", KEYS[3], "state", "active"); return 1`,
		[]string{p + "pending", p + "active", p + "t:" + id}, id).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestOrphanClockOnASlowWorker: a worker whose reconcile passes are all
// further apart than a turn (a loaded machine: TestKilledWorker's
// restarted worker, 1 run in 22 at load 45, left a killed worker's tasks
// to asynq's recovery at 63 s) still replaces a task abandoned long
// enough. Each interval between its passes counts for at most one turn:
// the time it did not look is not counted in full (the task may have been
// between two runs then), but what it saw is not forgotten either. The
// passes run on a clock the test moves (two turns a pass): the task is
// replaced at the first pass whose counted time reaches the grace, not
// before (a gap counted in full) and not never (every clock reset at a
// gap, as before).
func TestOrphanClockOnASlowWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, cs, rdb, sum := reconcileSetup(t, "sw", 1, 0, nil)
	clock := cs.turnAt
	w.clock = func() time.Time { return clock }
	if err := w.enqueue(ctx, cs, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	activeInNoServer(t, rdb, "tidings-sw", taskID("sw", sum.Stage, 0, 0))
	turn := 3 * w.cfg.ReconcileInterval
	// First seen at pass 1; each later pass counts one turn.
	want := 1 + int((w.cfg.OrphanGrace+turn-1)/turn)
	for pass := 1; pass <= 4*want; pass++ {
		clock = clock.Add(2 * turn)
		if err := w.reconcile(ctx, cs, 0, sync.OnceValues(w.taskStates)); err != nil {
			t.Fatal(err)
		}
		_, gens, err := w.st.ChunkTasks(ctx, "sw")
		if err != nil {
			t.Fatal(err)
		}
		if len(gens) != 0 {
			if pass != want {
				t.Errorf("replaced at pass %d (%v apart), want at pass %d: the grace is %v, a pass counts at most %v", pass, 2*turn, want, w.cfg.OrphanGrace, turn)
			}
			return
		}
	}
	t.Errorf("not replaced after %d passes %v apart: a slow worker never replaces an abandoned task (asynq's recovery takes 60-120 s)", 4*want, 2*turn)
}

// reconcileSetup stages campaign c (n recipients, chunks of chunkSize; 0:
// the default) and releases it, and returns a worker of queue tidings-<c>
// that reconciles it (interval 1 s, grace 10 s), its inspector on a client
// with hook (nil: none), with the campaign's state as of a turn it held
// just now.
func reconcileSetup(t *testing.T, c string, n, chunkSize int, hook redis.Hook) (*Worker, *campaignState, *redis.Client, *store.StageSummary) {
	t.Helper()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	sum := stageTest(t, st, c, n, chunkSize, true)
	meta, err := st.Meta(context.Background(), c, false)
	if err != nil {
		t.Fatal(err)
	}
	insp := rdb
	if hook != nil {
		insp = redis.NewClient(rdb.Options())
		t.Cleanup(func() { _ = insp.Close() })
		insp.AddHook(hook)
	}
	w := &Worker{
		cfg: Config{Queue: "tidings-" + c, WorkerID: "w", OrphanGrace: 10 * time.Second, ReconcileInterval: time.Second},
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), st: st,
		client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(insp),
	}
	return w, &campaignState{name: c, stage: sum.Stage, meta: meta, turnAt: time.Now()}, rdb, sum
}

// TestReconcileLeavesAChunkThatFinishedMeanwhile: a chunk whose task ends
// between the pass's read of the finished chunks and its listing of the
// queue (the chunk recorded finished, then asynq deleted the task) is
// not given a task again: a second run of a finished chunk reads its
// ledger entries for nothing (found as TestWronglyFreshChunkSendsNobodyTwice
// and TestFirstPassReadsNoLedger failing under load: one read of a chunk's
// entries each, the chunk's task run again after it finished).
func TestReconcileLeavesAChunkThatFinishedMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, cs, _, sum := reconcileSetup(t, "fm", 1, 0, nil)
	if err := w.enqueue(ctx, cs, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	id := taskID("fm", sum.Stage, 0, 0)
	ended := false
	// The listing, as the pass reads it after the finished chunks: the
	// task's run ended meanwhile, as a worker's handler ends it.
	tasks := func() (map[string]asynq.TaskState, error) {
		if !ended {
			ended = true
			sendAll(t, w.st, "fm", sum.Stage, "r0")
			if end, err := w.st.EndChunk(ctx, "fm", sum.Stage, 0, 0, true); err != nil || !end.Recorded {
				t.Fatalf("end chunk 0: %+v, %v", end, err)
			}
			if err := w.insp.DeleteTask("tidings-fm", id); err != nil { // asynq, once the handler returned nil
				t.Fatal(err)
			}
		}
		return w.taskStates()
	}
	if err := w.reconcile(ctx, cs, 0, tasks); err != nil {
		t.Fatal(err)
	}
	if !ended {
		t.Fatal("the pass never listed the queue: the test shows nothing")
	}
	if info, err := w.insp.GetTaskInfo("tidings-fm", id); err == nil {
		t.Errorf("chunk 0, finished, has a task again (%v)", info.State)
	} else if !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatal(err)
	}
}

// sendAll claims and records sent the recipients ids (German) of
// campaign c, staging stage.
func sendAll(t *testing.T, st *store.Store, c, stage string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	l, p := st.Ledger(c, stage), store.Policy{MaxAttempts: 3}
	var cls []store.Claim
	var recs []store.Record
	for _, id := range ids {
		cls = append(cls, store.Claim{ID: id, Lang: "de", Token: "test/1"})
		recs = append(recs, store.Record{ID: id, Lang: "de", Kind: store.KindSent, Token: "test/1"})
	}
	if res, err := l.Step(ctx, nil, cls, p, time.Now()); err != nil || len(res.Claims) != len(ids) {
		t.Fatalf("claim %v: %+v, %v", ids, res, err)
	}
	if _, err := l.Step(ctx, recs, nil, p, time.Now()); err != nil {
		t.Fatalf("record %v sent: %v", ids, err)
	}
}
