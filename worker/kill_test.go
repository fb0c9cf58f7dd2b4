package worker_test

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestMain doubles as a worker process for TestKilledWorker: with
// TIDINGS_TEST_CHILD_REDIS set, it runs a worker until killed. Otherwise
// it runs the tests, more of them at once than go test's default (see
// waitBoundParallel).
func TestMain(m *testing.M) {
	if addr := os.Getenv("TIDINGS_TEST_CHILD_REDIS"); addr != "" {
		os.Exit(runChild(addr))
	}
	waitBoundParallel()
	os.Exit(m.Run())
}

func runChild(addr string) int {
	port, _ := strconv.Atoi(os.Getenv("TIDINGS_TEST_CHILD_SMTP_PORT"))
	// The parent's test owns one database of a shared redis-server.
	db, _ := strconv.Atoi(os.Getenv("TIDINGS_TEST_CHILD_REDIS_DB"))
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db, Password: os.Getenv("TIDINGS_TEST_CHILD_REDIS_PASSWORD")})
	// The environment of startWorker's workers: the same asynq queue, so
	// that the worker started after the kill finds the child's tasks.
	w, err := worker.New(worker.Config{Redis: rdb, Concurrency: 4, WorkerID: "child", Env: "test",
		SMTP:            send.Config{Host: "127.0.0.1", Port: port, TLS: send.TLSNone},
		ControlInterval: 50 * time.Millisecond, TickInterval: 50 * time.Millisecond})
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := w.Run(ctx); err != nil {
		return 1
	}
	return 0
}

// TestKilledWorker: a worker SIGKILLed mid-campaign leaves its chunk tasks
// active in asynq, held by a server that no longer announces itself; the
// worker started after it must take them back through the reconciler's
// replacement (a task of the next generation), not wait for asynq's own
// lease (30 s, then its recoverer's 30 s cutoff and one-minute period:
// 60-120 s). The test waits for that replacement itself (the restarted
// worker's log), then for done however long the sending takes. The child
// runs in the environment of the restarted worker, so both use the same
// asynq queue. Mutation: the reconciler never replacing an active task
// held by no live server fails it (no replacement of an active task is
// logged: asynq's recovery moves the task first).
func TestKilledWorker(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.stage(t, opts{n: 2000, size: 1000, rate: "400/s"})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	ro := e.rdb.Options()
	cmd.Env = append(os.Environ(), "TIDINGS_TEST_CHILD_REDIS="+ro.Addr, "TIDINGS_TEST_CHILD_REDIS_DB="+strconv.Itoa(ro.DB),
		"TIDINGS_TEST_CHILD_REDIS_PASSWORD="+ro.Password, "TIDINGS_TEST_CHILD_SMTP_PORT="+strconv.Itoa(e.smtp.Port()))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) // when the test fails early
	wait.For(t, 2*time.Minute, "the child to send 300", func() bool { return e.smtp.Count() >= 300 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killedAt := e.smtp.Count()
	if killedAt >= 2000 {
		t.Fatal("the child finished before it was killed")
	}
	var logs syncbuf.Buffer
	e.startWorker(t, wopts{id: "restarted", logs: &logs})
	// The event itself: the reconciler replacing a task still active in
	// the dead child's server. Once asynq's own recovery has moved such a
	// task (60-120 s after the kill), the reconciler finds it pending and
	// replaces nothing, so this waits in vain without the reconciler.
	wait.For(t, 3*time.Minute, "the restarted worker to replace a chunk task the killed child held active", func() bool {
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, "replacing a lost or abandoned chunk task") && strings.Contains(l, "task_state=active") {
				return true
			}
		}
		return false
	}, logs.String)
	// The rest of the campaign (1,700 messages at 400/s) is sent however
	// slowly the machine runs it: a hang bound, not a speed.
	e.waitState(t, 5*time.Minute, store.StateDone)
	st := e.checkReconcile(t)
	// The child claims a window of recipients per step on each of its 4
	// connections: at most 4 windows can be claimed and unrecorded when it
	// dies.
	if d := st.Counts[store.OutcomeInDoubt]; d > 4*worker.DefaultClaimWindow {
		t.Errorf("%d in doubt, at most the child's 4 connections x %d claims can have been held", d, worker.DefaultClaimWindow)
	}
	if st.Counts[store.OutcomeSent]+st.Counts[store.OutcomeInDoubt] != 2000 {
		t.Fatalf("counts %v", st.Counts)
	}
	t.Logf("killed after %d messages; %d in doubt", killedAt, st.Counts[store.OutcomeInDoubt])
}

// BenchmarkChunk measures the worker's cost per message (render, ledger
// round trip, SMTP to the capture server) with one worker of 8
// connections; ns/op is per message.
func BenchmarkChunk(b *testing.B) {
	e := newEnv(b, nil)
	e.stage(b, opts{n: max(b.N, 200), size: 100000})
	b.ResetTimer()
	e.startWorker(b, wopts{concurrency: 8})
	e.waitState(b, 10*time.Minute, store.StateDone)
	b.StopTimer()
}
