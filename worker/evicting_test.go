package worker_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// chunksActive is e.active, and 0 while no chunk task was ever queued
// (the queue does not exist yet: a worker held from its start).
func (e *env) chunksActive(t *testing.T) int {
	t.Helper()
	qs, err := asynq.NewInspectorFromRedisClient(e.rdb).Queues()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(qs, worker.QueueOf("test")) {
		return 0
	}
	return e.active(t)
}

// TestWorkerHoldsSendsWhileRedisMayEvict: an operator who skipped doctor
// (or a managed Redis's default, volatile-lru) lets Redis evict keys
// under memory pressure; an evicted ledger entry, chunk or meta could
// mean a second message, or a recipient lost from the accounting. Before,
// the worker sent on regardless. Now a worker whose Redis's
// maxmemory-policy is not noeviction sends nothing: it says so once at
// WARN with the policy and what to do, /healthz answers 503 naming it,
// tidings_worker_eviction_hold is 1 (0 before and after), it checks
// again by itself, and once the policy is noeviction again it resumes; every recipient gets exactly one message, counted at the SMTP
// server. Mid-run (CONFIG SET while it sends) and at start (the policy
// set before the worker runs, read by a Redis user that may not run
// CONFIG: INFO memory says the policy), on a real redis-server of the
// test's own.
func TestWorkerHoldsSendsWhileRedisMayEvict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy  string
		atStart bool
	}{
		{policy: "allkeys-lru"},
		{policy: "volatile-lru"},
		{policy: "allkeys-random", atStart: true},
	} {
		name := tc.policy
		if tc.atStart {
			name += "/at-start"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, _ := persistentEnv(t)
			ctx := context.Background()
			const n = 200
			e.stage(t, opts{n: n, size: n, rate: "40/s"})
			var logs syncbuf.Buffer
			var served http.Handler
			reg := prometheus.NewRegistry()
			w := wopts{journal: t.TempDir(), logs: &logs, metrics: reg, served: &served}
			if tc.atStart {
				if err := e.rdb.ConfigSet(ctx, "maxmemory-policy", tc.policy).Err(); err != nil {
					t.Fatal(err)
				}
				// The worker's Redis user has tidings's rights and no
				// more: CONFIG is not among them.
				w.rdb, _ = aclUser(t, e, "tidings-noconfig", func(r string) []string { return []string{r} })
				e.startWorker(t, w)
			} else {
				e.startWorker(t, w)
				wait.For(t, 30*time.Second, "20 messages", func() bool { return e.smtp.Count() >= 20 })
				if got := gaugeValue(t, reg, "tidings_worker_eviction_hold"); got != 0 {
					t.Errorf("tidings_worker_eviction_hold = %v while the policy is noeviction, want 0", got)
				}
				if err := e.rdb.ConfigSet(ctx, "maxmemory-policy", tc.policy).Err(); err != nil {
					t.Fatal(err)
				}
			}
			wait.For(t, 30*time.Second, "the worker to say Redis may evict", func() bool {
				return strings.Contains(logs.String(), "maxmemory-policy")
			}, logs.String)
			// A message begun before the check may still be under way (a
			// chunk that looked before the hold may claim one more
			// window): once no chunk task runs and no claim is without an
			// outcome (recorded after the server's reply; what was
			// claimed and not sent is given back) it has reached the
			// relay, which then receives nothing more, looked at three
			// times a second apart (a sample, not a timed assertion).
			wait.For(t, time.Minute, "the chunks to stop and their claims to end", func() bool { return e.chunksActive(t) == 0 && e.claimed(t) == 0 }, logs.String)
			held := e.smtp.Count()
			for range 3 {
				time.Sleep(time.Second)
				if got := e.smtp.Count(); got != held {
					t.Fatalf("%d messages sent while Redis's maxmemory-policy is %s (%d when the worker said so)\n%s", got, tc.policy, held, logs.String())
				}
			}
			if tc.atStart && held != 0 {
				t.Errorf("%d messages sent by a worker started against a Redis whose maxmemory-policy is %s", held, tc.policy)
			}
			if held >= n {
				t.Fatalf("all %d recipients were mailed before the worker held", n)
			}
			checkEvictionLog(t, logs.String(), tc.policy)
			checkEvictionHealthz(t, served, tc.policy)
			if got := gaugeValue(t, reg, "tidings_worker_eviction_hold"); got != 1 {
				t.Errorf("tidings_worker_eviction_hold = %v while the sends are held, want 1", got)
			}

			if err := e.rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
				t.Fatal(err)
			}
			wait.For(t, 120*time.Second, "the campaign to end once the policy is noeviction", func() bool {
				return e.state(t) == store.StateDone
			}, logs.String)
			e.sentOnceEach(t, n, logs.String)
			checkEvictionHealthz(t, served, "")
			if got := gaugeValue(t, reg, "tidings_worker_eviction_hold"); got != 0 {
				t.Errorf("tidings_worker_eviction_hold = %v once the policy is noeviction again, want 0", got)
			}
			if !strings.Contains(logs.String(), "Redis's maxmemory-policy is noeviction again") {
				t.Errorf("the worker did not say it sends again\n%s", logs.String())
			}
		})
	}
}

// checkEvictionLog requires the log l to say once at WARN (not once per
// pass) that Redis's maxmemory-policy is policy, that nothing is sent,
// and what to do.
func checkEvictionLog(t *testing.T, l, policy string) {
	t.Helper()
	var said []string
	for line := range strings.Lines(l) {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "maxmemory-policy") {
			said = append(said, line)
		}
	}
	if len(said) != 1 {
		t.Fatalf("want one WARN line for the eviction policy, got %d\n%s", len(said), l)
	}
	for _, want := range []string{policy, "nothing is sent", "CONFIG SET maxmemory-policy noeviction", "tidings doctor --env test"} {
		if !strings.Contains(said[0], want) {
			t.Errorf("the WARN line does not say %q\n%s", want, said[0])
		}
	}
}

// checkEvictionHealthz requires /healthz (h) to answer 503 naming the
// policy and noeviction, or 200 "ok" when policy is "".
func checkEvictionHealthz(t *testing.T, h http.Handler, policy string) {
	t.Helper()
	code, body := healthz(h)
	switch {
	case policy == "" && (code != http.StatusOK || body != "ok\n"):
		t.Errorf("/healthz once the policy is noeviction: %d %q, want 200 ok", code, body)
	case policy != "" && (code != http.StatusServiceUnavailable || !strings.Contains(body, "maxmemory-policy is "+policy) ||
		!strings.Contains(body, "noeviction")):
		t.Errorf("/healthz while the policy is %s: %d %q, want 503 naming it and noeviction", policy, code, body)
	}
}
