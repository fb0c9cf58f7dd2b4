package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestChunkHeldByRedisIsRetriedEverySecond: on a Redis Cluster whose
// master of the campaign's slot refuses writes for a while (NOREPLICAS,
// as a promoted replica does until the killed master is back as its
// replica; here min-replicas-to-write above its replicas) while asynq's
// own slot, on another master, takes them, the chunk is interrupted pass
// after pass. asynq moved it to retry after 1, 2, 4, 8, 16, then 30 s
// (worker.retryDelay, as for any failure), so a chunk interrupted late in
// a hold of a minute or more came back up to 30 s after Redis had taken
// writes again: the second stall (19 s) after a Cluster master killed and
// brought back. The test reads what asynq recorded of the task once it
// has been interrupted three times: not counted a failure (retried 0),
// and due again a second after its last run at most (before: 4 s, then
// 8 s). Then Redis takes writes again, and the campaign is done, each
// recipient received exactly one message.
func TestChunkHeldByRedisIsRetriedEverySecond(t *testing.T) {
	t.Parallel()
	scenario(t)
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{NodeTimeout: 10 * time.Minute})
	masters := threeMasters(t, cl)
	queue := worker.QueueOf("test")
	// Not the master of asynq's keys: asynq moves the task to retry there.
	held := spareMaster(t, cl, masters, "asynq:{"+queue+"}:pending")
	name := campaignNamed(t, cl, "held", func(m *redistest.Node) bool { return m.Addr() == held.Addr() })
	fault, inFlight, free := holdFirst(t)
	e, cc := clusterEnv(t, cl, fault)
	const n = 20
	e.stage(t, opts{name: name, n: n})
	var logs syncbuf.Buffer
	e.startWorker(t, wopts{id: "w1", concurrency: 1, logs: &logs, rdb: cc})
	select {
	case <-inFlight:
	case <-time.After(time.Minute):
		t.Fatalf("no message reached the relay within a minute\n%s", logs.String())
	}
	refuse := func(k string) {
		t.Helper()
		if err := held.Client().ConfigSet(ctx, "min-replicas-to-write", k).Err(); err != nil {
			t.Fatal(err)
		}
	}
	refuse("2") // it has one replica
	t.Cleanup(func() { _ = held.Client().ConfigSet(context.Background(), "min-replicas-to-write", "0").Err() })
	free() // the window's outcomes cannot be recorded: the chunk is interrupted

	insp := asynq.NewInspectorFromRedisClient(cc)
	t.Cleanup(func() { _ = insp.Close() })
	var last *asynq.TaskInfo
	wait.For(t, 3*time.Minute, "the chunk interrupted three times, then waiting for its retry", func() bool {
		if strings.Count(logs.String(), "chunk interrupted") < 3 {
			return false
		}
		ts, err := insp.ListRetryTasks(queue)
		if err != nil || len(ts) == 0 {
			return false
		}
		last = ts[0]
		return true
	}, logs.String)
	if !strings.Contains(last.LastErr, "NOREPLICAS") {
		t.Errorf("the task's last error is %q, want NOREPLICAS (the hold this test makes)", last.LastErr)
	}
	if last.Retried != 0 {
		t.Errorf("the task was counted %d failures for Redis refusing writes, want 0 (its retries would run out, and grow its backoff)", last.Retried)
	}
	// asynq keeps both in whole seconds: a second's delay is 0 or 1 s
	// apart, the 4 s of a third failure at least 3.
	if d := last.NextProcessAt.Sub(last.LastFailedAt); d > time.Second {
		t.Errorf("after %d interruptions the task runs again %s after its last run, want at most %s", strings.Count(logs.String(), "chunk interrupted"), d, time.Second)
	}
	if t.Failed() {
		t.Fatalf("log:\n%s", logs.String())
	}
	refuse("0")
	e.waitState(t, 2*time.Minute, store.StateDone)
	got := e.received()
	for addr, k := range got {
		if k != 1 {
			t.Errorf("%s received %d messages, want 1", addr, k)
		}
	}
	if len(got) != n {
		t.Errorf("%d recipients received a message, want %d", len(got), n)
	}
}
