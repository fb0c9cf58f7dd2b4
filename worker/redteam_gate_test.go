package worker_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// The red team's tests of the wait for every running worker's journal
// check (81db15c); both failed then, and pass since the fix that followed
// (a state without a run id matches any; saying alive and checking in in
// loops of their own, the check-ins in one round trip).

// TestRedTeamGateINFOForSomeWorkersOnly: two healthy workers of one
// environment on one redis-server, each with a journal directory; worker
// B's Redis user may not run INFO (a managed Redis / ACL user that forbids
// it, which the README and TestVerifyOnARedisWithoutINFO support), worker
// A's may. No state is lost. Worker.check's key is "<at> <run_id>" for A
// and "<at>" for B, so each waits for the other to have checked a key the
// other never checks in: the campaign never progresses (each chunk waits
// gateWait, ends with retryLater, runs again, for ever).
func TestRedTeamGateINFOForSomeWorkersOnly(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, "../internal/redistest/testdata/plain.conf")
	ctx := context.Background()
	if err := r.Client().Do(ctx, "ACL", "SETUSER", "noinfo", "on", ">pw", "~*", "&*", "+@all", "-info").Err(); err != nil {
		t.Fatal(err)
	}
	o := r.Client().Options()
	noinfo := redis.NewClient(&redis.Options{Addr: o.Addr, DB: o.DB, Username: "noinfo", Password: "pw"})
	t.Cleanup(func() { noinfo.Close() })
	if err := noinfo.Info(ctx, "server").Err(); err == nil {
		t.Fatal("the noinfo user may run INFO")
	}
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &env{rdb: r.Client(), st: store.New(r.Client()), smtp: srv, byLang: map[string]int{}}
	e.stage(t, opts{n: 40, size: 10})
	var logsA, logsB syncbuf.Buffer
	e.startWorker(t, wopts{journal: t.TempDir(), id: "A", logs: &logsA})
	eb := *e
	eb.rdb = noinfo
	eb.startWorker(t, wopts{journal: t.TempDir(), id: "B", logs: &logsB})
	// The defect never progresses: the deadline only bounds the test (a
	// healthy campaign of 40 takes a second or two; 2 minutes leaves room
	// for a loaded machine).
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && srv.Count() < 40 {
		time.Sleep(200 * time.Millisecond) // polling: the loop's condition is what it waits for
	}
	if n := srv.Count(); n < 40 {
		cs, _ := e.rdb.HGetAll(ctx, "tidings:{"+e.name+"}:checkins").Result()
		t.Errorf("healthy campaign, no state loss: %d of 40 sent after 2 minutes; check-ins: %v", n, cs)
		for _, l := range strings.Split(logsA.String()+logsB.String(), "\n") {
			if strings.Contains(l, "waiting for other workers") {
				t.Log(l)
			}
		}
	}
}

// latencyProxy forwards TCP connections to target, delaying every read
// from the client by d: a Redis d away (another zone or region, or one
// under load), for one worker only.
func latencyProxy(t *testing.T, target string, d time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { _, _ = io.Copy(c, s); c.Close() }()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						time.Sleep(d)
						if _, werr := s.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestRedTeamGateSlowCheckInPassDropsAWorker: TestRestoredWithJournalsOnTwoMachines,
// except that the environment has 50 other campaigns paused (waiting for
// an approval, say: active, not finished) and worker A2, whose journal
// holds the deliveries the restored Redis forgot, is 25 ms from Redis.
// Worker.checkIn says "alive" once per pass and then checks in for every
// unfinished campaign of the environment, one round trip each: a pass
// takes 51 x 25 ms > checkInWindow, so A2, running and healthy, is "not
// alive" for part of every pass, and B (empty journal) claims in those
// gaps without A2's check: A2's forgotten recipients receive a second
// message.
func TestRedTeamGateSlowCheckInPassDropsAWorker(t *testing.T) {
	t.Parallel()
	scenario(t)
	ctx := context.Background()
	e, r := persistentEnv(t)
	srv := e.smtp
	ops := store.Actor{Who: "ops"}
	for i := range extraCampaigns() {
		x := *e
		x.byLang = map[string]int{}
		x.stage(t, opts{name: fmt.Sprintf("other-%02d", i), n: 1})
		if _, err := e.st.Pause(ctx, x.name, ops, "waiting"); err != nil {
			t.Fatal(err)
		}
	}
	before, after, dirA := sentThenRestored(t, e, r)
	far := *e
	o := r.Client().Options()
	far.rdb = redis.NewClient(&redis.Options{Addr: latencyProxy(t, o.Addr, 25*time.Millisecond), DB: o.DB})
	t.Cleanup(func() { far.rdb.Close() })
	var logs syncbuf.Buffer
	far.startWorker(t, wopts{journal: dirA, id: "A2", concurrency: 1, logs: &logs, beforeCheck: func() { time.Sleep(3 * time.Second) }}) // a slow journal disk (pacing)
	e.startWorker(t, wopts{journal: t.TempDir(), id: "B", concurrency: 8, logs: &logs})
	defer func() {
		if t.Failed() {
			t.Logf("sent %d (before %d, after %d)\n%s", srv.Count(), before, after, logs.String())
		}
	}()
	e.waitSettled(t, "A2", "B")
	if _, err := e.st.Resume(ctx, e.name, ops, ""); err != nil {
		t.Fatal(err)
	}
	e.waitStopped(t)
	twice := 0
	for _, n := range e.received() {
		if n > 1 {
			twice++
		}
	}
	if twice > 0 {
		t.Errorf("%d recipients received two messages (A2's journal holds %d deliveries Redis forgot); the campaign is %s", twice, after-before, e.state(t))
	}
	t.Logf("%d sent before the backup, %d before the restore, %d after", before, after, srv.Count())
}

// waitStopped waits until e's campaign no longer runs (paused, or done)
// and none of its claims is without an outcome: every message its workers
// sent before it stopped has reached the SMTP server (an outcome is
// recorded after the server's reply, and no claim is made once the
// campaign does not run), so what the server received is final. It stands
// for a sleep after the pause, which a loaded machine may not make long
// enough for a message in flight. A campaign still running after two
// minutes fails the test.
func (e *env) waitStopped(t *testing.T) {
	t.Helper()
	wait.For(t, 2*time.Minute, "the campaign to stop (paused or done) and its claims to end", func() bool {
		s := e.state(t)
		return s != store.StateRunning && e.claimed(t) == 0
	})
}

// extraCampaigns is how many other campaigns TestRedTeamGateSlowCheckInPassDropsAWorker
// pauses (RT_EXTRA to change it: 0 is its control run).
func extraCampaigns() int {
	if v, err := strconv.Atoi(os.Getenv("RT_EXTRA")); err == nil {
		return v
	}
	return 50
}
