package worker_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// dequeues is a Redis hook that counts the chunk tasks asynq hands the
// worker's handler (its dequeue script answering a task, not nil) and the
// chunk reads (store.StartChunk's MGET of a chunk) of campaign c.
type dequeues struct {
	queue, chunk string // the prefix of asynq's keys of the queue; of the chunks' keys
	tasks, reads atomic.Int64
}

func (h *dequeues) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *dequeues) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		// asynq's dequeue script: its keys the queue's pending, then its
		// paused (others list the pending tasks).
		if args := cmd.Args(); len(args) > 4 && args[3] == h.queue+"pending" && args[4] == h.queue+"paused" && err == nil {
			h.tasks.Add(1)
		}
		return err
	}
}
func (h *dequeues) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if args := c.Args(); len(args) > 1 && args[0] == "mget" && strings.HasPrefix(args[1].(string), h.chunk) {
				h.reads.Add(1)
			}
		}
		return next(ctx, cmds)
	}
}

// TestHeldChunkReadsNothing: while the worker holds its sends for Redis's
// maxmemory-policy, a chunk task that asynq hands it again (every
// evictionPoll) goes back at once: it reads neither its chunk nor its
// campaign's control (store.StartChunk), Redis work for nothing each
// pass. Before, every pass of every held chunk ran StartChunk. Counted on
// the worker's own client against a real redis-server: once asynq has
// handed the worker its chunks several times, no chunk was read.
func TestHeldChunkReadsNothing(t *testing.T) {
	t.Parallel()
	e, _ := persistentEnv(t)
	ctx := context.Background()
	const n, chunk = 40, 10
	e.stage(t, opts{name: "held", n: n, size: n, chunk: chunk})
	if err := e.rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	hooked := redis.NewClient(e.rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	h := &dequeues{queue: "asynq:{" + worker.QueueOf("test") + "}:", chunk: "tidings:{held}:chunk:"}
	hooked.AddHook(h)
	var logs syncbuf.Buffer
	e.startWorker(t, wopts{rdb: hooked, logs: &logs})
	// The chunks handed to the handler three times as many times as there
	// are chunks of n/chunk recipients: their first passes, and again once
	// their retries are due.
	wait.For(t, 120*time.Second, "asynq to hand the worker its held chunks again", func() bool {
		return h.tasks.Load() >= 3*n/chunk
	}, logs.String)
	if got := e.smtp.Count(); got != 0 {
		t.Fatalf("%d messages sent while Redis's maxmemory-policy is allkeys-lru\n%s", got, logs.String())
	}
	if got := h.reads.Load(); got != 0 {
		t.Errorf("%d chunk reads (store.StartChunk) in %d passes of held chunks, want none", got, h.tasks.Load())
	}
}
