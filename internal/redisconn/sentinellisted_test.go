package redisconn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestSentinelListedLeavesOutAReplicaCutOffFromTheMaster: a replica the
// Sentinels still reach but whose own link to the master is down (a
// partition between those two only) is no replica a write can reach, so
// SentinelListed does not count it: counted, it kept every command at
// exit 3 and every console action at 503 for as long as the partition
// lasted (the master's WAIT never counts it). The replica a planned
// failover promotes (flagged disconnected, its link to the old master
// reported up) still counts: e2e TestPauseInAPlannedSentinelFailover.
// A real Sentinel deployment; the replica's link goes through a proxy
// that the test closes.
func TestSentinelListedLeavesOutAReplicaCutOffFromTheMaster(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 2, ReplicationProxy: true})
	opts := &redis.UniversalOptions{Addrs: s.SentinelAddrs(), MasterName: s.MasterName()}
	if n := redisconn.SentinelListed(ctx, opts); n != 2 {
		t.Fatalf("SentinelListed with both replicas linked = %d, want 2", n)
	}
	replicas, err := s.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cut := replicas[0]
	s.Proxy(cut).Close()
	wait.For(t, time.Minute, "the cut-off replica to report its link down", func() bool {
		info, err := cut.Client().Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:down")
	})
	// The Sentinels read each replica's INFO every half second (the
	// harness's info-period): once they have read the link down, it is
	// left out; before the fix it was counted for as long as it lasted.
	wait.For(t, time.Minute, "SentinelListed to leave out the replica cut off from the master", func() bool {
		return redisconn.SentinelListed(ctx, opts) == 1
	})
}
