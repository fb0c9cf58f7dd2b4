package doctor_test

import (
	"fmt"
	"strconv"
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
	s, reps := startSentinel(t, 1)
	ctx := t.Context()
	rc := reps[0].Client()
	defer rc.Close()
	for _, kv := range [][2]string{{"maxmemory-policy", "allkeys-lru"}, {"appendonly", "no"}} {
		if err := rc.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatalf("CONFIG SET %s %s on the replica %s: %v", kv[0], kv[1], reps[0].Addr(), err)
		}
	}
	e := sentinelEnv(s, environment.ReplicaAcksAuto)
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
// settings never hold the ledger: doctor judges the master's alone. Its
// acknowledgements protect no claim either: with no other replica, no
// failover can take place, and at most once warns so
// (TestDoctorSaysWhichAcksSurviveAFailover has the other cases).
func TestDoctorSkipsAReplicaSentinelNeverPromotes(t *testing.T) {
	s, reps := startSentinel(t, 1)
	ctx := t.Context()
	rc := reps[0].Client()
	defer rc.Close()
	for _, kv := range [][2]string{{"maxmemory-policy", "allkeys-lru"}, {"appendonly", "no"}, {"replica-priority", "0"}} {
		if err := rc.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatalf("CONFIG SET %s %s on the replica %s: %v", kv[0], kv[1], reps[0].Addr(), err)
		}
	}
	e := sentinelEnv(s, environment.ReplicaAcksAuto)
	for _, c := range doctor.Redis(ctx, e) {
		if (c.Name == "redis eviction" || c.Name == "redis persistence") && c.Status != doctor.Pass {
			t.Errorf("%s %s %q: the replica has replica-priority 0, so Sentinel never promotes it; want pass", c.Status, c.Name, c.Message)
		}
		if c.Name == "at most once" && (c.Status != doctor.Warn || !strings.Contains(c.Message, "no failover can take place")) {
			t.Errorf("%s %s %q: the only replica has replica-priority 0; want a warning that no failover can take place", c.Status, c.Name, c.Message)
		}
	}
}

// TestDoctorSaysWhichAcksSurviveAFailover: Sentinel promotes, of the
// replicas it may (replica-priority above 0), one with the lowest
// priority, and of those the one with the largest replication offset.
// WAIT counts an acknowledgement from any replica, so when the master
// crashes a claim acknowledged by k replicas is on the promoted one only
// when the k cannot all be replicas outside the best-priority group; and
// when the old master goes on running (SENTINEL FAILOVER, a partition), it
// keeps the replicas not promoted until Sentinel moves them, whose
// acknowledgements alone let claims through: only every replica connected
// (auto) guarantees it. With one of two replicas at replica-priority 0 (a
// backup replica) or at a worse priority, one acknowledgement may come
// from it: doctor warns and says to set auto (2); with two replicas of one
// priority, 1 is enough for a crash but not for a planned failover: doctor
// warns too. With no replica Sentinel may promote, no failover happens at
// all, and no acknowledgement protects a claim. doctor used to pass 1 with
// two replicas of one priority.
func TestDoctorSaysWhichAcksSurviveAFailover(t *testing.T) {
	s, reps := startSentinel(t, 2)
	ctx := t.Context()
	for _, tt := range []struct {
		name       string
		priorities [2]int
		acks       int
		status     string
		says       []string // {0} and {1} stand for the replicas' addresses
	}{
		{"one priority, auto", [2]int{100, 100}, environment.ReplicaAcksAuto, doctor.Pass,
			[]string{"every claim is acknowledged by 2 replica(s)", "each of the 2 replica(s) connected acknowledges every claim", "a failover loses no claim"}},
		{"one priority, explicit 1", [2]int{100, 100}, 1, doctor.Warn,
			[]string{"leaves the old master running", "the old master accepts claims that they acknowledge and the promoted replica never gets", "set redis.min_replica_acks to auto (every replica connected, 2 now)"}},
		{"a replica never promoted, auto", [2]int{100, 0}, environment.ReplicaAcksAuto, doctor.Pass,
			[]string{"every claim is acknowledged by 2 replica(s)", "Sentinel promotes {0} (replica-priority 100)", "a failover loses no claim"}},
		{"a replica never promoted, explicit 1", [2]int{100, 0}, 1, doctor.Warn,
			[]string{"a failover can lose claims", "{1} (replica-priority 0)", "set redis.min_replica_acks to auto (every replica connected, 2 now)", "an old master left with the replicas Sentinel did not promote"}},
		{"a replica never promoted, 2 acks", [2]int{100, 0}, 2, doctor.Pass,
			[]string{"every claim is acknowledged by 2 replica(s)", "a failover loses no claim"}},
		{"a preferred replica, auto", [2]int{100, 10}, environment.ReplicaAcksAuto, doctor.Pass,
			[]string{"every claim is acknowledged by 2 replica(s)", "Sentinel promotes {1} (replica-priority 10)", "a failover loses no claim"}},
		{"a preferred replica, explicit 1", [2]int{100, 10}, 1, doctor.Warn,
			[]string{"Sentinel promotes {1} (replica-priority 10)", "{0} (replica-priority 100)", "set redis.min_replica_acks to auto (every replica connected, 2 now)"}},
		{"no replica promoted", [2]int{0, 0}, environment.ReplicaAcksAuto, doctor.Warn,
			[]string{"Sentinel may promote none of the 2 replica(s)", "no failover", "replica-priority above 0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i, r := range reps {
				if err := r.Client().ConfigSet(ctx, "replica-priority", strconv.Itoa(tt.priorities[i])).Err(); err != nil {
					t.Fatal(err)
				}
			}
			var got doctor.Check
			for _, c := range doctor.Redis(ctx, sentinelEnv(s, tt.acks)) {
				if c.Name == "at most once" {
					got = c
				}
			}
			ok := got.Status == tt.status
			for _, w := range tt.says {
				w = strings.NewReplacer("{0}", reps[0].Addr(), "{1}", reps[1].Addr()).Replace(w)
				ok = ok && strings.Contains(got.Message, w)
				if !strings.Contains(got.Message, w) {
					t.Errorf("at most once does not say %q", w)
				}
			}
			if !ok {
				t.Errorf("replica-priority %v, min_replica_acks %d: at most once %s %q; want %s", tt.priorities, tt.acks, got.Status, got.Message, tt.status)
			}
			// Found by a red team: the passing line read "the promoted
			// replica lacks;, and masters without a replica refuse writes".
			for _, doubled := range []string{";,", ",;", ";;", ",,"} {
				if strings.Contains(got.Message, doubled) {
					t.Errorf("at most once has %q in %q", doubled, got.Message)
				}
			}
		})
	}
}

// startSentinel starts a Sentinel deployment of a master and n replicas,
// each with AOF, noeviction and min-replicas-to-write 1 (deploy/redis.conf's
// settings), and returns it with its replicas.
func startSentinel(t *testing.T, n int) (*redistest.Sentinel, []*redistest.Node) {
	t.Helper()
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: n, AppendOnly: true,
		ServerConfig: []string{"maxmemory-policy noeviction", "min-replicas-to-write 1"}})
	reps, err := s.Replicas(t.Context())
	if err != nil || len(reps) != n {
		t.Fatalf("replicas: %v %v", reps, err)
	}
	return s, reps
}

// sentinelEnv is a production environment on Sentinel s whose claims wait
// for acks replica acknowledgements.
func sentinelEnv(s *redistest.Sentinel, acks int) *environment.Environment {
	return &environment.Environment{Name: "production", Redis: environment.Redis{URL: environment.DefaultRedisURL,
		Sentinel: environment.Sentinel{Master: s.MasterName(), Addrs: s.SentinelAddrs()}, MinReplicaAcks: acks},
		ClaimWindow: 16, Concurrency: 8}
}
