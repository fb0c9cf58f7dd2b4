package doctor_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestDoctorChecksEveryClusterMaster: a Redis Cluster of three masters,
// AOF on and maxmemory-policy noeviction on two of them; the third was set
// up by hand with `appendonly no` and `maxmemory-policy allkeys-lru` (a
// node provisioned from another template). A campaign's keys are all in
// one slot, so whichever master serves that slot holds its whole ledger:
// doctor must not say PASS for eviction or persistence while any master
// evicts or persists nothing ("an evicted ledger entry could mean a second
// send"), and must name that master.
//
// Found by a red team: the persistence and eviction lines read INFO and
// CONFIG GET through the cluster client, which sends a keyless command to
// the master of a random slot, and passed whenever the draw missed the bad
// master. Doctor now reads every master (ForEachMaster) and reports the
// worst. So for the control channel's ACL (each node has its own): a
// master whose user may not use tidings:control is named.
func TestDoctorChecksEveryClusterMaster(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1, AppendOnly: true, ServerConfig: []string{"maxmemory-policy noeviction"}})
	ctx := t.Context()
	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters: %v %v", masters, err)
	}
	e := &environment.Environment{Name: "staging", Redis: environment.Redis{URL: "redis://127.0.0.1:6379/0", Cluster: cl.Addrs()}, ClaimWindow: 16, Concurrency: 8}
	// Every master alike: the lines say so as for one Redis, naming none.
	want := map[string]string{"redis persistence": "AOF on", "redis eviction": "maxmemory-policy noeviction"}
	for _, c := range doctor.Redis(ctx, e) {
		if w, ok := want[c.Name]; ok && (c.Status != doctor.Pass || c.Message != w) {
			t.Errorf("every master alike: %s %s %q, want pass %q", c.Status, c.Name, c.Message, w)
		}
		// No replica: what the Cluster guarantees, not "a single Redis".
		// A Cluster gets a replica by CLUSTER REPLICATE, not Sentinel.
		if c.Name == "at most once" && (c.Status != doctor.Warn || !strings.HasPrefix(c.Message, "a Redis Cluster whose 3 masters have no replicas: ") ||
			strings.Contains(c.Message, "Sentinel") || !strings.Contains(c.Message, "CLUSTER REPLICATE")) {
			t.Errorf("every master alike: %s %s %q, want a warning about a Redis Cluster whose 3 masters have no replicas, saying to attach replicas with CLUSTER REPLICATE and not Sentinel", c.Status, c.Name, c.Message)
		}
	}

	bad := masters[0].Client()
	defer bad.Close()
	for _, kv := range [][2]string{{"maxmemory-policy", "allkeys-lru"}, {"appendonly", "no"}} {
		if err := bad.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatalf("CONFIG SET %s %s on %s: %v", kv[0], kv[1], masters[0].Addr(), err)
		}
	}
	// Each run draws a master; with one bad master of three, 30 runs all
	// drawing it is a chance of 1 in 2e14.
	for i := range 30 {
		for _, c := range doctor.Redis(ctx, e) {
			if (c.Name == "redis eviction" || c.Name == "redis persistence") && c.Status == doctor.Pass {
				t.Fatalf("run %d: %s %s %q, while master %s has maxmemory-policy allkeys-lru and appendonly no; all checks: %s",
					i, c.Status, c.Name, c.Message, masters[0].Addr(), fmt.Sprint(doctor.Redis(ctx, e)))
			}
		}
	}
	// The failing lines name the bad master, and only it.
	wantFail := map[string]string{"redis persistence": "neither AOF nor RDB snapshots are on", "redis eviction": `maxmemory-policy is "allkeys-lru"`}
	for _, c := range doctor.Redis(ctx, e) {
		w, ok := wantFail[c.Name]
		if !ok {
			continue
		}
		delete(wantFail, c.Name)
		if c.Status != doctor.Fail || !strings.HasPrefix(c.Message, "master "+masters[0].Addr()+": "+w) ||
			strings.Contains(c.Message, masters[1].Addr()) || strings.Contains(c.Message, masters[2].Addr()) {
			t.Errorf("%s %s %q, want fail naming master %s alone: %q", c.Status, c.Name, c.Message, masters[0].Addr(), w)
		}
	}
	if len(wantFail) > 0 {
		t.Errorf("no check %v", wantFail)
	}
	// "at most once" names the master without an append-only file, alone,
	// and how a Cluster gets a replica.
	for _, c := range doctor.Redis(ctx, e) {
		if c.Name == "at most once" && (c.Status != doctor.Fail || !strings.Contains(c.Message, "appendonly is no on "+masters[0].Addr()+": ") ||
			strings.Contains(c.Message, masters[1].Addr()) || strings.Contains(c.Message, masters[2].Addr()) ||
			strings.Contains(c.Message, "Sentinel") || !strings.Contains(c.Message, "CLUSTER REPLICATE")) {
			t.Errorf("%s %s %q, want fail naming master %s alone as the one with appendonly no, and CLUSTER REPLICATE, not Sentinel", c.Status, c.Name, c.Message, masters[0].Addr())
		}
	}

	// ACLs are each node's own: a master whose user may not use the
	// control channel is named, as a warning.
	if err := bad.Do(ctx, "ACL", "SETUSER", "default", "resetchannels").Err(); err != nil {
		t.Fatalf("ACL SETUSER default resetchannels on %s: %v", masters[0].Addr(), err)
	}
	found := false
	for _, c := range doctor.Redis(ctx, e) {
		if c.Name != "redis control channel" {
			continue
		}
		found = true
		if c.Status != doctor.Warn || !strings.HasPrefix(c.Message, "master "+masters[0].Addr()+": user default may not use tidings:control") ||
			strings.Contains(c.Message, masters[1].Addr()) || strings.Contains(c.Message, masters[2].Addr()) {
			t.Errorf("%s %s %q, want a warning naming master %s alone", c.Status, c.Name, c.Message, masters[0].Addr())
		}
	}
	if !found {
		t.Error("no redis control channel check")
	}
}

// TestDoctorAtMostOnceOnClusterWithTwoReplicas: on a Cluster of 3 masters
// with 2 replicas each, "at most once" passes only when the
// acknowledgements cover every replica of every master: auto (every
// replica of the master serving the campaign's slot, each master named
// with its number) passes; a configured 1 is warned of, naming a master
// with more replicas and saying to set auto (cut off in a minority
// partition, or left by CLUSTER FAILOVER TAKEOVER, a master keeps a
// replica whose acknowledgement alone lets through a claim the promoted
// replica never gets). With a replica of one master down, auto still
// passes, that master waiting for its 1 (it used to fail: auto was one
// number, the most any master had, and that master's campaigns held); a
// configured 2 fails naming that master, whose campaigns hold. doctor
// used to pass a configured 1 and take auto as 1 on Cluster. Without a
// slot map (CLUSTER SHARDS refused, as Redis < 7 lacks it) auto says in
// words that a master not judged yet is held, and what to do.
func TestDoctorAtMostOnceOnClusterWithTwoReplicas(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2, AppendOnly: true,
		ServerConfig: []string{"maxmemory-policy noeviction", "min-replicas-to-write 1"}})
	ctx := t.Context()
	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters: %v %v", masters, err)
	}
	m0 := masters[0]
	for _, tt := range []struct {
		name        string
		acks        int
		killReplica bool // of m0, first
		noShards    bool // CLUSTER SHARDS refused on every node (an ACL), as on Redis < 7, first
		status      string
		says        string // {m0}: m0's address
	}{
		{"auto", environment.ReplicaAcksAuto, false, false, doctor.Pass, "every claim is acknowledged by every replica of the master serving its campaign's slot ("},
		{"auto names each master", environment.ReplicaAcksAuto, false, false, doctor.Pass, "{m0}: 2"},
		{"configured 2", 2, false, false, doctor.Pass, "every claim is acknowledged by 2 replica(s) before its message goes to SMTP"},
		{"configured 1", 1, false, false, doctor.Warn, "redis.min_replica_acks is 1, but master(s) "},
		{"configured 1 names every master", 1, false, false, doctor.Warn, "{m0} (2 replica(s))"},
		{"configured 1 says what to set", 1, false, false, doctor.Warn, "set redis.min_replica_acks to auto (every replica of the master serving the campaign's slot)"},
		{"auto, a replica down", environment.ReplicaAcksAuto, true, false, doctor.Pass, "{m0}: 1"},
		{"configured 2, a replica down", 2, false, false, doctor.Fail, "every claim must be acknowledged by 2 replica(s), but master(s) {m0} (1 replica(s)) have fewer connected"},
		// No slot map: a master not judged yet is held, said in words and what to do (never 65536).
		{"auto, no CLUSTER SHARDS", environment.ReplicaAcksAuto, false, true, doctor.Pass, "; a master the workers have not judged yet, such as a replica promoted between two of their passes, is held: Redis < 7 does not list the replicas of a master not judged yet (no CLUSTER SHARDS, or the ACL refuses it), so sends to it wait until the worker judges it"},
	} {
		if tt.killReplica {
			info, err := m0.Client().Info(ctx, "replication").Result()
			if err != nil {
				t.Fatal(err)
			}
			cl.Node(redisconn.ReplicaAddrs(redisconn.ParseInfo(info))[0]).Kill()
			wait.For(t, 30*time.Second, "the master to lose a replica", func() bool {
				raw, _ := m0.Client().Info(ctx, "replication").Result()
				return redisconn.ParseInfo(raw)["connected_slaves"] == "1"
			})
		}
		if tt.noShards {
			for _, n := range cl.Nodes() {
				if n.Running() {
					if err := n.Client().Do(ctx, "acl", "setuser", "default", "-cluster|shards").Err(); err != nil {
						t.Fatalf("refuse CLUSTER SHARDS on %s: %v", n.Addr(), err)
					}
				}
			}
		}
		e := &environment.Environment{Name: "staging", ClaimWindow: 16, Concurrency: 8,
			Redis: environment.Redis{URL: "redis://127.0.0.1:6379/0", Cluster: cl.Addrs(), MinReplicaAcks: tt.acks}}
		says := strings.ReplaceAll(tt.says, "{m0}", m0.Addr())
		found := false
		for _, c := range doctor.Redis(ctx, e) {
			if c.Name != "at most once" {
				continue
			}
			found = true
			if c.Status != tt.status || !strings.Contains(c.Message, says) || strings.Contains(c.Message, "65536") || !tt.noShards && strings.Contains(c.Message, "held") {
				t.Errorf("%s: %s %q, want %s with %q", tt.name, c.Status, c.Message, tt.status, says)
			}
		}
		if !found {
			t.Errorf("%s: no check \"at most once\"", tt.name)
		}
	}
}
