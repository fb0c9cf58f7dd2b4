package worker_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestWorkerOnClusterStartsWithAMasterSilent: a worker restarted while one
// Cluster master does not answer (stopped with SIGSTOP; cluster-node-timeout
// long, so no failover comes to the rescue during the test) starts all the
// same: it judges the masters that answer, warns naming the silent one and
// what to do, and sends a campaign whose slot a healthy master serves. It
// used to refuse to start (its first judging of the replicas returned the
// silent master's error), so the campaigns of every healthy shard stopped
// too. The silent master's claims wait for the most any master waits for
// (it has not been judged); tidings_replica_acks has no series for it yet.
func TestWorkerOnClusterStartsWithAMasterSilent(t *testing.T) {
	t.Parallel()
	scenario(t)
	cl := redistest.StartCluster(t, redistest.ClusterOptions{NodeTimeout: 10 * time.Minute})
	masters := threeMasters(t, cl)
	// The worker needs these keys' masters to send at all: the active
	// set, asynq's queue of environment test, asynq's list of queues.
	silent := spareMaster(t, cl, masters, "tidings:active", "asynq:{"+worker.QueueOf("test")+"}:pending", "asynq:queues")
	name := campaignNamed(t, cl, "silent", func(m *redistest.Node) bool { return m.Addr() != silent.Addr() })
	e, _ := clusterEnv(t, cl, nil)
	e.stage(t, opts{name: name, n: 12})

	resume := pauseNode(t, silent)
	var logs syncbuf.Buffer
	reg := prometheus.NewRegistry()
	stop := e.startWorker(t, wopts{rdb: cl.ClusterClient(), logs: &logs, metrics: reg})
	wait.For(t, 2*time.Minute, "every recipient of "+name+" to be sent", func() bool { return len(e.received()) == e.staged }, logs.String)
	line := lineWith(logs.String(), "could not read the replicas")
	for _, w := range []string{"level=WARN", silent.Addr(), "the others are judged"} {
		if !strings.Contains(line, w) {
			t.Errorf("with master %s stopped, the worker logged %q; want it to say %q", silent.Addr(), line, w)
		}
	}
	for to, n := range e.received() {
		if n != 1 {
			t.Errorf("%s got %d messages, want 1", to, n)
		}
	}
	resume()
	stop()
}

// TestWorkerOnClusterKeepsTheSeriesOfASilentMaster: a Cluster master judged
// at start, then stopped (SIGSTOP; no failover during the test), keeps its
// series of tidings_replica_acks and tidings_replica_acks_required on the
// metrics endpoint, at its last judgement (what its claims still wait
// for), beside the others'. They used to vanish while it did not answer,
// so the alert on tidings_replica_acks < tidings_replica_acks_required and
// the dashboards lost it.
func TestWorkerOnClusterKeepsTheSeriesOfASilentMaster(t *testing.T) {
	t.Parallel()
	scenario(t)
	cl := redistest.StartCluster(t, redistest.ClusterOptions{NodeTimeout: 10 * time.Minute})
	masters := threeMasters(t, cl)
	reg, logs := prometheus.NewRegistry(), new(syncbuf.Buffer)
	cc := cl.ClusterClient()
	stop := runAcksWorker(t, cc, worker.AutoReplicaAcks, reg, logs)
	wait.For(t, 30*time.Second, "the worker to start", func() bool { return strings.Contains(logs.String(), "worker started") }, logs.String)
	silent := masters[0]
	resume := pauseNode(t, silent)
	wait.For(t, time.Minute, "the worker to find "+silent.Addr()+" silent", func() bool {
		return strings.Contains(lineWith(logs.String(), "could not read the replicas"), silent.Addr())
	}, logs.String)
	rec := httptest.NewRecorder()
	worker.Handler(reg, cc, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, m := range masters {
		for _, name := range []string{"tidings_replica_acks", "tidings_replica_acks_required"} {
			if want := fmt.Sprintf("%s{environment=%q,master=%q} 1\n", name, "production", m.Addr()); !strings.Contains(body, want) {
				t.Errorf("with master %s silent, /metrics has no line %q; it says:\n%s", silent.Addr(), strings.TrimSpace(want), linesWith(body, name+"{"))
			}
		}
	}
	resume()
	stop()
}

// spareMaster is the first of masters that serves none of keys (the keys
// a worker needs to start or send: it may be stopped meanwhile).
func spareMaster(t *testing.T, cl *redistest.Cluster, masters []*redistest.Node, keys ...string) *redistest.Node {
	t.Helper()
	needed := map[string]bool{}
	for _, k := range keys {
		m, err := cl.MasterForSlotOf(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		needed[m.Addr()] = true
	}
	i := slices.IndexFunc(masters, func(m *redistest.Node) bool { return !needed[m.Addr()] })
	if i < 0 {
		t.Fatalf("every master serves a key the worker needs (%v): choose other keys", needed)
	}
	return masters[i]
}

// threeMasters is cl's masters, failing the test unless they are three.
func threeMasters(t *testing.T, cl *redistest.Cluster) []*redistest.Node {
	t.Helper()
	masters, err := cl.Masters(t.Context())
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters: %v %v", masters, err)
	}
	return masters
}

// campaignNamed is the first of the campaign names prefix-0, prefix-1, ...
// whose slot a master that on accepts serves.
func campaignNamed(t *testing.T, cl *redistest.Cluster, prefix string, on func(*redistest.Node) bool) string {
	t.Helper()
	for n := 0; ; n++ {
		c := fmt.Sprintf("%s-%d", prefix, n)
		m, err := cl.MasterForSlotOf(t.Context(), "{"+c+"}")
		if err != nil {
			t.Fatal(err)
		}
		if on(m) {
			return c
		}
	}
}

// clusterEnv is an env on cl (its store on a cluster client, also
// returned for the workers) with a capture server whose fault is fault.
func clusterEnv(t *testing.T, cl *redistest.Cluster, fault func(string) error) (*env, *redis.ClusterClient) {
	t.Helper()
	srv, err := smtpcapture.Start(context.WithoutCancel(t.Context()), smtpcapture.Config{Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cc := cl.ClusterClient()
	return &env{st: store.New(cc), smtp: srv, byLang: map[string]int{}}, cc
}

// linesWith is every line of s that contains sub.
func linesWith(s, sub string) string {
	var b strings.Builder
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			b.WriteString(l)
		}
	}
	return b.String()
}

// pauseNode stops node n (SIGSTOP) and returns what lets it go on (also when t
// ends, before the cluster is stopped); a second call does nothing.
func pauseNode(t *testing.T, n *redistest.Node) (resume func()) {
	t.Helper()
	if err := n.Pause(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	resume = func() {
		once.Do(func() {
			if err := n.Continue(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(resume)
	return resume
}
