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
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestHoldWarningNamesTheReplicaTheSentinelsList: with auto, a replica
// killed before the worker starts (the Sentinels' down-after is ten
// minutes: they list it, disconnected, not down) leaves the master's INFO
// one replica while the Sentinels list two, so the worker waits for 2 and
// warns that sending holds until the missing replica returns. The master's
// INFO no longer names it, but the Sentinels do (SENTINEL REPLICAS): the
// warning names its address. Before, it said "(a replica no longer)".
func TestHoldWarningNamesTheReplicaTheSentinelsList(t *testing.T) {
	t.Parallel()
	s, opts, gone, _ := sentinelWithAReplicaGone(t)
	var logs syncbuf.Buffer
	stop := runListedWorker(t, s, opts, prometheus.NewRegistry(), &logs)
	wait.For(t, 30*time.Second, "the worker to warn that sending holds", func() bool {
		return strings.Contains(logs.String(), "still waiting for 2 replica acknowledgement(s)")
	}, logs.String)
	stop()
	if l := logs.String(); !strings.Contains(l, gone) || strings.Contains(l, "a replica no longer") {
		t.Errorf("the warning does not name the replica the Sentinels list and the master does not (%s):\n%s", gone, l)
	}
}

// sentinelWithAReplicaGone starts Sentinel with a master of two replicas
// and kills one of them (gone, its address; left, the other) so that the
// master's INFO lists one replica while the Sentinels, whose down-after is
// ten minutes, list both (disconnected, not down); opts reaches the
// Sentinels.
func sentinelWithAReplicaGone(t *testing.T) (s *redistest.Sentinel, opts *redis.UniversalOptions, gone string, left *redistest.Node) {
	t.Helper()
	s = redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 2, DownAfter: 10 * time.Minute})
	ctx := t.Context()
	reps, err := s.Replicas(ctx)
	if err != nil || len(reps) != 2 {
		t.Fatalf("replicas: %v %v", reps, err)
	}
	opts = &redis.UniversalOptions{MasterName: s.MasterName(), Addrs: s.SentinelAddrs()}
	gone = reps[0].Addr()
	reps[0].Kill()
	master, err := s.Master(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "the master to list one replica, the Sentinels two", func() bool {
		info, err := master.Info(ctx, "replication")
		return err == nil && info["connected_slaves"] == "1" && len(redisconn.SentinelReplicas(ctx, opts)) == 2
	}, s.Logs)
	return s, opts, gone, reps[1]
}

// runListedWorker runs a worker with auto on s whose floor is the
// replicas the Sentinels opts reaches list, as ForEnvironment sets it.
func runListedWorker(t *testing.T, s *redistest.Sentinel, opts *redis.UniversalOptions, reg *prometheus.Registry, logs *syncbuf.Buffer) (stop func()) {
	t.Helper()
	return runAcksWorkerWith(t, s.FailoverClient(), worker.AutoReplicaAcks, reg, logs, func(c *worker.Config) {
		c.SentinelListed = func(ctx context.Context) []string { return redisconn.SentinelReplicas(ctx, opts) }
	})
}
