package worker_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestWorkerWaitsForTheAcksAFailoverNeeds: on Sentinel, a worker with
// min_replica_acks auto waits for as many acknowledgements as make the
// replica Sentinel promotes hold every claim (doctor's rule: connected
// replicas - those of the best replica-priority + 1): 1 with two replicas
// of one priority, 2 when one of them is preferred (the one
// acknowledgement could come from the other, which a failover does not
// promote). It says so at start, with the replicas and priorities it saw,
// and exports it (tidings_replica_acks, tidings_replica_acks_required,
// labelled with the environment). A configured 1 with a preferred replica
// is kept (the operator chose it) but warned of, with the number to set,
// and the gauges show the gap. The worker used to wait for 1 on Sentinel
// whatever the priorities, with only doctor's warning.
func TestWorkerWaitsForTheAcksAFailoverNeeds(t *testing.T) {
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
		{"one priority, auto", [2]int{100, 100}, worker.AutoReplicaAcks, 1, 1,
			"level=INFO", "replica_acks=1 required=1 replicas=2 promoted=\"[{both}]\" priority=100 others=[]", "WARN"},
		{"a preferred replica, auto", [2]int{100, 10}, worker.AutoReplicaAcks, 2, 2,
			"level=INFO", "replica_acks=2 required=2 replicas=2 promoted=[{1}] priority=10 others=\"[{0} (replica-priority 100)]\"", "WARN"},
		{"a preferred replica, configured 1", [2]int{100, 10}, 1, 1, 2,
			"level=WARN", "redis.min_replica_acks is 1: a failover can lose claims: Sentinel promotes {1} (replica-priority 10), and the acknowledgement(s) may all come from {0} (replica-priority 100), which it does not promote; set redis.min_replica_acks to 2", "level=INFO msg=\"replica acknowledgements"},
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
			line := lineWith(logs.String(), "replica_acks=")
			for _, w := range []string{tt.level, addrs.Replace(tt.says)} {
				if !strings.Contains(line, w) {
					t.Errorf("replica-priority %v, min_replica_acks %d: the worker logged %q; want it to say %q", tt.priorities, tt.configured, line, w)
				}
			}
			if strings.Contains(line, tt.not) {
				t.Errorf("replica-priority %v, min_replica_acks %d: the worker logged %q; want no %q", tt.priorities, tt.configured, line, tt.not)
			}
			for name, want := range map[string]float64{"tidings_replica_acks": tt.acks, "tidings_replica_acks_required": tt.required} {
				if got, ok := gauge(t, reg, name, "production"); !ok || got != want {
					t.Errorf("%s{environment=\"production\"} = %v (found: %v), want %v", name, got, ok, want)
				}
			}
		})
	}
}

// TestWorkerFollowsTheReplicasAFailoverCanPromote: the worker judges the
// acknowledgements again when the Sentinel master's replicas change. With
// a preferred replica of two, auto waits for 2; once that replica is gone
// (killed: the master lists only the other), 2 could never be had, and
// the worker waits for 1 again, which it logs and exports.
func TestWorkerFollowsTheReplicasAFailoverCanPromote(t *testing.T) {
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 2})
	ctx := t.Context()
	reps, err := s.Replicas(ctx)
	if err != nil || len(reps) != 2 {
		t.Fatalf("replicas: %v %v", reps, err)
	}
	if err := reps[1].Client().ConfigSet(ctx, "replica-priority", "10").Err(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	var logs syncbuf.Buffer
	stop := runSentinelWorker(t, s, worker.AutoReplicaAcks, reg, &logs)
	defer stop()
	acks := func() float64 { v, _ := gauge(t, reg, "tidings_replica_acks", "production"); return v }
	wait.For(t, 30*time.Second, "auto to be 2 with a preferred replica", func() bool { return acks() == 2 }, logs.String)
	reps[1].Kill()
	wait.For(t, 30*time.Second, "auto to be 1 once the preferred replica is gone", func() bool { return acks() == 1 }, logs.String)
	if line := lineWith(logs.String()[strings.Index(logs.String(), "replica_acks=2"):], "replica_acks=1"); !strings.Contains(line, "replicas=1 promoted=["+reps[0].Addr()+"] priority=100") {
		t.Errorf("after the preferred replica left, the worker logged %q; want the one replica left and its priority", line)
	}
}

// runSentinelWorker runs a worker of environment production on Sentinel s,
// waiting for acks replica acknowledgements, until stop.
func runSentinelWorker(t *testing.T, s *redistest.Sentinel, acks int, reg *prometheus.Registry, logs *syncbuf.Buffer) (stop func()) {
	t.Helper()
	w, err := worker.New(worker.Config{Redis: s.FailoverClient(), ReplicaAcks: acks, Env: "production", Metrics: reg,
		Logger: slog.New(slog.NewTextHandler(logs, nil)), SMTP: send.Config{Host: "127.0.0.1", Port: 25, TLS: send.TLSNone},
		ControlInterval: 50 * time.Millisecond, ShutdownTimeout: 5 * time.Second})
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

// lineWith is the first line of logs that contains s ("" when none).
func lineWith(logs, s string) string {
	for l := range strings.Lines(logs) {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// gauge is the value of gauge name labelled environment=env in reg.
func gauge(t *testing.T, reg *prometheus.Registry, name, env string) (float64, bool) {
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
			for _, l := range m.GetLabel() {
				if l.GetName() == "environment" && l.GetValue() == env {
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
