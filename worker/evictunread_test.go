package worker_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestWorkerHoldsWhenPolicyUnreadable: a Redis that says its
// maxmemory-policy neither in INFO memory (a Redis user without +info)
// nor to CONFIG GET (CONFIG renamed away, as managed Redis does) leaves
// the worker unable to tell whether a ledger may be evicted. Before, it
// sent on. Now it holds (fail closed): nothing is sent, it says so once at
// WARN with how to go on (the rights, or redis.maxmemory_policy:
// noeviction), /healthz answers 503 saying so, and
// tidings_worker_eviction_hold is 1. A worker of an environment that
// declares the policy noeviction sends the campaign, everyone exactly
// once. On a real redis-server started with rename-command CONFIG "".
func TestWorkerHoldsWhenPolicyUnreadable(t *testing.T) {
	t.Parallel()
	conf := filepath.Join(t.TempDir(), "noconfig.conf")
	if err := os.WriteFile(conf, []byte("save \"\"\nappendonly no\nmaxmemory-policy noeviction\nrename-command CONFIG \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, _ := envOn(t, conf)
	if err := e.rdb.ConfigGet(t.Context(), "maxmemory-policy").Err(); err == nil {
		t.Fatal("CONFIG GET answers on a Redis whose CONFIG was renamed away")
	}
	const n, chunk = 60, 20
	e.stage(t, opts{n: n, size: n, chunk: chunk})
	// The worker's Redis user has tidings's rights but INFO.
	rdb, _ := aclUser(t, e, "tidings-noinfo", func(r string) []string {
		if r == "+info" {
			return nil
		}
		return []string{r}
	})
	h := &dequeues{queue: "asynq:{" + worker.QueueOf("test") + "}:", chunk: "tidings:{test-campaign}:chunk:"}
	rdb.AddHook(h)
	var logs syncbuf.Buffer
	var served http.Handler
	reg := prometheus.NewRegistry()
	stop := e.startWorker(t, wopts{rdb: rdb, logs: &logs, metrics: reg, served: &served})
	// Until asynq has handed the worker its chunks twice (or a message
	// arrived: the failure below).
	wait.For(t, 120*time.Second, "asynq to hand the worker its chunks twice", func() bool {
		return h.tasks.Load() >= 2*n/chunk || e.smtp.Count() > 0
	}, logs.String)
	if got := e.smtp.Count(); got != 0 {
		t.Fatalf("%d messages sent on a Redis whose maxmemory-policy the worker cannot read\n%s", got, logs.String())
	}
	var said []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "cannot read Redis's maxmemory-policy") {
			said = append(said, line)
		}
	}
	if len(said) != 1 {
		t.Fatalf("want one WARN line for the unreadable policy, got %d\n%s", len(said), logs.String())
	}
	for _, want := range []string{"nothing is sent", "+info", "CONFIG GET", "redis.maxmemory_policy: noeviction", "TIDINGS_REDIS_MAXMEMORY_POLICY=noeviction"} {
		if !strings.Contains(said[0], want) {
			t.Errorf("the WARN line does not say %q\n%s", want, said[0])
		}
	}
	if code, body := healthz(served); code != http.StatusServiceUnavailable || !strings.Contains(body, "maxmemory-policy cannot be read") ||
		!strings.Contains(body, "redis.maxmemory_policy: noeviction") {
		t.Errorf("/healthz while the policy cannot be read: %d %q, want 503 saying so and how to declare it", code, body)
	}
	if got := gaugeValue(t, reg, "tidings_worker_eviction_hold"); got != 1 {
		t.Errorf("tidings_worker_eviction_hold = %v while the policy cannot be read, want 1", got)
	}
	stop()

	var declared syncbuf.Buffer
	e.startWorker(t, wopts{rdb: rdb, logs: &declared, declared: "noeviction"})
	e.sentOnceEach(t, n, declared.String)
	if !strings.Contains(declared.String(), "declares it noeviction") {
		t.Errorf("the worker of the declared policy did not say it sends on that word\n%s", declared.String())
	}
}
