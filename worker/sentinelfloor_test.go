package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestWorkerKeepsTheSentinelFloorWhenNoSentinelAnswers: with auto, the
// replicas the Sentinels list are a floor of what a claim waits for
// (Config.SentinelListed, as ForEnvironment sets it). A replica killed
// before the worker starts (the Sentinels' down-after is ten minutes, so
// they list it, disconnected, not down) leaves the master's INFO one
// replica while the Sentinels list two: the worker waits for 2. Then no
// Sentinel answers (all three killed) and the master's other replica is
// killed too, so the worker judges again: it keeps the Sentinels' 2 (none
// answering keeps their number), not the master's INFO alone (1).
func TestWorkerKeepsTheSentinelFloorWhenNoSentinelAnswers(t *testing.T) {
	t.Parallel()
	s, opts, _, left := sentinelWithAReplicaGone(t)
	ctx := t.Context()

	reg := prometheus.NewRegistry()
	var logs syncbuf.Buffer
	stop := runListedWorker(t, s, opts, reg, &logs)
	acks := func() float64 { v, _ := gauge(t, reg, "tidings_replica_acks", "production"); return v }
	wait.For(t, 30*time.Second, "the worker to wait for the 2 replicas the Sentinels list", func() bool {
		return strings.Contains(logs.String(), "worker started") && acks() == 2
	}, logs.String)

	for _, sn := range s.Sentinels() {
		sn.Kill()
	}
	if n := redisconn.SentinelListed(ctx, opts); n != 0 {
		t.Fatalf("the Sentinels killed still list %d replicas", n)
	}
	left.Kill()
	wait.For(t, 60*time.Second, "the worker to judge the master's replicas again (none left)", func() bool {
		return strings.Contains(logs.String(), "replicas=0 ")
	}, logs.String)
	stop() // the store keeps what it waited for last
	if got := acks(); got != 2 {
		t.Errorf("no Sentinel answering, the worker waits for %v replica acknowledgement(s), want the Sentinels' 2 kept\n%s", got, logs.String())
	}
}
