package worker_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestHealthzSaysEveryCause: a worker whose delivery journal's disk is
// full (a real ENOSPC, from a tmpfs) and whose Redis's maxmemory-policy
// turns to allkeys-lru has two causes for its 503: the journal's is the
// only one a restart of this worker fixes (once its directory is), so
// /healthz must not hide it behind the policy's. Before, /healthz
// answered the first cause alone (Redis's, then the journal's only once
// Redis had none). On a real redis-server of the test's own.
func TestHealthzSaysEveryCause(t *testing.T) {
	t.Parallel()
	dir := smallDisk(t, "1m")
	e, _ := persistentEnv(t)
	ctx := context.Background()
	e.stage(t, opts{n: 300, size: 300, rate: "60/s"})
	var logs syncbuf.Buffer
	var served http.Handler
	e.startWorker(t, wopts{id: "w1", journal: dir, logs: &logs, metrics: prometheus.NewRegistry(), served: &served})
	wait.For(t, 60*time.Second, "the first messages", func() bool { return e.smtp.Count() >= 20 })
	fillDisk(t, dir)
	wait.For(t, 120*time.Second, "the campaign to pause for its journal", func() bool {
		return e.state(t) == store.StatePaused
	}, logs.String)
	if err := e.rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "the worker to say Redis may evict", func() bool {
		return strings.Contains(logs.String(), "maxmemory-policy is allkeys-lru")
	}, logs.String)
	code, body := healthz(served)
	if code != http.StatusServiceUnavailable {
		t.Errorf("/healthz: %d, want 503", code)
	}
	for _, want := range []string{"maxmemory-policy is allkeys-lru", "delivery journal cannot be written", "no space left on device", "restart this worker"} {
		if !strings.Contains(body, want) {
			t.Errorf("/healthz does not say %q:\n%s", want, body)
		}
	}
	if err := e.rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
}
