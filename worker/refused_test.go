package worker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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
	const n = 6
	e, user, refusals := refusedEnv(t, n, "tidings-norate", "~rate:tidings:*")
	ctx := context.Background()
	opt := user.Options()

	var logs syncbuf.Buffer
	var served http.Handler
	reg := prometheus.NewRegistry()
	e.startWorker(t, wopts{id: "w1", concurrency: 1, logs: &logs, metrics: reg, rdb: user, served: &served})

	wait.For(t, 60*time.Second, "three refusals of the rate key", func() bool { return refusals() >= 3 }, logs.String)
	errs := refusalsSaid(logs.String())
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
	checkHealthz(t, served, "take rate tokens")

	if err := e.rdb.Do(ctx, "ACL", "SETUSER", "tidings-norate", "~rate:tidings:*").Err(); err != nil {
		t.Fatal(err)
	}
	e.sentOnceEach(t, n, logs.String)
	checkAllowedOnce(t, logs.String(), "take rate tokens")
	checkHealthz(t, served, "")
	if got := gaugeValue(t, reg, "tidings_worker_redis_refused"); got != 0 {
		t.Errorf("tidings_worker_redis_refused = %v once allowed, want 0", got)
	}
}

// TestControlSubscribeRefusedIsARefusal: a worker whose Redis user may
// not subscribe to tidings:control (an ACL without &tidings:control)
// logged a WARN of its own once, tried again every minute and left
// tidings_worker_redis_refused at 0. It is now a refused right as any
// other, said where the others are (outageLog): once at ERROR naming the
// command and the rule to grant, the gauge 1 while it lasts, tried again
// every 2 s; sending goes on meanwhile (pause and cancel reach the worker
// at its control poll). Once the right is granted mid-run (ACL SETUSER),
// the worker subscribes by itself, says once that Redis allows it again
// with how long it was refused, and the gauge is back to 0.
func TestControlSubscribeRefusedIsARefusal(t *testing.T) {
	t.Parallel()
	const n = 6
	e, user, refusals := refusedEnv(t, n, "tidings-nocontrol", "&"+store.ControlChannel)
	ctx := context.Background()
	var logs syncbuf.Buffer
	var served http.Handler
	reg := prometheus.NewRegistry()
	e.startWorker(t, wopts{id: "w1", concurrency: 1, logs: &logs, metrics: reg, rdb: user, served: &served})

	wait.For(t, 60*time.Second, "three refusals of the subscription", func() bool { return refusals() >= 3 }, logs.String)
	e.sentOnceEach(t, n, logs.String) // sending goes on meanwhile
	const subscribing = "subscribe to the announcements of control changes"
	errs := refusalsSaid(logs.String())
	if len(errs) != 1 || !strings.Contains(errs[0], `command="`+subscribing) {
		t.Fatalf("want one ERROR line for the refused subscription, got %d\n%s", len(errs), logs.String())
	}
	for _, want := range []string{"NOPERM", "+subscribe &" + store.ControlChannel, "sending goes on", "env=test", redisconn.MinimalACL, "tidings doctor --env test"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("the ERROR line does not name %q\n%s", want, errs[0])
		}
	}
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, subscribing) && !strings.Contains(l, "level=ERROR") && !strings.Contains(l, "level=INFO") {
			t.Errorf("the refused subscription said below ERROR: %s", l)
		}
	}
	if got := gaugeValue(t, reg, "tidings_worker_redis_refused"); got != 1 {
		t.Errorf("tidings_worker_redis_refused = %v while refused, want 1", got)
	}
	checkHealthz(t, served, "") // sending goes on: no 503 for a probe to restart it on

	if err := e.rdb.Do(ctx, "ACL", "SETUSER", "tidings-nocontrol", "&"+store.ControlChannel).Err(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 60*time.Second, "the worker to subscribe once allowed", func() bool {
		return strings.Contains(logs.String(), "control changes reach this worker as they are announced")
	}, logs.String)
	checkAllowedOnce(t, logs.String(), subscribing)
	checkHealthz(t, served, "")
	if got := gaugeValue(t, reg, "tidings_worker_redis_refused"); got != 0 {
		t.Errorf("tidings_worker_redis_refused = %v once allowed, want 0", got)
	}
}

// checkHealthz requires the worker's /healthz (h) to answer 503 naming
// the refusal of the command beginning with refused and the rights to
// grant, or 200 "ok" when refused is "".
func checkHealthz(t *testing.T, h http.Handler, refused string) {
	t.Helper()
	code, body := healthz(h)
	switch {
	case refused == "" && (code != http.StatusOK || body != "ok\n"):
		t.Errorf("/healthz once allowed: %d %q, want 200 ok", code, body)
	case refused != "" && (code != http.StatusServiceUnavailable || !strings.Contains(body, "redis refuses this worker: "+refused) ||
		!strings.Contains(body, "NOPERM") || !strings.Contains(body, redisconn.MinimalACL)):
		t.Errorf("/healthz while Redis refuses %q: %d %q, want 503 naming it, the refusal and the rights", refused, code, body)
	}
}

// healthz is the status code and body h answers GET /healthz with.
func healthz(h http.Handler) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	return rec.Code, rec.Body.String()
}

// refusalsSaid is the lines of the log l that say a refusal has started
// (at ERROR; not its reminders a minute on, "still refuses").
func refusalsSaid(l string) []string {
	var said []string
	for line := range strings.Lines(l) {
		if strings.Contains(line, "level=ERROR") && !strings.Contains(line, "still refuses") {
			said = append(said, line)
		}
	}
	return said
}

// checkAllowedOnce requires the log l to say once, at INFO, that Redis
// allows again the command beginning with cmd, with how long it was
// refused and how many refusals were held back.
func checkAllowedOnce(t *testing.T, l, cmd string) {
	t.Helper()
	var said []string
	for line := range strings.Lines(l) {
		if strings.Contains(line, "Redis allows this worker again") && strings.Contains(line, `command="`+cmd) {
			said = append(said, line)
		}
	}
	if len(said) != 1 {
		t.Fatalf("want one line that Redis allows %q again, got %d\n%s", cmd, len(said), l)
	}
	for _, want := range []string{"level=INFO", "refused_for=", "errors_held_back="} {
		if !strings.Contains(said[0], want) {
			t.Errorf("the line that Redis allows %q again does not say %q: %s", cmd, want, said[0])
		}
	}
}

// refusedEnv is a campaign of n recipients staged on a Redis with ACL
// (needACL), a client as the user name, allowed redisconn.MinimalACL but
// rule, and the count of the commands Redis refused it (aclUser).
func refusedEnv(t *testing.T, n int, name, rule string) (*env, *redis.Client, func() int) {
	t.Helper()
	needACL(t)
	e := newEnv(t, nil)
	e.stage(t, opts{n: n, rate: "600/m"})
	user, refusals := aclUser(t, e, name, func(r string) []string {
		if r == rule {
			return nil
		}
		return []string{r}
	})
	return e, user, refusals
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
