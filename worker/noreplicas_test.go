package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestChunkInterruptedByRefusedWritesIsNotAbandoned: a chunk whose live
// worker interrupts it while Redis refuses writes (NOREPLICAS, as a
// failed-over master does until its replica has resynced; simulated with
// min-replicas-to-write on a real redis-server that has no replica) runs
// again through asynq's retry once Redis takes writes, never through the
// reconciler's dead-worker path ("replacing a lost or abandoned chunk
// task ... task_state=active"). asynq v0.26 cannot sync a failed move to
// retry (its syncer's context is already cancelled), so a handler that
// returned while writes were refused left its task active in no live
// server, taken back only after OrphanGrace: the ~20 s stall a red team
// measured after SENTINEL FAILOVER. The path is counted, not timed; the
// campaign must still be done within the 30 s liveness bound, everyone
// received exactly once.
func TestChunkInterruptedByRefusedWritesIsNotAbandoned(t *testing.T) {
	if redistest.Start(t).Embedded {
		t.Skip("the embedded Redis has no min-replicas-to-write; CI runs this on redis-server")
	}
	for _, tc := range []struct {
		name string
		n    int
	}{
		{"a window open when Redis refuses writes", 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fault, inFlight, free := holdFirst(t)
			e := newEnv(t, fault)
			e.stage(t, opts{n: tc.n})
			ctx := t.Context()
			var logs syncbuf.Buffer
			e.startWorker(t, wopts{id: "w1", concurrency: 1, logs: &logs})
			select {
			case <-inFlight:
			case <-time.After(30 * time.Second):
				t.Fatal("no message reached the relay within 30 s")
			}
			if err := e.rdb.ConfigSet(ctx, "min-replicas-to-write", "1").Err(); err != nil {
				t.Fatal(err)
			}
			free() // the window's outcomes cannot be recorded: the chunk is interrupted
			wait.For(t, 30*time.Second, "the chunk to end while Redis refuses writes", func() bool {
				l := logs.String()
				return strings.Contains(l, "Could not move task") || strings.Contains(l, "the chunk task waits until it takes them")
			}, logs.String)
			if err := e.rdb.ConfigSet(ctx, "min-replicas-to-write", "0").Err(); err != nil {
				t.Fatal(err)
			}
			e.waitState(t, 30*time.Second, store.StateDone)
			l := logs.String()
			if !strings.Contains(l, "chunk interrupted") {
				t.Errorf("no chunk was interrupted; log:\n%s", l)
			}
			for line := range strings.Lines(l) {
				if strings.Contains(line, "replacing a lost or abandoned chunk task") && strings.Contains(line, "task_state=active") {
					t.Errorf("the interrupted chunk was taken back by the dead-worker path, its worker alive: %s", line)
				}
			}
			for addr, n := range e.received() {
				if n != 1 {
					t.Errorf("%s received %d messages, want 1", addr, n)
				}
			}
			if got := len(e.received()); got != tc.n {
				t.Errorf("%d recipients received a message, want %d", got, tc.n)
			}
		})
	}
}
