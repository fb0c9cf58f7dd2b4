package worker_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// The weekend pause: a campaign paused (or waiting for approval) on
// Friday night is resumed (or approved) on Monday. Nobody can wait three
// days, and Redis's clock (TIME, which the scripts time everything by)
// cannot be moved; so timeMachine moves everything else: what Redis holds
// is made to look as it would after d had passed, the clock staying. It
// acts as time would on Redis:
//   - a key with a TTL shorter than d is gone (it expired): the staging
//     lease, the reconcile turn, the rate limiter, asynq's servers and
//     workers;
//   - every time Redis holds (unix seconds or milliseconds within a day of
//     now: in hash fields and values, ledger entries, list entries such as
//     the audit log's JSON, sorted-set scores such as asynq's leases and
//     its servers' expiries) is moved d into the past, so that what was
//     then is d ago: the pause's time, a batch's release and end, the
//     workers' and check-ins' last word, the per-second outcomes.
//
// Nothing else keeps time: the workers are stopped before and new ones
// started after (a process does not live through the weekend in these
// tests), and the journals hold no time any check compares.
func timeMachine(t *testing.T, rdb *redis.Client, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	tm, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	nowMS, nowS := tm.UnixMilli(), tm.Unix()
	shiftNum := func(s string) string {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return s
		}
		switch {
		case len(s) == 13 && abs(n-nowMS) < 86_400_000:
			return strconv.FormatInt(n-d.Milliseconds(), 10)
		case len(s) == 10 && abs(n-nowS) < 86_400:
			return strconv.FormatInt(n-int64(d.Seconds()), 10)
		}
		return s
	}
	shift := func(s string) string { return timeRE.ReplaceAllStringFunc(s, shiftNum) }
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl > 0 && ttl < d {
			if err := rdb.Del(ctx, k).Err(); err != nil {
				t.Fatal(err)
			}
			t.Logf("time machine: %s expired (its TTL was %v)", k, ttl)
			continue
		}
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "hash":
			m, err := rdb.HGetAll(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			for f, v := range m {
				if f == "msg" { // asynq's task message (protobuf): not text
					continue
				}
				nf, nv := shift(f), shift(v)
				if nf == f && nv == v {
					continue
				}
				moved++
				if nf != f {
					rdb.HDel(ctx, k, f)
				}
				if err := rdb.HSet(ctx, k, nf, nv).Err(); err != nil {
					t.Fatal(err)
				}
			}
		case "list":
			l, err := rdb.LRange(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range l {
				if nv := shift(v); nv != v {
					moved++
					if err := rdb.LSet(ctx, k, int64(i), nv).Err(); err != nil {
						t.Fatal(err)
					}
				}
			}
		case "zset":
			z, err := rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range z {
				s := strconv.FormatInt(int64(m.Score), 10)
				if ns := shift(s); ns != s {
					moved++
					n, _ := strconv.ParseFloat(ns, 64)
					if err := rdb.ZAdd(ctx, k, redis.Z{Score: n, Member: m.Member}).Err(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	t.Logf("time machine: %v passed (%d times moved back)", d, moved)
}

var timeRE = regexp.MustCompile(`\b\d{10}(\d{3})?\b`)

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

const weekend = 72 * time.Hour

// TestWeekendPause: on-call pauses a campaign mid-batch at 2 a.m. on
// Saturday; the workers are stopped (a deploy, a host's maintenance) and
// Redis restarted (AOF on) over the weekend; on Monday new workers start
// and on-call resumes it. Every recipient gets exactly one message and
// every row is accounted for; the status after the resume gives an ETA of
// the campaign's own pace (its batch's rate not diluted by the three days
// paused), and the batch interval is timed from the batch's end as usual.
func TestWeekendPause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, r := envOn(t, "../internal/redistest/testdata/aof.conf")
	e.stage(t, opts{n: 300, size: 100, rate: "50/s", interval: "1h"})
	stop := e.startWorker(t, wopts{journal: t.TempDir(), id: "friday"})
	wait.For(t, 30*time.Second, "30 messages", func() bool { return e.smtp.Count() >= 30 })
	before := pauseSettled(t, e, "2 a.m. Saturday: bounces climbing")
	stop()
	timeMachine(t, e.rdb, weekend)
	if err := r.Restart(ctx, false); err != nil {
		t.Fatal(err)
	}
	mondayJournal := t.TempDir()
	e.startWorker(t, wopts{journal: mondayJournal, id: "monday"})
	if _, err := e.st.Resume(ctx, e.name, tester, "Monday: the relay is fixed"); err != nil {
		t.Fatal(err)
	}
	// The first batch ends; the next waits for the interval (an hour).
	wait.For(t, 60*time.Second, "the first batch to be sent", func() bool { return e.smtp.Count() >= 100 })
	e.waitBatchDone(t, 0)
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d sent before the weekend; after the first batch: ETA %.0f s (%q), rate %.1f/s, counts %v", before, st.ETASeconds, st.ETAWaitsFor, st.Rate, st.Counts)
	// Two batches of 100 at 50/s after two intervals of an hour, less what
	// passed of the first: at most 2 h and 4 s, and more than 1 h. A batch
	// rate that counted the weekend (100 in 72 h) would make it days.
	if st.ETASeconds <= 3600 || st.ETASeconds > 2*3600+4+60 {
		t.Errorf("after the weekend, between batches, the ETA is %.0f s (%q), want a little over 1 to 2 hours: two batches of 100 at 50/s after two intervals of 1 h", st.ETASeconds, st.ETAWaitsFor)
	}
	// The intervals pass.
	for b := 1; b <= 2; b++ {
		timeMachine(t, e.rdb, time.Hour)
		wait.For(t, 60*time.Second, "the next batch to be sent", func() bool { return e.smtp.Count() >= 100*(b+1) })
		if b < 2 {
			e.waitBatchDone(t, b) // its interval starts
		}
	}
	e.waitState(t, 60*time.Second, store.StateDone)
	e.checkReconcile(t)
	if n := len(e.received()); n != 300 {
		t.Errorf("%d recipients received a message, want 300", n)
	}
}

// waitBatchDone waits until a tick has seen batch b's first pass
// complete: its interval has started (batch_done_at), so that moving time
// on passes it.
func (e *env) waitBatchDone(t *testing.T, b int) {
	t.Helper()
	wait.For(t, 30*time.Second, "the end of batch "+strconv.Itoa(b)+" to be recorded", func() bool {
		c, _ := e.rdb.HMGet(context.Background(), "tidings:{"+e.name+"}:control", "cur_batch", "batch_done_at").Result()
		cur, _ := c[0].(string)
		at, _ := c[1].(string)
		return cur == strconv.Itoa(b) && at != "" && at != "0"
	})
}

// TestCanaryApprovedAfterTheWeekend: the canary went out on Friday and the
// campaign waited for approval all weekend (its workers stopped, Redis
// restarted with AOF); on Monday new workers start and someone approves.
// The rest goes out, everyone once, every row accounted for.
func TestCanaryApprovedAfterTheWeekend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, r := envOn(t, "../internal/redistest/testdata/aof.conf")
	e.stage(t, opts{n: 200, size: 100, canary: 2, approve: true, rate: "100/s", interval: "10m"})
	stop := e.startWorker(t, wopts{journal: t.TempDir(), id: "friday"})
	e.waitState(t, 60*time.Second, store.StateAwaitingApproval)
	canary := e.smtp.Count()
	stop()
	timeMachine(t, e.rdb, weekend)
	if err := r.Restart(ctx, false); err != nil {
		t.Fatal(err)
	}
	e.startWorker(t, wopts{journal: t.TempDir(), id: "monday"})
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != store.StateAwaitingApproval || st.ETAWaitsFor != store.ETAWaitsForApproval {
		t.Errorf("on Monday the campaign is %s, its ETA waiting for %q; want awaiting approval, its ETA waiting for it", st.State, st.ETAWaitsFor)
	}
	if _, err := e.st.Approve(ctx, e.name, "", false, tester, "canary read on Monday"); err != nil {
		t.Fatal(err)
	}
	// The interval after the canary passed over the weekend: the next
	// batch is released at once, and the one after it 10 minutes later.
	wait.For(t, 60*time.Second, "the batch after the canary", func() bool { return e.smtp.Count() >= canary+100 })
	e.waitBatchDone(t, 1) // its interval starts
	timeMachine(t, e.rdb, 10*time.Minute)
	e.waitState(t, 60*time.Second, store.StateDone)
	e.checkReconcile(t)
	if n := len(e.received()); n != 200 {
		t.Errorf("%d recipients received a message, want 200", n)
	}
	t.Logf("canary %d on Friday; done on Monday", canary)
}

// TestKeyLostWhilePaused: over the weekend one key of the paused
// campaign is lost (an eviction under a policy someone changed, an
// operator's clean-up script, a partial restore); the workers are
// restarted and on-call resumes it on Monday. Whatever key it is, nobody
// receives a second message: the campaign either ends with every row
// accounted for, everyone sent once (a key it can do without), or stops
// for state loss (the resume refused, or a pause saying so); never runs on
// silently without ending.
func TestKeyLostWhilePaused(t *testing.T) {
	t.Parallel()
	// The keys such a campaign has while paused (staged once, no error,
	// no gate, no re-staging): a key it lacks would test nothing, and
	// keyLostWhilePaused fails on it.
	for _, key := range []string{"ledger", "meta", "control", "chunk:0", "chunk:1", "counts", "bstats", "batches",
		"fresh", "wsent", "win", "checkins", "audit", "persec"} {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			keyLostWhilePaused(t, key)
		})
	}
}

func keyLostWhilePaused(t *testing.T, key string) {
	ctx := context.Background()
	e, _ := persistentEnv(t)
	e.stage(t, opts{n: 300, size: 100, rate: "50/s"})
	dir := t.TempDir()
	stop := e.startWorker(t, wopts{journal: dir, id: "friday"})
	wait.For(t, 30*time.Second, "30 messages", func() bool { return e.smtp.Count() >= 30 })
	pauseSettled(t, e, "2 a.m. Saturday")
	stop()
	n, err := e.rdb.Del(ctx, "tidings:{"+e.name+"}:"+key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no key %s to lose: this case tests nothing", key)
	}
	e.startWorker(t, wopts{journal: dir, id: "monday"})
	wait.For(t, 30*time.Second, "Monday's worker to be up", func() bool {
		return e.rdb.HExists(ctx, "tidings:workers:test", "monday").Val()
	})
	if _, err := e.st.Resume(ctx, e.name, tester, "Monday"); err != nil {
		t.Logf("resume refused: %v", err)
		e.noneTwice(t)
		return
	}
	var st *store.Status
	wait.For(t, 60*time.Second, "the campaign to end or pause", func() bool {
		s, err := e.st.Status(ctx, e.name)
		if err == nil && (s.State == store.StateDone || s.State == store.StatePaused) {
			st = s
			return true
		}
		return false
	})
	e.noneTwice(t)
	if st.State == store.StatePaused {
		if st.Action != "state-loss" && !strings.Contains(st.Reason, "state loss") {
			t.Errorf("paused by %s: %s; want a pause for state loss", st.Action, st.Reason)
		}
		t.Logf("paused: %s", st.Reason)
		return
	}
	e.checkReconcile(t)
	if n := len(e.received()); n != 300 {
		t.Errorf("done, %d recipients received a message, want 300", n)
	}
}

// noneTwice fails t for every recipient who received more than one
// message.
func (e *env) noneTwice(t *testing.T) {
	t.Helper()
	for addr, n := range e.received() {
		if n > 1 {
			t.Errorf("%s received %d messages", addr, n)
		}
	}
}
