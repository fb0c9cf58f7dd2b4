package redisconn_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redisserver"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestReplicaAcksAuto: auto asks a replica's acknowledgement exactly when a
// replica is there to give it: none on the embedded Redis of the demo (its
// INFO has no replication section: auto used to fail there, so every
// command but the demo failed with exit 3 on a machine without
// redis-server), none on a lone redis-server, one on a master with a
// replica, one through Sentinel; a number is kept as it is.
func TestReplicaAcksAuto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emb, err := redisserver.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	embedded := redis.NewClient(&redis.Options{Addr: emb.Addr()})
	t.Cleanup(func() { _ = embedded.Close() })
	check := func(name string, rdb redis.UniversalClient, n, want int) {
		t.Helper()
		got, err := redisconn.ReplicaAcks(ctx, rdb, n)
		if err != nil || got != want {
			t.Errorf("%s: ReplicaAcks(%d) = %d, %v; want %d", name, n, got, err, want)
		}
	}
	check("embedded Redis, auto", embedded, redisconn.AutoReplicaAcks, 0)
	check("embedded Redis, 2", embedded, 2, 2)

	lone := redistest.StartServer(t, "../redistest/testdata/plain.conf").Client()
	check("redis-server without a replica, auto", lone, redisconn.AutoReplicaAcks, 0)

	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 1})
	master, err := s.Master(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("master with a replica, auto", master.Client(), redisconn.AutoReplicaAcks, 1)
	check("master with a replica, 0", master.Client(), 0, 0)
	check("through Sentinel, auto", s.FailoverClient(), redisconn.AutoReplicaAcks, 1)
}

// TestReplicaAcksAutoOnSentinelWaitsForEveryReplica: auto through
// Sentinel waits for every replica connected (2 of 2), whatever their
// replica-priorities: after a failover promotes one replica, an old master
// left running keeps the other until Sentinel moves it, and its
// acknowledgement alone must not let a claim through
// (TestSentinelFailoverAtMostOnce, two replicas). auto used to be 1 on
// Sentinel whatever the priorities, then connected replicas - replicas of
// the best priority + 1 (1 with two replicas of one priority).
func TestReplicaAcksAutoOnSentinelWaitsForEveryReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 2})
	reps, err := s.Replicas(ctx)
	if err != nil || len(reps) != 2 {
		t.Fatalf("replicas: %v %v", reps, err)
	}
	rdb := s.FailoverClient()
	for _, tt := range []struct {
		name       string
		priorities [2]int
		want       int
	}{
		{"one priority", [2]int{100, 100}, 2},
		{"a preferred replica", [2]int{100, 10}, 2},
		{"a replica never promoted", [2]int{0, 100}, 2},
		{"none promoted", [2]int{0, 0}, 2},
	} {
		for i, r := range reps {
			if err := r.Client().ConfigSet(ctx, "replica-priority", strconv.Itoa(tt.priorities[i])).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := redisconn.ReplicaAcks(ctx, rdb, redisconn.AutoReplicaAcks); err != nil || got != tt.want {
			t.Errorf("%s (replica-priority %v): ReplicaAcks(auto) = %d, %v; want %d", tt.name, tt.priorities, got, err, tt.want)
		}
	}
}
