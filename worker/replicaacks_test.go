package worker_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestWorkerWaitsForTheAcksAFailoverNeeds: on Sentinel, a worker with
// min_replica_acks auto waits for every replica connected, whatever their
// replica-priorities (2 of 2): an old master left running after a failover
// keeps the replica Sentinel did not promote, and its acknowledgements
// alone must not let a claim through. It says so at start, with the
// replicas and priorities it saw, and exports it (tidings_replica_acks,
// tidings_replica_acks_required, labelled with the environment). A
// configured 1 is kept (the operator chose it) but warned of, saying why
// and to set auto, and the gauges show the gap. The worker used to wait
// for 1 with two replicas of one priority.
func TestWorkerWaitsForTheAcksAFailoverNeeds(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 2})
	reps, err := s.Replicas(t.Context())
	if err != nil || len(reps) != 2 {
		t.Fatalf("replicas: %v %v", reps, err)
	}
	for _, tt := range []struct {
		name             string
		priorities       [2]int
		configured       int
		acks, required   float64
		level, says, not string // the log line of the replica acknowledgements ({both}: the two replicas, sorted)
	}{
		{"one priority, auto", [2]int{100, 100}, worker.AutoReplicaAcks, 2, 2,
			"level=INFO", "replica_acks=2 required=2 replicas=2 promoted=\"[{both}]\" priority=100 others=[]", "WARN"},
		{"one priority, configured 1", [2]int{100, 100}, 1, 1, 2,
			"level=WARN", "redis.min_replica_acks is 1: a failover that leaves the old master running (SENTINEL FAILOVER, a partition) can lose claims", "level=INFO msg=\"replica acknowledgements"},
		{"a preferred replica, auto", [2]int{100, 10}, worker.AutoReplicaAcks, 2, 2,
			"level=INFO", "replica_acks=2 required=2 replicas=2 promoted=[{1}] priority=10 others=\"[{0} (replica-priority 100)]\"", "WARN"},
		{"a preferred replica, configured 1", [2]int{100, 10}, 1, 1, 2,
			"level=WARN", "redis.min_replica_acks is 1: a failover can lose claims: Sentinel promotes {1} (replica-priority 10), and the acknowledgement(s) may all come from {0} (replica-priority 100), which it does not promote; set redis.min_replica_acks to auto (every replica connected, 2 now)", "level=INFO msg=\"replica acknowledgements"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i, r := range reps {
				if err := r.Client().ConfigSet(t.Context(), "replica-priority", strconv.Itoa(tt.priorities[i])).Err(); err != nil {
					t.Fatal(err)
				}
			}
			reg := prometheus.NewRegistry()
			var logs syncbuf.Buffer
			stop := runSentinelWorker(t, s, tt.configured, reg, &logs)
			defer stop()
			wait.For(t, 30*time.Second, "the worker to start", func() bool { return strings.Contains(logs.String(), "worker started") }, logs.String)
			both := []string{reps[0].Addr(), reps[1].Addr()}
			slices.Sort(both) // as the master lists them
			addrs := strings.NewReplacer("{0}", reps[0].Addr(), "{1}", reps[1].Addr(), "{both}", strings.Join(both, " "))
			checkAcks(t, fmt.Sprintf("replica-priority %v, min_replica_acks %d", tt.priorities, tt.configured), logs.String(), reg,
				[]string{tt.level, addrs.Replace(tt.says)}, tt.not, tt.acks, tt.required)
		})
	}
}

// TestWorkerNeverLowersTheAcksOnTheSameMaster: auto on Sentinel is judged
// again when the master's replicas change, but lowered only when another
// master answers. A replica of two killed: the master, the same server
// process, lists one, as an old master does whose replica Sentinel has
// just promoted, while its other replica still acknowledges its claims;
// the worker keeps waiting for 2 (sending holds), warns that the replica
// is missing, that sending holds until it returns and what to do, and
// says it is back when it is. The master killed: Sentinel promotes a
// replica, whose one replica is its own, and the worker, now writing to
// it, waits for 1 (at the next start it would too). The worker used to
// lower auto whenever the master listed fewer replicas.
func TestWorkerNeverLowersTheAcksOnTheSameMaster(t *testing.T) {
	for _, tt := range []struct {
		name   string
		master bool // kill the master (a failover), else a replica
		acks   float64
		says   []string // the worker's judgement of the replicas after the kill ({gone}: the killed replica)
	}{
		{"a replica killed", false, 2, []string{"level=WARN", "still waiting for 2 replica acknowledgement(s), but the master lists 1 replica(s) ({gone} no longer)",
			"sending holds until it returns", "bring the replica back", "restart the workers to judge the replicas again", "set redis.min_replica_acks to a number knowingly", "replica_acks=2 required=1 replicas=1"}},
		{"the master killed", true, 1, []string{"level=INFO", "replica_acks=1 required=1 replicas=1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 2})
			ctx := t.Context()
			reps, err := s.Replicas(ctx)
			if err != nil || len(reps) != 2 {
				t.Fatalf("replicas: %v %v", reps, err)
			}
			reg := prometheus.NewRegistry()
			var logs syncbuf.Buffer
			stop := runSentinelWorker(t, s, worker.AutoReplicaAcks, reg, &logs)
			acks := func() float64 { v, _ := gauge(t, reg, "tidings_replica_acks", "production"); return v }
			wait.For(t, 30*time.Second, "auto to be 2 with two replicas", func() bool { return acks() == 2 }, logs.String)
			gone := reps[1].Addr()
			if tt.master {
				if _, _, err := s.KillMaster(ctx); err != nil {
					t.Fatal(err)
				}
			} else {
				reps[1].Kill()
			}
			after := func() string { return logs.String()[strings.Index(logs.String(), "replicas=2"):] }
			wait.For(t, 60*time.Second, "the worker to judge one replica", func() bool { return strings.Contains(after(), "replicas=1 ") }, logs.String)
			line := lineWith(after(), "replicas=1 ")
			for _, w := range tt.says {
				if w = strings.ReplaceAll(w, "{gone}", gone); !strings.Contains(line, w) {
					t.Errorf("after %s, the worker logged %q; want it to say %q", tt.name, line, w)
				}
			}
			if !tt.master {
				if err := reps[1].Restart(ctx, false); err != nil {
					t.Fatal(err)
				}
				wait.For(t, 60*time.Second, "the worker to judge two replicas again", func() bool {
					return strings.Contains(lineWith(after()[strings.Index(after(), "replicas=1 "):], "replicas=2 "), "level=INFO")
				}, logs.String)
			}
			stop() // the store keeps what it waited for last
			if got := acks(); got != tt.acks {
				t.Errorf("after %s, tidings_replica_acks = %v, want %v", tt.name, got, tt.acks)
			}
		})
	}
}

// TestWorkerOnClusterWaitsForEveryReplica: on a Cluster of 3 masters with
// 2 replicas each, a worker with min_replica_acks auto waits on each
// master for every replica of that master, not 1 (a master cut off in a
// minority partition, or left by CLUSTER FAILOVER TAKEOVER, keeps its
// other replica, whose acknowledgement alone must not let a claim
// through), says so at INFO for each and exports it per master
// (tidings_replica_acks and tidings_replica_acks_required, label master).
// A configured 1 is kept but warned of, naming a master with more
// replicas and saying to set auto. Masters of unequal replica counts (one
// replica of masters[0] down before the worker starts): the claims on
// masters[0] wait for its 1, the others for their 2; auto used to be one
// number, the most any master had, and the campaigns of masters[0]'s
// slots held.
func TestWorkerOnClusterWaitsForEveryReplica(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2})
	masters, err := cl.Masters(t.Context())
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters: %v %v", masters, err)
	}
	for _, tt := range []struct {
		name        string
		configured  int
		killReplica bool // of masters[0], before the worker starts
		// acks and required per master (index in masters), and the
		// worker's log line about masters[0] (or the one line with a
		// configured number) ({m0}: its address).
		acks, required [3]float64
		level          string
		says           []string
		not            string
	}{
		{"auto", worker.AutoReplicaAcks, false, [3]float64{2, 2, 2}, [3]float64{2, 2, 2},
			"level=INFO", []string{"master={m0}", "replica_acks=2 required=2"}, "WARN"},
		{"configured 1", 1, false, [3]float64{1, 1, 1}, [3]float64{2, 2, 2}, // every master has 2: listed in the order of their addresses
			"level=WARN", []string{"redis.min_replica_acks is 1, but master(s) ", "{m0} (2 replica(s))", "have more replicas"}, "level=INFO"},
		{"auto, masters of unequal replicas", worker.AutoReplicaAcks, true, [3]float64{1, 2, 2}, [3]float64{1, 2, 2},
			"level=INFO", []string{"master={m0}", "replica_acks=1 required=1"}, "WARN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.killReplica {
				info, err := masters[0].Client().Info(t.Context(), "replication").Result()
				if err != nil {
					t.Fatal(err)
				}
				cl.Node(redisconn.ReplicaAddrs(redisconn.ParseInfo(info))[0]).Kill()
				wait.For(t, 30*time.Second, "the master to lose a replica", func() bool {
					raw, _ := masters[0].Client().Info(t.Context(), "replication").Result()
					return redisconn.ParseInfo(raw)["connected_slaves"] == "1"
				})
			}
			reg := prometheus.NewRegistry()
			var logs syncbuf.Buffer
			stop := runAcksWorker(t, cl.ClusterClient(), tt.configured, reg, &logs)
			defer stop()
			wait.For(t, 30*time.Second, "the worker to start", func() bool { return strings.Contains(logs.String(), "worker started") }, logs.String)
			m0 := masters[0].Addr()
			line := lineWith(logs.String(), "replica_acks=")
			if tt.configured == worker.AutoReplicaAcks {
				line = lineWith(logs.String(), "master="+m0+" ")
			}
			for _, w := range append([]string{tt.level}, tt.says...) {
				if w = strings.ReplaceAll(w, "{m0}", m0); !strings.Contains(line, w) {
					t.Errorf("%s: the worker logged %q; want it to say %q", tt.name, line, w)
				}
			}
			if strings.Contains(line, tt.not) {
				t.Errorf("%s: the worker logged %q; want no %q", tt.name, line, tt.not)
			}
			for i, m := range masters {
				checkMasterAcks(t, tt.name, reg, m.Addr(), tt.acks[i], tt.required[i])
			}
		})
	}
}

// TestWorkerOnClusterNeverLowersTheAcksOnTheSameMaster: auto on Cluster
// is judged again every second, per master, and lowered only when another
// node serves the slots. A replica of masters[0] (2 replicas) killed while
// the worker runs: the same master (node id, config epoch) lists one, as
// an old master does whose replica the cluster has just promoted; claims
// on it keep waiting for 2 (sending on its slots holds), the worker warns
// which replica is missing, that sending holds and what to do, and the
// gauges show 2 against the 1 required; the other masters are untouched.
// The replica back, the worker says so at INFO.
func TestWorkerOnClusterNeverLowersTheAcksOnTheSameMaster(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl, masters, reg, logs := runClusterAutoWorker(t)
	m0 := masters[0].Addr()
	checkMasterAcks(t, "at start", reg, m0, 2, 2)
	info, err := masters[0].Client().Info(ctx, "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	gone := cl.Node(redisconn.ReplicaAddrs(redisconn.ParseInfo(info))[0])
	gone.Kill()
	held := "master " + m0 + " lists 1 replica(s) (" + gone.Addr() + " no longer)"
	wait.For(t, 60*time.Second, "the worker to judge one replica", func() bool { return strings.Contains(logs.String(), held) }, logs.String)
	line := lineWith(logs.String(), held)
	for _, w := range []string{"level=WARN", "but claims of the campaigns whose slot it serves still wait for 2 acknowledgement(s)",
		"sending on those slots holds until the replica returns", "bring the replica back", "restart the workers to judge the replicas again",
		"set redis.min_replica_acks to a number knowingly", "replica_acks=2 required=1"} {
		if !strings.Contains(line, w) {
			t.Errorf("after a replica of %s was killed, the worker logged %q; want it to say %q", m0, line, w)
		}
	}
	checkMasterAcks(t, "a replica killed", reg, m0, 2, 1)
	for _, m := range masters[1:] {
		checkMasterAcks(t, "a replica of another master killed", reg, m.Addr(), 2, 2)
	}
	if err := gone.Restart(ctx, false); err != nil {
		t.Fatal(err)
	}
	back := func() string { return logs.String()[strings.Index(logs.String(), held):] }
	wait.For(t, 60*time.Second, "the worker to judge two replicas again", func() bool {
		return strings.Contains(lineWith(back(), "the master's replicas changed"), "replica_acks=2 required=2")
	}, logs.String)
	checkMasterAcks(t, "the replica back", reg, m0, 2, 2)
}

// runClusterAutoWorker starts a Cluster of 3 masters of 2 replicas each,
// returned with its masters, and a worker of environment production on it
// with min_replica_acks auto (metrics in reg, logs in logs), stopped
// before the cluster when t ends; it returns once the worker has started.
func runClusterAutoWorker(t *testing.T) (cl *redistest.Cluster, masters []*redistest.Node, reg *prometheus.Registry, logs *syncbuf.Buffer) {
	t.Helper()
	cl = redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2})
	masters, err := cl.Masters(t.Context())
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters: %v %v", masters, err)
	}
	reg, logs = prometheus.NewRegistry(), new(syncbuf.Buffer)
	t.Cleanup(runAcksWorker(t, cl.ClusterClient(), worker.AutoReplicaAcks, reg, logs))
	wait.For(t, 30*time.Second, "the worker to start", func() bool { return strings.Contains(logs.String(), "worker started") }, logs.String)
	return cl, masters, reg, logs
}

// checkMasterAcks fails t (prefixing what) unless reg's gauges
// tidings_replica_acks and tidings_replica_acks_required for environment
// production and master are acks and required.
func checkMasterAcks(t *testing.T, what string, reg *prometheus.Registry, master string, acks, required float64) {
	t.Helper()
	for name, want := range map[string]float64{"tidings_replica_acks": acks, "tidings_replica_acks_required": required} {
		if got, ok := gaugeOf(t, reg, name, "production", master); !ok || got != want {
			t.Errorf("%s: %s{environment=\"production\",master=%q} = %v (found: %v), want %v", what, name, master, got, ok, want)
		}
	}
}

// runSentinelWorker runs a worker of environment production on Sentinel s,
// waiting for acks replica acknowledgements, until stop.
func runSentinelWorker(t *testing.T, s *redistest.Sentinel, acks int, reg *prometheus.Registry, logs *syncbuf.Buffer) (stop func()) {
	t.Helper()
	return runAcksWorker(t, s.FailoverClient(), acks, reg, logs)
}

// runAcksWorker runs a worker of environment production on rdb, waiting
// for acks replica acknowledgements, until stop.
func runAcksWorker(t *testing.T, rdb redis.UniversalClient, acks int, reg *prometheus.Registry, logs *syncbuf.Buffer) (stop func()) {
	t.Helper()
	return runAcksWorkerWith(t, rdb, acks, reg, logs, func(*worker.Config) {})
}

// runAcksWorkerWith is runAcksWorker with the worker's configuration
// changed by set.
func runAcksWorkerWith(t *testing.T, rdb redis.UniversalClient, acks int, reg *prometheus.Registry, logs *syncbuf.Buffer, set func(*worker.Config)) (stop func()) {
	t.Helper()
	cfg := worker.Config{Redis: rdb, ReplicaAcks: acks, Env: "production", Metrics: reg,
		Logger: slog.New(slog.NewTextHandler(logs, nil)), SMTP: send.Config{Host: "127.0.0.1", Port: 25, TLS: send.TLSNone},
		ControlInterval: 50 * time.Millisecond, ShutdownTimeout: 5 * time.Second}
	set(&cfg)
	w, err := worker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	}
}

// checkAcks fails t (prefixing what, the case) unless the worker's log
// line of the replica acknowledgements says each of says and not not, and
// reg's gauges tidings_replica_acks and tidings_replica_acks_required for
// environment production are acks and required.
func checkAcks(t *testing.T, what, logs string, reg *prometheus.Registry, says []string, not string, acks, required float64) {
	t.Helper()
	line := lineWith(logs, "replica_acks=")
	for _, w := range says {
		if !strings.Contains(line, w) {
			t.Errorf("%s: the worker logged %q; want it to say %q", what, line, w)
		}
	}
	if strings.Contains(line, not) {
		t.Errorf("%s: the worker logged %q; want no %q", what, line, not)
	}
	for name, want := range map[string]float64{"tidings_replica_acks": acks, "tidings_replica_acks_required": required} {
		if got, ok := gauge(t, reg, name, "production"); !ok || got != want {
			t.Errorf("%s: %s{environment=\"production\"} = %v (found: %v), want %v", what, name, got, ok, want)
		}
	}
}

// lineWith is the first line of logs that contains s ("" when none).
func lineWith(logs, s string) string {
	for l := range strings.Lines(logs) {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// gauge is the value of gauge name labelled environment=env in reg (the
// first series: on Sentinel there is one).
func gauge(t *testing.T, reg *prometheus.Registry, name, env string) (float64, bool) {
	t.Helper()
	return gaugeOf(t, reg, name, env, "")
}

// gaugeOf is the value of gauge name labelled environment=env and, unless
// master is "", master=master in reg.
func gaugeOf(t *testing.T, reg *prometheus.Registry, name, env, master string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["environment"] == env && (master == "" || labels["master"] == master) {
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// TestWorkerOnClusterJudgesTheMastersThatAnswer: a Cluster master that
// does not answer the worker's reading of its replicas (here refused
// CLUSTER MYID by ACL on masters[0]; as well a master down until
// cluster-node-timeout passes, or a shard lost for good with
// cluster-require-full-coverage no) must not stop the worker from judging
// the others: masters[1] killed for good, the replica the cluster promotes
// is judged (its one replica) and its campaigns send. The worker used to
// drop the whole pass when one master failed to answer, so the promoted
// master was never judged and waited for the most any master waited for
// (2), which its one replica cannot give: its campaigns held for as long
// as masters[0] did not answer. It warns, naming the master it cannot read.
func TestWorkerOnClusterJudgesTheMastersThatAnswer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl, masters, _, logs := runClusterAutoWorker(t)
	if err := masters[0].Client().Do(ctx, "ACL", "SETUSER", "default", "-cluster|myid").Err(); err != nil {
		t.Fatal(err)
	}
	if err := masters[0].Client().ClusterMyID(ctx).Err(); err == nil {
		t.Fatalf("master %s still answers CLUSTER MYID", masters[0].Addr())
	}
	key := ""
	for i := 0; key == ""; i++ {
		k := fmt.Sprintf("campaign:%d", i)
		if m, err := cl.MasterForSlotOf(ctx, k); err != nil {
			t.Fatal(err)
		} else if m.Addr() == masters[1].Addr() {
			key = k
		}
	}
	_, promoted, err := cl.KillMasterOf(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, 60*time.Second, "the worker to judge the promoted master "+promoted, func() bool {
		return strings.Contains(lineWith(logs.String(), "master="+promoted+" "), "replica_acks=1 required=1")
	}, logs.String)
	line := lineWith(logs.String(), "could not read the replicas")
	for _, w := range []string{"level=WARN", "the others are judged", "check that this worker reaches every master", masters[0].Addr(), "NOPERM"} {
		if !strings.Contains(line, w) {
			t.Errorf("with master %s refusing CLUSTER MYID, the worker logged %q; want it to say %q", masters[0].Addr(), line, w)
		}
	}
}
