package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/tidings-mail/tidings/internal/store"
)

// retention keeps finished tasks (and so their ids) for a day: a chunk id
// enqueued twice is rejected by asynq.
const retention = 24 * time.Hour

func (w *Worker) dispatchLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.DispatchInterval)
	defer t.Stop()
	for {
		active, err := w.st.Active(ctx)
		if err == nil {
			set := map[string]bool{}
			for _, c := range active {
				set[c] = true
				if err := w.dispatch(ctx, c); err != nil && ctx.Err() == nil {
					w.log.Warn("dispatch", "campaign", c, "err", err)
				}
			}
			w.forget(set)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dispatch advances campaign c by one step if this worker holds its lock.
func (w *Worker) dispatch(ctx context.Context, c string) error {
	ok, err := w.st.Lock(ctx, c, w.cfg.WorkerID, 4*w.cfg.DispatchInterval+time.Second)
	if err != nil || !ok {
		return err
	}
	ctl, err := w.st.Control(ctx, c)
	if err != nil {
		return err
	}
	if ctl.State != store.StateRunning {
		return nil
	}
	cs, err := w.campaign(ctx, c, ctl.Epoch)
	if err != nil {
		return err
	}
	if cs.epoch != ctl.Epoch {
		return nil // being staged again
	}
	now := w.cfg.Clock()
	// Orphans of dead workers, then interrupted chunks.
	orphans, err := w.st.Orphans(ctx, c)
	if err != nil {
		return err
	}
	for _, o := range orphans {
		gen, err := w.st.Reclaim(ctx, c, o, w.cfg.WorkerID)
		if err != nil {
			return err
		}
		if gen > 0 && o.Chunk >= 0 {
			w.log.Warn("re-enqueueing chunk of a dead worker", "campaign", c, "chunk", o.Chunk, "dead_worker", o.Worker)
			if err := w.handOver(ctx, cs, o.Chunk, gen, 0); err != nil {
				return err
			}
		}
	}
	inter, err := w.st.Interrupted(ctx, c)
	if err != nil {
		return err
	}
	for _, n := range inter {
		gen, start, err := w.st.TakeInterrupted(ctx, c, n, w.cfg.WorkerID)
		if err != nil {
			return err
		}
		if gen >= 0 {
			if err := w.handOver(ctx, cs, n, gen, start); err != nil {
				return err
			}
		}
	}
	// Batches.
	if cs.meta.NBatches > 0 {
		if ctl.CurBatch < 0 {
			return w.release(ctx, cs, 0)
		}
		bi, bp, err := w.st.Batch(ctx, c, ctl.CurBatch)
		if err != nil {
			return err
		}
		complete := bp.ChunksDone >= bi.Last-bi.First+1
		if complete && ctl.BatchDoneAt.IsZero() {
			if stop, err := w.gate(ctx, cs, ctl, bi, bp); err != nil || stop {
				return err
			}
			ctl.BatchDoneAt = now
			if err := w.st.SetControl(ctx, c, "batch_done_at", now.UnixMilli()); err != nil {
				return err
			}
			if bi.Canary && cs.camp.Batches.ApproveAfterCanary && !ctl.Approved && ctl.CurBatch+1 < cs.meta.NBatches {
				reason := fmt.Sprintf("canary sent (%d recipients): check it, then run tidings approve %s", bi.Size, c)
				_, _, err := w.st.Transition(ctx, c, []store.State{store.StateRunning}, store.StateAwaitingApproval, w.actor(), "await-approval", reason, false)
				return err
			}
		}
		if complete && ctl.CurBatch+1 < cs.meta.NBatches && !now.Before(ctl.BatchDoneAt.Add(cs.camp.Batches.Interval)) {
			if err := w.release(ctx, cs, ctl.CurBatch+1); err != nil {
				return err
			}
		}
	}
	// Due retries.
	if err := w.enqueueRetries(ctx, cs, now); err != nil {
		return err
	}
	if now.Unix()%5 == 0 {
		_ = w.st.TrimRate(ctx, c, now)
	}
	// Done?
	counts, err := w.st.Counts(ctx, c)
	if err != nil {
		return err
	}
	if store.Terminal(counts) >= int64(cs.meta.Staged+cs.meta.Rejected) {
		pending, err := w.st.PendingRetries(ctx, c)
		if err != nil || pending > 0 {
			return err
		}
		_, _, err = w.st.Transition(ctx, c, []store.State{store.StateRunning}, store.StateDone, w.actor(), "done",
			fmt.Sprintf("every recipient has an outcome: %d sent, %d failed, %d in doubt", counts[store.OutcomeSent], counts[store.OutcomeFailed], counts[store.OutcomeInDoubt]), false)
		return err
	}
	return nil
}

// gate evaluates a completed batch; true when it paused the campaign.
func (w *Worker) gate(ctx context.Context, cs *campaignState, ctl *store.Control, bi store.BatchInfo, bp store.BatchProgress) (bool, error) {
	max := cs.camp.Batches.MaxFailureRate
	if max <= 0 || bp.Attempted == 0 {
		return false, nil
	}
	rate := float64(bp.Errors1) / float64(bp.Attempted)
	if rate <= max {
		return false, nil
	}
	last := ""
	if st, err := w.st.Status(ctx, cs.name); err == nil && len(st.Errors) > 0 {
		e := st.Errors[0]
		last = fmt.Sprintf(" (last error: %s %s)", e.Code, e.Response)
	}
	reason := fmt.Sprintf("batch gate: batch %d failed for %d of %d recipients (%d%%), above max_failure_rate %d%%%s; investigate, then tidings resume %s",
		ctl.CurBatch, bp.Errors1, bp.Attempted, int(math.Round(rate*100)), int(math.Round(max*100)), last, cs.name)
	_, moved, err := w.st.Transition(ctx, cs.name, []store.State{store.StateRunning}, store.StatePaused, w.actor(), "auto-pause", reason, false,
		"batch_done_at", fmt.Sprint(w.cfg.Clock().UnixMilli()))
	if moved {
		w.m.autoPauses.WithLabelValues(cs.name).Inc()
		w.log.Warn("campaign paused by batch gate", "campaign", cs.name, "batch", ctl.CurBatch, "reason", reason)
	}
	return true, err
}

// release enqueues every chunk of batch b and makes it the current batch.
func (w *Worker) release(ctx context.Context, cs *campaignState, b int) error {
	bi, _, err := w.st.Batch(ctx, cs.name, b)
	if err != nil {
		return err
	}
	for n := bi.First; n <= bi.Last; n++ {
		gen, err := w.st.ChunkGen(ctx, cs.name, n)
		if err != nil {
			return err
		}
		if err := w.enqueue(cs, n, gen, 0); err != nil {
			return err
		}
	}
	w.log.Info("batch released", "campaign", cs.name, "batch", b, "size", bi.Size, "canary", bi.Canary)
	return w.st.SetControl(ctx, cs.name, "cur_batch", b, "batch_done_at", 0)
}

// handOver enqueues chunk n at gen, which this worker holds after taking it
// over; if the enqueue fails, the chunk goes back to the interrupted set.
func (w *Worker) handOver(ctx context.Context, cs *campaignState, n int, gen int64, start int) error {
	err := w.enqueue(cs, n, gen, start)
	if err != nil {
		if rerr := w.st.ReleaseChunk(context.WithoutCancel(ctx), cs.name, n, gen, w.cfg.WorkerID, start); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// enqueueRetries enqueues a retry task per chunk for the due retries. The
// popped members are held under this worker until every task is enqueued;
// those whose task could not be enqueued go back to the retry queue.
func (w *Worker) enqueueRetries(ctx context.Context, cs *campaignState, now time.Time) error {
	due, err := w.st.PopDueRetries(ctx, cs.name, now, 1000, w.cfg.WorkerID)
	if err != nil || len(due) == 0 {
		return err
	}
	chunks := make([]int, 0, len(due))
	for n := range due {
		chunks = append(chunks, n)
	}
	sort.Ints(chunks)
	for i, n := range chunks {
		seq, err := w.st.NextID(ctx, cs.name)
		if err == nil {
			p := payload{Campaign: cs.name, Epoch: cs.epoch, Chunk: n, Retry: due[n], Field: fmt.Sprintf("r%d", seq)}
			err = w.enqueueTask(p, fmt.Sprintf("tidings:%s:%d:retry:%d", cs.name, cs.epoch, seq))
		}
		if err != nil {
			var back []string
			for _, m := range chunks[i:] {
				for _, idx := range due[m] {
					back = append(back, strconv.Itoa(m)+":"+strconv.Itoa(idx))
				}
			}
			if rerr := w.st.EndRetry(context.WithoutCancel(ctx), cs.name, store.HoldField(w.cfg.WorkerID), back); rerr != nil {
				return errors.Join(err, rerr)
			}
			return err
		}
	}
	return w.st.EndRetry(ctx, cs.name, store.HoldField(w.cfg.WorkerID), nil)
}

func (w *Worker) enqueue(cs *campaignState, n int, gen int64, start int) error {
	p := payload{Campaign: cs.name, Epoch: cs.epoch, Chunk: n, Gen: gen, Start: start}
	return w.enqueueTask(p, fmt.Sprintf("tidings:%s:%d:chunk:%d:%d", cs.name, cs.epoch, n, gen))
}

func (w *Worker) enqueueTask(p payload, id string) error {
	b, _ := json.Marshal(p)
	_, err := w.client.Enqueue(asynq.NewTask(TaskChunk, b), asynq.TaskID(id), asynq.Queue(w.cfg.Queue), asynq.Retention(retention), asynq.MaxRetry(10))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", id, err)
	}
	return nil
}
