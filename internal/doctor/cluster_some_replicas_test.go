package doctor_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestDoctorAtMostOnceOnClusterWithSomeMastersWithoutReplicas: a Redis
// Cluster of 3 masters, each with 1 replica, the replica of one master
// down, redis.min_replica_acks 0. "at most once" names the master without
// a replica and the masters with one (host:port), and says what each
// guarantees: the one without loses what its append-only file had not
// fsynced in a crash of its host, the others' failover can lose the last
// claims, since none is waited for; and what to do. With appendfsync
// always it is still a warning, for the failover. It used to say "a Redis
// Cluster whose 3 masters have no replicas", which two of them had.
func TestDoctorAtMostOnceOnClusterWithSomeMastersWithoutReplicas(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 1, AppendOnly: true,
		ServerConfig: []string{"maxmemory-policy noeviction", "min-replicas-to-write 0"}})
	ctx := t.Context()
	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters: %v %v", masters, err)
	}
	m0 := masters[0]
	info, err := m0.Client().Info(ctx, "replication").Result()
	if err != nil {
		t.Fatalf("INFO replication on %s: %v", m0.Addr(), err)
	}
	cl.Node(redisconn.ReplicaAddrs(redisconn.ParseInfo(info))[0]).Kill()
	wait.For(t, 30*time.Second, "the master to lose its replica", func() bool {
		raw, _ := m0.Client().Info(ctx, "replication").Result()
		return redisconn.ParseInfo(raw)["connected_slaves"] == "0"
	})
	with := []string{masters[1].Addr() + " (1 replica(s))", masters[2].Addr() + " (1 replica(s))"}
	slices.Sort(with)
	failover := "; master(s) " + strings.Join(with, ", ") + " have replicas, but redis.min_replica_acks is 0: no claim waits for them, so a failover of one of these masters can lose its last claims, and their recipients could be sent twice too; attach a replica to each master without one (redis-cli -h HOST -p PORT CLUSTER REPLICATE NODE-ID, the master's NODE-ID from its CLUSTER MYID), then set redis.min_replica_acks to auto"
	e := &environment.Environment{Name: "staging", ClaimWindow: 16, Concurrency: 8,
		Redis: environment.Redis{URL: "redis://127.0.0.1:6379/0", Cluster: cl.Addrs()}}
	for _, tt := range []struct {
		fsync, status, says string
	}{
		{"everysec", doctor.Warn, "a Redis Cluster whose master(s) " + m0.Addr() + " (0 replica(s)) have no replica: a crash of redis-server loses no claim, but a crash of the host can lose the last second of them (appendfsync everysec), and those recipients could be sent twice; for none, set appendfsync always (its cost is in docs/benchmarks.md) or attach a replica to each master without one" + failover},
		{"always", doctor.Warn, "a Redis Cluster whose master(s) " + m0.Addr() + " (0 replica(s)) have no replica, with appendfsync always: every claim is on disk before its message goes to SMTP, even a crash of the host loses none" + failover},
	} {
		for _, n := range cl.Nodes() {
			if n.Running() {
				if err := n.Client().ConfigSet(ctx, "appendfsync", tt.fsync).Err(); err != nil {
					t.Fatalf("CONFIG SET appendfsync %s on %s: %v", tt.fsync, n.Addr(), err)
				}
			}
		}
		found := false
		for _, c := range doctor.Redis(ctx, e) {
			if c.Name != "at most once" {
				continue
			}
			found = true
			if c.Status != tt.status || c.Message != tt.says {
				t.Errorf("appendfsync %s: %s %q\nwant %s %q", tt.fsync, c.Status, c.Message, tt.status, tt.says)
			}
		}
		if !found {
			t.Errorf("appendfsync %s: no check \"at most once\"", tt.fsync)
		}
	}
}
