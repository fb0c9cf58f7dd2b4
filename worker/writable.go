package worker

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// Waiting for writes before a chunk task ends with an error.
//
// asynq moves a task that ended with an error from active to retry
// (processor.retry); when Redis refuses that write (NOREPLICAS while a
// failed-over master has no replica yet, READONLY, a dropped connection)
// it hands the move to its syncer, whose retries all fail in v0.26: they
// use a context cancelled as soon as the first attempt returned. The task
// then stays active in no live server, and only the reconciler's dead-worker
// path (OrphanGrace, after its clock could start) or asynq's lease expiry
// takes it back: ~20 s of stall after a Sentinel failover although both
// workers were alive. So a chunk that ends with an error waits, before
// returning it, until Redis answers a write again (at most writeWait), and
// asynq's own first move then succeeds: the chunk runs again after its
// retry delay (1 s for the first), through the interrupted-chunk path.
// Nothing is sent meanwhile: the pass has ended.

// writeWait bounds the wait: below asynq's 30 s lease, which its
// heartbeater cannot extend while Redis refuses writes (a task whose lease
// ran out is asynq's recoverer's, and the reconciler's, as before).
const writeWait = 15 * time.Second

// writePoll is how often the wait tries a write.
const writePoll = 100 * time.Millisecond

// awaitWrites waits until Redis takes a write in the hash slot of the
// worker's queue (where asynq's move of the task goes), ctx is done, or
// writeWait has passed, when a chunk task is about to end with err, and
// logs that it waits. Errors
// asynq does not move back to retry by a write that can fail for Redis's
// sake (none, a SkipRetry, a hand-over at shutdown) do not wait, nor does
// a write refused for good (a Redis user not allowed the key).
func (w *Worker) awaitWrites(ctx context.Context, err error) {
	if err == nil || errors.Is(err, asynq.SkipRetry) || errors.Is(err, errDraining) || ctx.Err() != nil {
		return
	}
	if _, later := errors.AsType[*retryLater](err); later {
		return // the pass ended normally: Redis took its writes
	}
	key := "tidings:writable:{" + w.cfg.Queue + "}" // asynq's keys are asynq:{queue}:...
	end := time.Now().Add(writeWait)
	for waited := false; ; waited = true {
		werr := w.cfg.Redis.Set(ctx, key, w.cfg.WorkerID, 10*time.Second).Err()
		if werr == nil {
			return
		}
		if re, ok := errors.AsType[*redisconn.ReplyError](redisconn.Explain(werr)); ok && re.Settings {
			return // refused for good (NOPERM, a password): no wait helps
		}
		if !waited {
			w.log.Info("Redis refuses writes: the chunk task waits until it takes them before it ends, so that asynq can move it to retry", "err", err, "redis_err", werr)
		}
		if !time.Now().Before(end) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(writePoll):
		}
	}
}

// handleTask is the chunk tasks' handler: handle, then awaitWrites.
func (w *Worker) handleTask(ctx context.Context, t *asynq.Task) error {
	err := w.handle(ctx, t)
	w.awaitWrites(ctx, err)
	return err
}
