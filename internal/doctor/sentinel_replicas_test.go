package doctor_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestDoctorReadsTheReplicaSentinelWouldPromote: a Sentinel master with AOF
// and noeviction, and its one replica provisioned from another template
// (maxmemory-policy allkeys-lru, appendonly no). A failover, the event the
// deployment is for, puts the ledger on that replica: doctor must fail
// eviction and persistence before the failover already, naming the
// replica, as it names the bad master of a Cluster.
//
// Found by a red team: doctor read the current master alone (PASS, PASS,
// "a failover loses no claim"), and after SENTINEL FAILOVER, nothing else
// changed, said FAIL. It now reads the replicas the master's INFO
// replication lists (those Sentinel may promote) and reports the worst.
func TestDoctorReadsTheReplicaSentinelWouldPromote(t *testing.T) {
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 1, AppendOnly: true,
		ServerConfig: []string{"maxmemory-policy noeviction", "min-replicas-to-write 1"}})
	ctx := t.Context()
	reps, err := s.Replicas(ctx)
	if err != nil || len(reps) != 1 {
		t.Fatalf("replicas: %v %v", reps, err)
	}
	rc := reps[0].Client()
	defer rc.Close()
	for _, kv := range [][2]string{{"maxmemory-policy", "allkeys-lru"}, {"appendonly", "no"}} {
		if err := rc.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatalf("CONFIG SET %s %s on the replica %s: %v", kv[0], kv[1], reps[0].Addr(), err)
		}
	}
	e := &environment.Environment{Name: "production", Redis: environment.Redis{URL: "redis://127.0.0.1:6379/0",
		Sentinel: environment.Sentinel{Master: s.MasterName(), Addrs: s.SentinelAddrs()}, MinReplicaAcks: environment.ReplicaAcksAuto},
		ClaimWindow: 16, Concurrency: 8}
	status := func() map[string]doctor.Check {
		m := map[string]doctor.Check{}
		for _, c := range doctor.Redis(ctx, e) {
			m[c.Name] = c
		}
		return m
	}
	before := status()

	// The same deployment after the failover it is there for.
	if _, _, err := s.Failover(ctx); err != nil {
		t.Fatal(err)
	}
	after := status()
	for _, name := range []string{"redis eviction", "redis persistence"} {
		if after[name].Status == doctor.Pass {
			t.Fatalf("after the failover: %+v; the test expects doctor to see the replica's settings on the promoted node", after[name])
		}
		if want := "replica " + reps[0].Addr() + " (Sentinel may promote it): "; before[name].Status != doctor.Fail || !strings.HasPrefix(before[name].Message, want) {
			t.Errorf("%s before the failover: %s %q, want fail starting %q", name, before[name].Status, before[name].Message, want)
		}
		if before[name].Status == doctor.Pass {
			t.Errorf("%s: before the failover doctor said PASS %q; after SENTINEL FAILOVER, nothing else changed, it says %s %q. The replica Sentinel promotes (%s: maxmemory-policy allkeys-lru, appendonly no) was never read, so doctor passed a deployment whose failover puts the ledger where it can be evicted or lost",
				name, before[name].Message, strings.ToUpper(after[name].Status), after[name].Message, reps[0].Addr())
		}
	}
	if t.Failed() {
		t.Logf("at most once before the failover: %s %q", before["at most once"].Status, before["at most once"].Message)
		t.Log(fmt.Sprint(before))
	}
}

// TestDoctorSkipsAReplicaSentinelNeverPromotes: a replica with
// replica-priority 0 (kept for backups or reads) is never promoted, so its
// settings never hold the ledger: doctor judges the master alone.
func TestDoctorSkipsAReplicaSentinelNeverPromotes(t *testing.T) {
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 1, AppendOnly: true,
		ServerConfig: []string{"maxmemory-policy noeviction", "min-replicas-to-write 1"}})
	ctx := t.Context()
	reps, err := s.Replicas(ctx)
	if err != nil || len(reps) != 1 {
		t.Fatalf("replicas: %v %v", reps, err)
	}
	rc := reps[0].Client()
	defer rc.Close()
	for _, kv := range [][2]string{{"maxmemory-policy", "allkeys-lru"}, {"appendonly", "no"}, {"replica-priority", "0"}} {
		if err := rc.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatalf("CONFIG SET %s %s on the replica %s: %v", kv[0], kv[1], reps[0].Addr(), err)
		}
	}
	e := &environment.Environment{Name: "production", Redis: environment.Redis{URL: "redis://127.0.0.1:6379/0",
		Sentinel: environment.Sentinel{Master: s.MasterName(), Addrs: s.SentinelAddrs()}, MinReplicaAcks: environment.ReplicaAcksAuto},
		ClaimWindow: 16, Concurrency: 8}
	for _, c := range doctor.Redis(ctx, e) {
		if (c.Name == "redis eviction" || c.Name == "redis persistence" || c.Name == "at most once") && c.Status != doctor.Pass {
			t.Errorf("%s %s %q: the replica has replica-priority 0, so Sentinel never promotes it; want pass", c.Status, c.Name, c.Message)
		}
	}
}
