package worker

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// TestRefusedIsAnOutageKind: Redis refusing a loop's command for the
// user's rights (NOPERM, from a real redis-server) is an outage kind of
// its own, said where the others are (outageLog): once at ERROR when it
// starts (the command, the environment, the rights, doctor), its repeats
// at DEBUG, at ERROR again a minute on with how long and how many
// refusals were held back, and once at INFO when the command runs again,
// with the same; tidings_worker_redis_refused is 1 while it lasts. Before,
// Worker.refused kept a map of its own beside outageLog (hooked into
// warn) and said neither how long nor how many, nor ever again.
func TestRefusedIsAnOutageKind(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	if srv.Embedded {
		t.Skip("the embedded Redis has no ACL; install redis-server (CI runs this on it)")
	}
	rdb := srv.Client()
	nop := noperm(t, rdb, "tidings-refused-kind")

	var logs syncbuf.Buffer
	reg := prometheus.NewRegistry()
	w, err := New(Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test", Metrics: reg,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		w.outage.warn(sayingAlive, nop)
	}
	out := logs.String()
	errs := linesAt(out, "ERROR")
	if len(errs) != 1 || len(linesAt(out, "WARN")) != 0 {
		t.Fatalf("want one ERROR line and no WARN for 3 refusals:\n%s", out)
	}
	for _, want := range []string{`command="` + sayingAlive + `"`, "NOPERM", "env=test", redisconn.MinimalACL, "tidings doctor --env test"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("the ERROR line does not name %q:\n%s", want, errs[0])
		}
	}
	if n := len(linesAt(out, "DEBUG")); n != 2 {
		t.Errorf("%d DEBUG lines for the 2 repeats, want 2:\n%s", n, out)
	}
	if g := refusedGauge(t, reg); g != 1 {
		t.Errorf("tidings_worker_redis_refused = %v while refused, want 1", g)
	}
	health := Handler(reg, rdb, w)
	if code, body := get(health, "/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "redis refuses this worker: "+sayingAlive) ||
		!strings.Contains(body, "NOPERM") || !strings.Contains(body, redisconn.MinimalACL) {
		t.Errorf("/healthz while Redis refuses a command: %d %q, want 503 naming it, the refusal and the rights", code, body)
	}

	// A minute on, it is said again (the clock of its last line set back
	// rather than waiting a minute).
	w.outage.mu.Lock()
	s := w.outage.sites[sayingAlive]
	if s == nil {
		w.outage.mu.Unlock()
		t.Fatalf("the refusal is not an outage of its loop:\n%s", logs.String())
	}
	s.warned = s.warned.Add(-outageRepeat)
	s.since = s.since.Add(-outageRepeat)
	w.outage.mu.Unlock()
	w.outage.warn(sayingAlive, nop)
	errs = linesAt(logs.String(), "ERROR")
	if len(errs) != 2 || !strings.Contains(errs[1], "still refuses") || !strings.Contains(errs[1], "refused_for=1m") ||
		!strings.Contains(errs[1], "errors_held_back=3") || !strings.Contains(errs[1], redisconn.MinimalACL) {
		t.Fatalf("want a second ERROR line saying Redis still refuses it, for 1m, 3 held back, with the rights:\n%s", logs.String())
	}

	w.outage.answered(checkingIn) // another loop
	if g := refusedGauge(t, reg); g != 1 || strings.Contains(logs.String(), "allows this worker again") {
		t.Fatalf("another loop's success ended the refusal (gauge %v):\n%s", g, logs.String())
	}
	w.outage.answered(sayingAlive)
	w.outage.answered(sayingAlive)
	out = logs.String()
	ended := logLinesWith(out, "Redis allows this worker again the command it refused")
	if len(ended) != 1 || !strings.Contains(ended[0], "level=INFO") || !strings.Contains(ended[0], `command="`+sayingAlive+`"`) ||
		!strings.Contains(ended[0], "refused_for=1m") || !strings.Contains(ended[0], "errors_held_back=3") {
		t.Fatalf("want one INFO line that Redis allows it again, for 1m, 3 held back:\n%s", out)
	}
	if g := refusedGauge(t, reg); g != 0 {
		t.Errorf("tidings_worker_redis_refused = %v once allowed, want 0", g)
	}
	if code, body := get(health, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz once allowed: %d %q, want 200 ok", code, body)
	}
}

// get is h's answer to GET path: its status and body.
func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

// noperm is a real refusal of Redis for the user's rights: a SET by the
// user name (made on rdb's server, allowed every command but no key).
func noperm(t *testing.T, rdb *redis.Client, name string) error {
	t.Helper()
	ctx := context.Background()
	if err := rdb.Do(ctx, "ACL", "SETUSER", name, "on", ">"+name, "resetkeys", "resetchannels", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	opt := *rdb.Options()
	opt.Username, opt.Password = name, name
	user := redis.NewClient(&opt)
	defer user.Close()
	err := user.Set(ctx, "tidings:refused-kind", "1", 0).Err()
	if !settings(err) || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("SET by a user without keys: %v, want NOPERM", err)
	}
	return err
}

// linesAt is the lines of out logged at level.
func linesAt(out, level string) []string { return logLinesWith(out, "level="+level+" ") }

// logLinesWith is the lines of out that hold s.
func logLinesWith(out, s string) []string {
	var ls []string
	for l := range strings.Lines(out) {
		if strings.Contains(l, s) {
			ls = append(ls, l)
		}
	}
	return ls
}

// refusedGauge is tidings_worker_redis_refused in reg.
func refusedGauge(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	return gaugeIn(t, reg, "tidings_worker_redis_refused")
}

// gaugeIn is the value of gauge name in reg.
func gaugeIn(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no " + name)
	return 0
}
