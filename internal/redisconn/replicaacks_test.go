package redisconn_test

import (
	"context"
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
