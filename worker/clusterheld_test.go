package worker_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestWorkerOnClusterSaysAHoldInWords: on Cluster with auto, a master the
// worker cannot tell the replicas of (never judged: stopped with SIGSTOP
// before the worker starts) while the cluster lists no slot map (Redis <
// 7 has no CLUSTER SHARDS; here an ACL refuses it on every node) is held
// with redisconn.Hold, 65536, which meant nothing to an operator: the
// "worker started" line printed replica_acks=65536. Every place an
// operator reads says it in words and what to do: the "worker started"
// line (not_judged), the warning naming the silent master, and
// tidings_replica_acks_held on /metrics (never 65536). With a slot map
// (Redis 7) the number a master not judged waits for is a number.
func TestWorkerOnClusterSaysAHoldInWords(t *testing.T) {
	t.Parallel()
	scenario(t)
	const held = "held: Redis < 7 does not list the replicas of a master not judged yet"
	for _, tt := range []struct {
		name     string
		noShards bool
		started  string // in the "worker started" line ({silent}: its address)
		warning  string // in the warning naming the silent master
		metric   string // on /metrics ("" none)
		noMetric string // not on /metrics
	}{
		{"Redis 7: the slot map", false, `replica_acks="per master (each logged as judged)" not_judged=1 `,
			"until then waits for no fewer than the replicas the cluster lists for it", "", "tidings_replica_acks_held{"},
		{"no CLUSTER SHARDS", true, `replica_acks="per master (each logged as judged)" not_judged="` + held,
			"until then its sends are " + held, `tidings_replica_acks_held{environment="production",master="{silent}"} 1`, "65536"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cl := redistest.StartCluster(t, redistest.ClusterOptions{NodeTimeout: 10 * time.Minute})
			masters := threeMasters(t, cl)
			if tt.noShards {
				for _, n := range cl.Nodes() {
					if err := n.Client().Do(ctx, "acl", "setuser", "default", "-cluster|shards").Err(); err != nil {
						t.Fatalf("refuse CLUSTER SHARDS on %s: %v", n.Addr(), err)
					}
				}
			}
			// A master none of the worker's own keys needs (it starts all the same).
			silent := spareMaster(t, cl, masters, "tidings:active", "tidings:campaigns", "asynq:{"+worker.QueueOf("production")+"}:pending", "asynq:queues")
			resume := pauseNode(t, silent)
			reg, logs := prometheus.NewRegistry(), new(syncbuf.Buffer)
			cc := cl.ClusterClient()
			defer runAcksWorker(t, cc, worker.AutoReplicaAcks, reg, logs)()
			defer resume() // before the worker stops
			// The worker's start reads every master, the paused one too, which
			// answers nothing: go-redis gives up on it only after its read
			// timeout on each of its attempts (20-25 s with the defaults, on an
			// idle machine as on a loaded one), before the worker can say it
			// started. A hang bound of four times that, and the rest of the start.
			o := cc.Options()
			silentRead := time.Duration(o.MaxRedirects+1) * (o.ReadTimeout + o.MaxRetryBackoff)
			wait.For(t, 4*silentRead+30*time.Second, "the worker to start", func() bool { return strings.Contains(logs.String(), "worker started") }, logs.String)
			fill := func(s string) string { return strings.ReplaceAll(s, "{silent}", silent.Addr()) }
			if line := lineWith(logs.String(), "worker started"); !strings.Contains(line, fill(tt.started)) || strings.Contains(line, "65536") {
				t.Errorf("the worker logged %q; want it to say %q, and no 65536", line, fill(tt.started))
			}
			if line := lineWith(logs.String(), "could not read the replicas"); !strings.Contains(line, silent.Addr()) || !strings.Contains(line, tt.warning) {
				t.Errorf("with %s silent, the worker logged %q; want it to name it and say %q", silent.Addr(), line, tt.warning)
			}
			rec := httptest.NewRecorder()
			worker.Handler(reg, cl.ClusterClient(), nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			body := rec.Body.String()
			if tt.metric != "" && !strings.Contains(body, fill(tt.metric)+"\n") {
				t.Errorf("/metrics has no line %q; it says:\n%s", fill(tt.metric), linesWith(body, "tidings_replica_acks"))
			}
			if strings.Contains(body, tt.noMetric) {
				t.Errorf("/metrics says %q; want none:\n%s", tt.noMetric, linesWith(body, tt.noMetric))
			}
		})
	}
}
