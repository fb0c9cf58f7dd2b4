package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRateKeyRefusedSaysSoOnceAndGoesOn: a worker whose Redis user lacks
// the rate limiter's keys (~rate:tidings:*) was refused every take of
// tokens and logged it at WARN forever while nothing went out. The
// refusal is a setting to fix: the worker logs it once at ERROR, naming
// the command refused, the environment, the Redis address, the rights
// tidings needs and doctor; tidings_worker_redis_refused is 1 while it
// lasts; the worker does not give up the campaign. Once the right is
// given (ACL SETUSER), it goes on by itself, logs once that it does, and
// every recipient gets one message.
func TestRateKeyRefusedSaysSoOnceAndGoesOn(t *testing.T) {
	t.Parallel()
	needACL(t)
	e := newEnv(t, nil)
	const n = 6
	e.stage(t, opts{n: n, rate: "600/m"})
	ctx := context.Background()
	user, refusals := aclUser(t, e, "tidings-norate", func(r string) []string {
		if r == "~rate:tidings:*" {
			return nil
		}
		return []string{r}
	})
	opt := user.Options()

	var logs syncbuf.Buffer
	reg := prometheus.NewRegistry()
	e.startWorker(t, wopts{id: "w1", concurrency: 1, logs: &logs, metrics: reg, rdb: user})

	wait.For(t, 60*time.Second, "three refusals of the rate key", func() bool { return refusals() >= 3 }, logs.String)
	var errs []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("want one ERROR line for the refusal, got %d\n%s", len(errs), logs.String())
	}
	for _, want := range []string{"NOPERM", "take rate tokens", "env=test", opt.Addr, redisconn.MinimalACL, "tidings doctor --env test"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("the ERROR line does not name %q\n%s", want, errs[0])
		}
	}
	if got := gaugeValue(t, reg, "tidings_worker_redis_refused"); got != 1 {
		t.Errorf("tidings_worker_redis_refused = %v while refused, want 1", got)
	}
	if e.smtp.Count() != 0 {
		t.Errorf("%d messages sent without rate tokens", e.smtp.Count())
	}

	if err := e.rdb.Do(ctx, "ACL", "SETUSER", "tidings-norate", "~rate:tidings:*").Err(); err != nil {
		t.Fatal(err)
	}
	e.sentOnceEach(t, n, logs.String)
	if c := strings.Count(logs.String(), "Redis allows this worker again"); c != 1 {
		t.Errorf("want one line that Redis allows it again, got %d\n%s", c, logs.String())
	}
	if got := gaugeValue(t, reg, "tidings_worker_redis_refused"); got != 0 {
		t.Errorf("tidings_worker_redis_refused = %v once allowed, want 0", got)
	}
}

// aclUser makes the Redis user name (password name) with the rules of
// redisconn.MinimalACL, each as edit makes it (none: left out), and
// returns a client of e's Redis as that user, and the server's count of
// the commands it refused the user (ACL LOG: the server may be other
// tests' too).
// needACL skips t where the test Redis has no ACL (the embedded one, only
// without redis-server and outside CI: under CI=true redistest.Start
// fails instead, so these tests never skip there).
func needACL(t *testing.T) {
	t.Helper()
	if redistest.Start(t).Embedded {
		t.Skip("the embedded Redis has no ACL; install redis-server (CI runs this on it)")
	}
}

func aclUser(t *testing.T, e *env, name string, edit func(rule string) []string) (*redis.Client, func() int) {
	t.Helper()
	ctx := context.Background()
	rules := []any{"ACL", "SETUSER", name, "on", ">" + name, "resetkeys", "resetchannels"}
	for _, r := range strings.Fields(redisconn.MinimalACL) {
		for _, r := range edit(r) {
			rules = append(rules, r)
		}
	}
	if err := e.rdb.Do(ctx, rules...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.Do(ctx, "ACL", "LOG", "RESET").Err(); err != nil {
		t.Fatal(err)
	}
	opt := *e.rdb.Options()
	opt.Username, opt.Password = name, name
	user := redis.NewClient(&opt)
	t.Cleanup(func() { _ = user.Close() })
	return user, func() int {
		n := 0
		entries, _ := e.rdb.ACLLog(ctx, 100).Result()
		for _, en := range entries {
			if en.Username == name {
				n += int(en.Count)
			}
		}
		return n
	}
}

// sentOnceEach waits for the campaign of n recipients to be done, each
// sent exactly one message.
func (e *env) sentOnceEach(t *testing.T, n int, logs func() string) {
	t.Helper()
	wait.For(t, 120*time.Second, "every recipient sent", func() bool { return e.smtp.Count() >= n }, logs)
	e.waitState(t, 60*time.Second, store.StateDone)
	for rcpt, c := range e.received() {
		if c != 1 {
			t.Errorf("%s received %d messages", rcpt, c)
		}
	}
	if len(e.received()) != n {
		t.Errorf("%d recipients received a message, want %d", len(e.received()), n)
	}
}

// gaugeValue is the value of the gauge named name in reg (0 when absent).
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
