package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestClusterReshardAtMostOnce runs a campaign of 3,000 recipients with two
// workers on a Redis Cluster (3 masters, one replica each,
// min-replicas-to-write 1, min_replica_acks auto) and, when a third is
// received, moves the campaign's slot (every key of a campaign is in it)
// to another master as redis-cli --cluster reshard does
// (redistest.Migration): IMPORTING on the target, MIGRATING on the
// source, then half of the slot's keys moved by MIGRATE. It holds the slot
// half-moved until each worker has found it so (its scripts are refused:
// TRYAGAIN while their keys are split, ASK once they have gone; claims are
// not made, so nothing is sent), runs status, doctor and pause meanwhile
// (exit 0, or 3 with the advice to finish the move, never 2), then moves
// the rest and assigns the slot. After it, pause and resume work, nobody
// received two messages, everyone reported sent received exactly one, the
// campaign reaches done on the new master, and no worker logged the
// refusals at WARN as they came (the dispatch loop logged one every
// 250 ms: the first is said, the repeats go to DEBUG).
func TestClusterReshardAtMostOnce(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{ServerConfig: clusterReplicaFloor})
	e, srv := newClusterEnv(t, cl)
	const name, n = "e2e-cluster-reshard", 3000
	rows := e.stageOnCluster(name, n, "300/s")
	// At debug level: the test waits for the repeats the workers hold back.
	w1 := e.start("worker-1", "worker", "--env", envName, "--concurrency", "4", "--log-level", "debug")
	w2 := e.start("worker-2", "worker", "--env", envName, "--concurrency", "4", "--log-level", "debug")
	wait.For(t, 2*time.Minute, fmt.Sprintf("%d messages", n/3), func() bool { return srv.Count() >= n/3 })

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	m, err := cl.StartMigration(ctx, "{"+name+"}") // every key of the campaign is in this slot
	if err != nil {
		t.Fatal(err)
	}
	keys, err := m.Left(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for moved := 0; moved < keys/2; {
		k, err := m.Step(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		moved += k
	}
	// Every pass of the dispatch loop (250 ms) is refused until the move
	// is over: wait for 5 of each worker.
	refused := regexp.MustCompile(`level=\w+ msg="?dispatch[^\n]*err="advance ` + name + `: (TRYAGAIN|ASK) `)
	for _, w := range []*process{w1, w2} {
		wait.For(t, time.Minute, w.name+" to find the slot half-moved 5 times", func() bool {
			b, _ := os.ReadFile(w.log)
			return len(refused.FindAll(b, -1)) >= 5
		})
	}
	half := srv.Count()
	for _, args := range [][]string{
		{"status", name, "--env", envName},
		{"doctor", "--env", envName},
		{"pause", name, "--env", envName, "--reason", "reshard"},
	} {
		switch r := e.run(args...); {
		case r.code == 3 && !strings.Contains(r.stderr, "redis-cli --cluster fix"):
			t.Errorf("with the campaign's slot half-moved, exit 3 without the advice to finish the move: %s", r)
		case r.code == 0 && args[0] == "pause":
			e.mustRun("resume", name, "--env", envName) // it found every key of pause on one master
		case r.code != 0 && r.code != 3 && args[0] != "doctor": // doctor: 1 for the harness's own (no persistence)
			t.Errorf("with the campaign's slot half-moved, want exit 0 or 3 (infrastructure): %s", r)
		}
	}
	during := srv.Count() - half
	if err := m.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	e.mustRun("pause", name, "--env", envName, "--reason", "after the reshard")
	if st := e.status(name); st.State != "paused" {
		t.Errorf("after pause on the new master: state %s", st.State)
	}
	e.mustRun("resume", name, "--env", envName)
	waitDoneOnce(t, e, srv, name, rows, 3*time.Minute, w1, w2)
	// Said once at WARN (twice if a pause made mid-move went through and
	// the resume found the slot still half-moved), not at every pass.
	warned := regexp.MustCompile(`level=WARN msg="?dispatch[^\n]*err="advance ` + name + `: (TRYAGAIN|ASK|MOVED) `)
	for _, w := range []*process{w1, w2} {
		b, _ := os.ReadFile(w.log)
		if n := len(warned.FindAll(b, -1)); n > 2 {
			t.Errorf("%s logged %d of the dispatch loop's refusals during the slot move at WARN, want them said once:\n%s", w.name, n, tail(w.log, 6000))
		}
	}
	if os.Getenv("TIDINGS_TEST_SHOW_LOGS") != "" {
		t.Logf("worker-1:\n%s\nworker-2:\n%s", tail(w1.log, 20000), tail(w2.log, 20000))
	}
	t.Logf("moved slot %d (%d keys) from %s to %s; %d messages received while it was half-moved; %d received in all",
		m.Slot, keys, m.Src.Addr(), m.Dst.Addr(), during, srv.Count())
}

// waitDoneOnce waits up to timeout for campaign name to be done and
// checks that nobody of rows received two messages, everyone reported
// sent received exactly one (one in doubt at most one), sent and in doubt
// add up to every row, and no worker logged CROSSSLOT. It returns the
// final status.
func waitDoneOnce(t *testing.T, e *env, srv mailServer, name string, rows []row, timeout time.Duration, workers ...*process) status {
	t.Helper()
	st := e.waitState(name, "done", timeout, workers...)
	per := checkOnce(t, srv, rows, false)
	checkOutcomes(t, e.report(name), per, false)
	if got := st.Counts["sent"] + st.Counts["in-doubt"]; got != int64(len(rows)) {
		t.Errorf("sent %d + in doubt %d = %d, want %d; counts %v", st.Counts["sent"], st.Counts["in-doubt"], got, len(rows), st.Counts)
	}
	noCrossSlot(t, workers...)
	return st
}

// clusterReplicaFloor is the redis.conf of the Cluster campaigns' nodes: a
// master takes writes only with a replica (a failover makes one a
// master).
var clusterReplicaFloor = []string{"min-replicas-to-write 1", "min-replicas-max-lag 10"}

// newClusterEnv returns an environment on cluster cl's nodes (plain
// ports), sending to a new smtp-sink (4 connections).
func newClusterEnv(t *testing.T, cl *redistest.Cluster) (*env, *smtpSink) {
	t.Helper()
	srv := startSMTPSink(t)
	return newEnvWith(t, fmt.Sprintf("cluster: [%s]", strings.Join(cl.Addrs(), ", ")), srv.Port(), 4), srv
}

// stageOnCluster sends campaign name of n rows (simpleRows, batches of
// 500, at rate) on e's Redis Cluster and returns the rows; send's own WAIT
// for the replicas is given 5 s (as failoverCampaign: a loaded machine).
func (e *env) stageOnCluster(name string, n int, rate string) []row {
	e.t.Helper()
	rows := simpleRows(n, acceptedLocales)
	e.extra = []string{"TIDINGS_REDIS_REPLICA_ACK_TIMEOUT=5s"}
	e.stageSimple(campaignSpec{name: name, size: 500, rate: rate}, rows)
	e.extra = nil
	return rows
}
