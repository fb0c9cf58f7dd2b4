package worker_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// The second red team's tests of the wait for every running worker's
// journal check (81db15c, 6a43435).

// receivedOf counts the messages of campaign c per recipient address at
// e's SMTP server (X-Tidings-Campaign), so that two campaigns of the same
// test recipients can share one server.
func (e *env) receivedOf(c string) map[string]int {
	out := map[string]int{}
	for _, m := range e.messagesOf(c) {
		for _, to := range m.To {
			out[to]++
		}
	}
	return out
}

// TestRedTeamGate2UnknownRunPassesTheGate: Redis loses everything
// (FLUSHALL, or a new empty instance) while worker A, with a journal
// directory of its own, runs; A had delivered part of the campaign (run
// R1). The campaign is staged again from a machine that has neither its
// record nor a journal of it (send's refusal does not apply there): a new
// run R3 that neither continues nor excludes R1. The README promises that
// a worker whose journal holds deliveries of such a run refuses the
// staging and pauses it (journalRefusal), and the gate promises that no
// chunk claims until every running worker has checked its journals
// against the new state. But the gate's check (Worker.check: forgotten
// and forgottenAnywhere of the control's run R3 only) never asks whether
// the journal holds runs the staging does not know, and checks R3's state
// in as checked; journalRefusal runs only when A loads the campaign (its
// dispatch loop's advance, or a chunk of its own), which races with that
// check-in. With A 25 ms from Redis (another zone; its connection busy
// with another, rate-limited campaign of the environment), B (another
// machine, an empty journal) passes the gate on A's check-in and mails
// A's R1 recipients again before A's refusal pauses the campaign: 30-50
// of the 60 twice in 4 of 4 runs (RT_DELAY=0 or 5ms: none, A's dispatch
// loop wins the race).
func TestRedTeamGate2UnknownRunPassesTheGate(t *testing.T) {
	t.Parallel()
	scenario(t)
	ctx := context.Background()
	e, r := persistentEnv(t)
	e.stage(t, opts{n: 400, size: 400, rate: "100/s"}) // run R1
	dirA := t.TempDir()
	var logs syncbuf.Buffer
	// A is 25 ms from Redis (another zone), as in TestRedTeamGateSlowCheckInPassDropsAWorker.
	far := *e
	o := r.Client().Options()
	far.rdb = redis.NewClient(&redis.Options{Addr: latencyProxy(t, o.Addr, rtDelay()), DB: o.DB})
	t.Cleanup(func() { far.rdb.Close() })
	far.startWorker(t, wopts{journal: dirA, id: "A", concurrency: 1, logs: &logs})
	wait.For(t, 30*time.Second, "60 messages", func() bool { return e.smtp.Count() >= 60 })
	if err := e.rdb.FlushAll(ctx).Err(); err != nil { // Redis lost everything
		t.Fatal(err)
	}
	// Another campaign of the environment, rate-limited: A's only
	// connection is busy sending it for 20 s.
	other := *e
	other.byLang = map[string]int{}
	other.stage(t, opts{name: "other", n: 100, size: 100, rate: "5/s"})
	wait.For(t, time.Minute, "A to send the other campaign", func() bool { return len(e.receivedOf("other")) > 0 })
	// A runs one chunk at a time (concurrency 1): sending the other
	// campaign, it has stopped R1's chunk (which found the campaign gone),
	// so R1's deliveries are all in.
	r1 := len(e.receivedOf(e.name))
	e.startWorker(t, wopts{journal: t.TempDir(), id: "B", concurrency: 4, logs: &logs})
	e.waitSettled(t, "A", "B")
	e.stage(t, opts{n: 400, size: 400, rate: "100/s"}) // run R3, from a machine without R1's record
	e.waitStopped(t)
	twice := e.twice()
	st, _ := e.st.Status(ctx, e.name)
	if twice > 0 {
		t.Errorf("%d recipients received two messages of %s (A's journal holds %d deliveries of run R1, which the new staging neither continues nor excludes); the campaign is %s %q",
			twice, e.name, r1, st.State, st.Reason)
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "waiting for other workers") || strings.Contains(l, "paused") {
				t.Log(l)
			}
		}
	}
	t.Logf("R1 delivered %d; the campaign is %s %q", r1, st.State, st.Reason)
}

// rtDelay is how far worker A is from Redis in the red team's tests
// (RT_DELAY, a duration; 25ms by default; 0 is the control run).
func rtDelay() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("RT_DELAY")); err == nil {
		return d
	}
	return 25 * time.Millisecond
}

// TestRedTeamGate2RestartDuringTheCheck: TestRestoredWithJournalsOnTwoMachines,
// except that worker A2 (whose journal holds the deliveries the restored
// Redis forgot; its check takes 3 s, a slow journal disk) is restarted
// (a deploy, systemd's restart) half a second after the resume, while its
// check runs, and comes straight back with a new process on the same
// journal directory. Run stops the loop that says A2 is alive (stopLoops)
// and then waits (wg.Wait) for the check loop's check in flight, which
// does not end on its context (the journal is read; beforeCheck stands for
// the slow read): A2 is still running but silent for the rest of its
// check, over two seconds, so B (empty journal) is no longer waiting for
// anyone and claims A2's forgotten recipients before the new process has
// even said it is alive; the new process's check then finds them sent
// (by B) and the campaign runs on. All 40 twice in 3 of 3 runs, the old
// process stopping in 2.5 s; RT_RESTART=0 (no restart, the control run):
// paused for state loss, none twice, 2 of 2. (Without the other campaign,
// A2's one connection waits in the gate on the check's lock, which holds
// its drain open and keeps it saying alive until its check pauses the
// campaign.)
func TestRedTeamGate2RestartDuringTheCheck(t *testing.T) {
	t.Parallel()
	scenario(t)
	ctx := context.Background()
	e, r := persistentEnv(t)
	before, after, dirA := sentThenRestored(t, e, r)
	ops := store.Actor{Who: "ops"}
	var logs syncbuf.Buffer
	// A2's check takes 3 s (a slow journal disk: pacing, not a wait for
	// a condition); checking says that a check began after the resume.
	var resumed atomic.Bool
	checking := make(chan struct{}, 1)
	slow := func() {
		if resumed.Load() {
			select {
			case checking <- struct{}{}:
			default:
			}
		}
		time.Sleep(3 * time.Second)
	}
	stopA2 := e.startWorker(t, wopts{journal: dirA, id: "A2", concurrency: 1, logs: &logs, beforeCheck: slow})
	// A2's connection sends another, rate-limited campaign of the
	// environment: no chunk of A2 waits in the gate when it stops.
	other := *e
	other.byLang = map[string]int{}
	other.stage(t, opts{name: "other", n: 100, size: 100, rate: "5/s"})
	wait.For(t, time.Minute, "A2 to send the other campaign", func() bool { return len(e.receivedOf("other")) > 0 })
	e.startWorker(t, wopts{journal: t.TempDir(), id: "B", concurrency: 8, logs: &logs})
	e.waitSettled(t, "A2", "B")
	resumed.Store(true)
	if _, err := e.st.Resume(ctx, e.name, ops, ""); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("RT_RESTART") != "0" {
		// Restarted while its check of the resumed state runs (it wakes
		// at the resume): the check has begun, and takes 3 s.
		select {
		case <-checking:
		case <-time.After(2 * time.Minute):
			t.Fatal("A2 began no journal check within 2 minutes of the resume")
		}
		t0 := time.Now()
		stopA2()
		t.Logf("A2's old process stopped in %s", time.Since(t0).Round(time.Millisecond))
		e.startWorker(t, wopts{journal: dirA, id: "A2-new", concurrency: 1, logs: &logs, beforeCheck: slow})
	}
	e.waitStopped(t)
	twice := e.twice()
	st, _ := e.st.Status(ctx, e.name)
	if twice > 0 {
		t.Errorf("%d recipients received two messages (A2's journal holds %d deliveries Redis forgot); the campaign is %s %q", twice, after-before, st.State, st.Reason)
	}
	t.Logf("%d sent before the backup, %d before the restore, %d after; %s %q", before, after, len(e.receivedOf(e.name)), st.State, st.Reason)
}

// TestRedTeamGate2RegistryFromAClockAhead: the registry of live workers
// and the check-ins hold times of the Redis server that wrote them
// (alive.lua, checkin.lua: TIME), and a replica holds them verbatim (a
// script's effects are replicated). After a Sentinel failover to a
// replica whose clock is 60 s behind the old master's (or a restore of a
// backup written by a server 60 s ahead), every "<first> <seen>" is 60 s
// in the future. alive.lua keeps a future first (now - seen is negative:
// "no gap"), so no worker is settled (now - first >= window) until the
// new server's clock has caught up: nothing claims for a minute (the
// chunks wait gateWait, end, and wait again), with every worker healthy
// and nothing lost; and status names nobody as awaited. Simulated here by
// moving the registry's times ahead on the running server (further
// than 60 s: see below).
func TestRedTeamGate2RegistryFromAClockAhead(t *testing.T) {
	t.Parallel()
	scenario(t)
	ctx := context.Background()
	e := newEnv(t, nil)
	e.startWorker(t, wopts{journal: t.TempDir(), id: "B"})
	// Alive and settled before its times are moved: a worker not yet in
	// the registry would have nothing moved, and the test pass for it.
	e.waitSettled(t, "B")
	reg := store.WorkersKey("test")
	// The registry's times are moved far ahead (30 minutes, where the
	// failover's clock was 60 s behind): the defect then holds every claim
	// for 30 minutes, and the deadline below, 5 minutes, tells the two
	// apart however loaded the machine (20 messages take a second or two).
	const ahead, deadline = 30 * time.Minute, 5 * time.Minute
	shift := func() {
		m, err := e.rdb.HGetAll(ctx, reg).Result()
		if err != nil || len(m) == 0 {
			t.Fatalf("the registry to move ahead: %v, %v", m, err)
		}
		for w, v := range m {
			var first, seen int64
			if _, err := fmt.Sscanf(v, "%d %d", &first, &seen); err != nil {
				t.Fatal(err)
			}
			if err := e.rdb.HSet(ctx, reg, w, fmt.Sprintf("%d %d", first+ahead.Milliseconds(), seen+ahead.Milliseconds())).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	shift()
	e.stage(t, opts{n: 20, size: 20})
	wait.For(t, deadline, fmt.Sprintf("a healthy campaign (one healthy worker, nothing lost) to send its 20 messages, the registry moved %s ahead", ahead),
		func() bool { return e.smtp.Count() >= 20 },
		func() string {
			v, _ := e.rdb.HGetAll(ctx, reg).Result()
			st, _ := e.st.Status(ctx, e.name)
			return fmt.Sprintf("%d of 20 sent; registry %v; status names as awaited %v", e.smtp.Count(), v, st.Awaited)
		})
}

// twice counts the recipients of e's campaign that received more than one
// of its messages.
func (e *env) twice() int {
	n := 0
	for _, got := range e.receivedOf(e.name) {
		if got > 1 {
			n++
		}
	}
	return n
}
