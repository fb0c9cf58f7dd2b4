package worker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/tidings-mail/tidings/internal/buildinfo"
	"github.com/tidings-mail/tidings/internal/store"
)

// rebuildEvery is how often the worker makes the global sets of campaigns
// agree with the campaigns' own state, and trims rate counters.
const rebuildEvery = 30 * time.Second

// dispatchLoop moves every running campaign forward (tick: every
// TickInterval, and at once when one starts) and keeps its
// released chunks alive (reconcile).
func (w *Worker) dispatchLoop(ctx context.Context) {
	var lastReconcile, lastRebuild time.Time
	every(ctx, w.cfg.TickInterval, w.tick, func() {
		if time.Since(lastRebuild) >= rebuildEvery {
			w.outage.note(ctx, "rebuild the active campaigns", w.st.RebuildActive(ctx))
			w.outage.note(ctx, "record this worker's build", w.st.SayBuild(ctx, w.cfg.Env, w.cfg.WorkerID, buildinfo.String())) // doctor reads it
			lastRebuild = time.Now()
		}
		var tasks func() (map[string]asynq.TaskState, error) // nil: no reconcile this pass
		if time.Since(lastReconcile) >= w.cfg.ReconcileInterval {
			lastReconcile = time.Now()
			tasks = sync.OnceValues(w.taskStates) // listed once for every campaign, if one needs it
		}
		w.mu.Lock()
		states := w.states // refreshStates replaces it whole, never changes it
		w.mu.Unlock()
		reached := true // every running campaign advanced (or not for want of Redis): the pass reached Redis
		for c, p := range states {
			if w.metaLost(ctx, c, p) {
				continue
			}
			if p.State != store.StateRunning || !w.ours(p) {
				continue // not running, or another environment's
			}
			if err := w.advance(ctx, c, tasks); err != nil && ctx.Err() == nil {
				w.outage.warn("dispatch", err, "campaign", c)
				reached = reached && !held(err)
			}
		}
		// Only a pass that reconciled has written: under Redis out of
		// memory (OOM) a tick that writes nothing is answered, which
		// must not end the outage said (one WARN per outage).
		if reached && tasks != nil {
			w.outage.answered("dispatch")
		}
		if tasks != nil {
			w.countDoubted(ctx)
		}
		w.forget(states)
		w.flushBacklogs(ctx, false)
		if w.afterPass != nil {
			w.afterPass(states, tasks != nil)
		}
	})
}

// advance ticks running campaign c and, given the queue's tasks, reconciles
// its chunks.
func (w *Worker) advance(ctx context.Context, c string, tasks func() (map[string]asynq.TaskState, error)) error {
	cs, err := w.campaign(ctx, c, "")
	if _, other := errors.AsType[*store.FormatError](err); other || errors.Is(err, store.ErrNotFound) {
		return nil // gone: the control loop says so; of another format: sayFormat said so
	}
	if err != nil || cs == nil { // nil: refused
		return err
	}
	now := time.Now()
	res, err := w.st.Tick(ctx, c, cs.tick, now)
	if err != nil {
		return err
	}
	switch res.Code {
	case store.TickGone: // gone, or staged anew: loaded afresh next time
		w.drop(cs)
		_, _ = w.probeLost(ctx, cs)
		return nil
	case store.TickReleased:
		bi := cs.meta.Batches[res.Batch]
		w.log.Info("batch released", "campaign", c, "batch", res.Batch, "size", bi.Size, "canary", bi.Canary)
		for n := bi.First; n <= bi.Last; n++ {
			if err := w.enqueue(ctx, cs, n, res.Batch, 0); err != nil {
				// The reconciler enqueues it later.
				w.log.Warn("enqueue chunk", "campaign", c, "chunk", n, "err", err)
			}
		}
	case store.TickGated:
		w.m.autoPauses.WithLabelValues(c).Inc()
		w.log.Warn("campaign paused by its batch gate", "campaign", c, "batch", res.Batch, "reason", res.Reason)
	case store.TickStateLoss:
		w.m.autoPauses.WithLabelValues(c).Inc()
		w.log.Error("campaign paused by this worker: Redis lost its counters (part of its state)", "campaign", c, "reason", res.Reason)
	case store.TickAwaiting:
		w.log.Info("canary done: campaign awaits approval", "campaign", c, "batch", res.Batch)
	case store.TickDone:
		w.log.Info("campaign done", "campaign", c, "reason", res.Reason)
	}
	if now.Unix()%5 == 0 {
		_ = w.st.TrimRate(ctx, c, now)
	}
	if tasks != nil && res.Code == store.TickNoop && res.Batch >= 0 {
		return w.reconcile(ctx, cs, res.Batch, tasks) // running, batches up to res.Batch released
	}
	return nil
}

// enqueue gives chunk n (of batch) a task at generation gen. A task that
// exists already is left alone.
func (w *Worker) enqueue(ctx context.Context, cs *campaignState, n, batch int, gen int64) error {
	b, _ := json.Marshal(payload{Campaign: cs.name, Stage: cs.stage, Chunk: n, Batch: batch})
	id := taskID(cs.name, cs.stage, n, gen)
	_, err := w.client.EnqueueContext(ctx, asynq.NewTask(TaskChunk, b), asynq.TaskID(id), asynq.Queue(w.cfg.Queue), asynq.MaxRetry(1000))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", id, err)
	}
	return nil
}

// reconcile makes sure every released chunk (of batches 0 to curBatch, as
// the tick that found cs running has just read) of running campaign cs that
// is not finished has a live task: one that is pending, scheduled or waiting
// for a retry, or active in an asynq server that is alive. A chunk with no
// task (lost with a Redis failover, ended by a pause, never enqueued) gets
// one; a task active in a dead server (its worker was killed), or in no
// server for OrphanGrace, is replaced by a task of the next generation.
// Running a chunk twice is harmless: the ledger claims each recipient once.
func (w *Worker) reconcile(ctx context.Context, cs *campaignState, curBatch int, tasks func() (map[string]asynq.TaskState, error)) (err error) {
	// One worker reconciles a campaign at a time, and keeps the turn while
	// it runs; the others skip the pass. The time between two passes of
	// this worker counts for at most one turn on its clocks: after a gap
	// (a loaded machine, or another worker held the turn) a task it saw
	// abandoned may have been between two runs unseen, so the gap is not
	// counted in full, but what it saw before is kept, so that passes
	// always further apart than a turn still replace a killed worker's
	// task (all clocks forgotten at each such gap, TestKilledWorker on a
	// loaded machine waited for asynq's own recovery).
	turn := 3 * w.cfg.ReconcileInterval
	if mine, err := w.st.ReconcileTurn(ctx, cs.name, w.cfg.WorkerID, turn); err != nil || !mine {
		return err
	}
	now := w.now()
	if gap := now.Sub(cs.turnAt); gap > turn {
		for id, first := range cs.orphans {
			cs.orphans[id] = first.Add(gap - turn)
		}
	}
	cs.turnAt = now
	finished, gens, err := w.st.ChunkTasks(ctx, cs.name)
	if err != nil {
		return err
	}
	// Each pass keeps the clock of the tasks it finds abandoned, and only
	// theirs: a task seen between two runs (the same task id runs again
	// after a retry) starts its next run's clock at zero. A pass that ends
	// early (a Redis error) keeps the clocks of the tasks it did not reach,
	// so that errors during a failover do not put off replacing them.
	seen := cs.orphans // less the tasks reached: those left keep their clocks
	cs.orphans = map[string]time.Time{}
	defer func() {
		if err != nil {
			maps.Copy(cs.orphans, seen)
		}
	}()
	var live map[string]bool
	for b := 0; b <= curBatch && b < len(cs.meta.Batches); b++ {
		bi := cs.meta.Batches[b]
		for n := bi.First; n <= bi.Last; n++ {
			if finished[n] {
				continue
			}
			gen := gens[n]
			id := taskID(cs.name, cs.stage, n, gen)
			states, err := tasks()
			if err != nil {
				return err
			}
			state, listed := states[id]
			if !listed { // no such task, or it moved while the lists were read
				info, err := w.insp.GetTaskInfo(w.cfg.Queue, id)
				switch {
				case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
					// Gone, perhaps since finished was read: a run records its
					// chunk finished (EndChunk) before asynq deletes its task,
					// so a chunk read finished now needs no task. Given one, it
					// would run again and read its ledger entries for nothing.
					done, err := w.st.ChunkFinished(ctx, cs.name, n)
					if err != nil {
						return err
					}
					if done {
						continue
					}
					if err := w.enqueue(ctx, cs, n, b, gen); err != nil {
						return err
					}
					continue
				case err != nil:
					return fmt.Errorf("look up task %s: %w", id, err)
				}
				state = info.State
			}
			if state == asynq.TaskStateActive && live == nil {
				// The tasks that live asynq servers say they are processing.
				servers, err := w.insp.Servers()
				if err != nil {
					return fmt.Errorf("list asynq servers: %w", err)
				}
				live = map[string]bool{}
				for _, s := range servers {
					for _, a := range s.ActiveWorkers {
						live[a.TaskID] = true
					}
				}
			}
			// Reached: its clock is carried over below only if it is still
			// abandoned (every error before this point keeps it).
			first := cmp.Or(seen[id], now)
			delete(seen, id)
			switch state {
			case asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry, asynq.TaskStateAggregating:
				continue // between two runs
			case asynq.TaskStateActive:
				if live[id] {
					continue
				}
				if cs.orphans[id] = first; now.Sub(first) < w.cfg.OrphanGrace {
					continue
				}
			} // default: completed (with a retention), archived: replaced
			next, err := w.st.BumpGen(ctx, cs.name, cs.stage, n, gen)
			if err != nil {
				return err
			}
			if next < 0 {
				continue // another worker replaced it first
			}
			w.log.Warn("replacing a lost or abandoned chunk task", "campaign", cs.name, "chunk", n, "task", id, "task_state", state.String())
			if err := w.enqueue(ctx, cs, n, b, next); err != nil {
				return err
			}
		}
	}
	return nil
}

// listPage is how many tasks one listing of a reconcile reads.
const listPage = 1000

// taskStates returns the state of every task of the worker's queue that
// asynq holds as active, pending, scheduled or waiting for a retry: a few
// listings per reconcile, not a lookup per chunk (a campaign of a million
// recipients has 5,000 chunks). A task that moved from one list to another
// while they were read is in neither, and is looked up alone.
func (w *Worker) taskStates() (map[string]asynq.TaskState, error) {
	states := map[string]asynq.TaskState{}
	for _, l := range []struct {
		state asynq.TaskState
		list  func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	}{{asynq.TaskStateActive, w.insp.ListActiveTasks}, {asynq.TaskStatePending, w.insp.ListPendingTasks},
		{asynq.TaskStateScheduled, w.insp.ListScheduledTasks}, {asynq.TaskStateRetry, w.insp.ListRetryTasks}} {
		size := cmp.Or(w.page, listPage)
		for page := 1; ; page++ {
			ts, err := l.list(w.cfg.Queue, asynq.PageSize(size), asynq.Page(page))
			if errors.Is(err, asynq.ErrQueueNotFound) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("list the queue's %s tasks: %w", l.state, err)
			}
			for _, t := range ts {
				states[t.ID] = l.state
			}
			if len(ts) < size {
				break
			}
		}
	}
	return states, nil
}
