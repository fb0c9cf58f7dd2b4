package worker_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestWorkerWarnsAtStartOfJournaledCampaignsRedisLacks: a worker started
// against a Redis that has never heard of campaigns whose deliveries its
// delivery journal holds (a wrong --env or address, or a new empty
// instance after an infrastructure move) must say so at start, once, in a
// WARN naming the campaigns, the journal directory, the Redis address and
// what to run (tidings doctor --env ENV), and go on running. Before, it
// said nothing: its "worker started" line was all.
func TestWorkerWarnsAtStartOfJournaledCampaignsRedisLacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.stage(t, opts{name: "journaled", n: 12, size: 12})
	jdir := t.TempDir()
	stop := e.startWorker(t, wopts{journal: jdir})
	e.waitState(t, 60*time.Second, store.StateDone)
	stop()

	const warn = "level=WARN msg=\"Redis has no trace of campaigns whose deliveries this worker's delivery journal holds"
	tests := []struct {
		name string
		// redis returns the Redis the worker starts against.
		redis func(t *testing.T) *redis.Client
		lost  string // the campaigns the warning names ("": no warning)
	}{
		{"the Redis that has the campaign", func(*testing.T) *redis.Client { return e.rdb }, ""},
		{"a new empty Redis", func(t *testing.T) *redis.Client { return startRedis(t) }, "[journaled]"},
		{"another Redis, holding another campaign", func(t *testing.T) *redis.Client {
			other := newEnv(t, nil)
			other.stage(t, opts{name: "other", n: 3, size: 3, approve: true, canary: 1})
			return other.rdb
		}, "[journaled]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir() // the journal as the first worker left it
			if err := os.CopyFS(dir, os.DirFS(jdir)); err != nil {
				t.Fatal(err)
			}
			rdb := tt.redis(t)
			var logs syncbuf.Buffer
			stop := e.startWorker(t, wopts{journal: dir, rdb: rdb, logs: &logs})
			// The check runs after "worker started" and before the
			// worker's loops start: a line of one of them (the control
			// watch subscribed) says it is over. Stopped at "worker
			// started", a loaded machine cancelled the check's read of
			// Redis ("list campaigns: context canceled").
			wait.For(t, 30*time.Second, "the worker's start and its check of the journal", func() bool {
				return strings.Contains(logs.String(), "msg=\"control changes reach this worker as they are announced\"")
			})
			stop() // it ran on: the warning stops nothing
			out := logs.String()
			n := strings.Count(out, warn)
			if tt.lost == "" {
				if n != 0 {
					t.Errorf("the worker warned of a campaign its Redis has:\n%s", out)
				}
				return
			}
			if n != 1 {
				t.Fatalf("%d warnings of journaled campaigns Redis lacks, want 1:\n%s", n, out)
			}
			line := out[strings.Index(out, warn):]
			line = line[:strings.IndexByte(line, '\n')]
			// Those campaigns alone, not one Redis has.
			for _, want := range []string{"campaigns=" + tt.lost + " ", "journal=" + dir, "redis=" + rdb.Options().Addr, "env=test", `next="tidings doctor --env test"`} {
				if !strings.Contains(line, want) {
					t.Errorf("the warning lacks %s:\n%s", want, line)
				}
			}
		})
	}
}

// TestWorkerWarnsWithANextStepWhenRedisCannotListItsCampaigns: when the
// worker cannot list the campaigns Redis has at start (here the key that
// lists them holds a string, so SMEMBERS fails with WRONGTYPE; an ACL
// that denies it, or a Redis that drops the connection, fail alike), it
// cannot check its delivery journal against them: its one WARN must say
// so, what to check (that it reaches this environment's Redis and may
// read it) and what to run (tidings doctor --env ENV), with where it
// looked (journal, redis). Before, it logged the error alone.
func TestWorkerWarnsWithANextStepWhenRedisCannotListItsCampaigns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rdb := startRedis(t)
	if err := rdb.Set(t.Context(), "tidings:campaigns", "not a set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var logs syncbuf.Buffer
	const warn = `level=WARN msg="could not list the campaigns Redis has, to check the delivery journal's against them`
	stop := e.startWorker(t, wopts{journal: dir, rdb: rdb, logs: &logs})
	wait.For(t, 30*time.Second, "the warning", func() bool { return strings.Contains(logs.String(), warn) })
	stop()
	out := logs.String()
	if n := strings.Count(out, warn); n != 1 {
		t.Fatalf("%d warnings that the campaigns could not be listed, want 1:\n%s", n, out)
	}
	line := out[strings.Index(out, warn):]
	line = line[:strings.IndexByte(line, '\n')]
	for _, want := range []string{"campaigns whose state Redis lost go unnoticed", "check that this worker reaches the environment's Redis and may read it", "journal=" + dir, "redis=" + rdb.Options().Addr, "env=test", `next="tidings doctor --env test"`, "WRONGTYPE"} {
		if !strings.Contains(line, want) {
			t.Errorf("the warning lacks %s:\n%s", want, line)
		}
	}
}
