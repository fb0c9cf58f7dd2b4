package redisconn_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestReplicaAcksAutoOnClusterWaitsForEveryReplica: on a Cluster of 3
// masters with 2 replicas each, auto is 2, not 1: a master cut off in a
// minority partition (or left by CLUSTER FAILOVER TAKEOVER) keeps its other
// replica, whose acknowledgement alone must not let a claim through. The
// WAIT a store sends goes to the master of the campaign's slot, which has
// those 2 replicas. A master that loses a replica does not lower it.
func TestReplicaAcksAutoOnClusterWaitsForEveryReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2})
	cc := cl.ClusterClient()

	// What WAIT is sent to: the master of the campaign's slot
	// (store.pipeWait: MasterForKey), with 2 replicas connected.
	const key = "tidings:{spring}:ledger"
	owner, err := cl.MasterForSlotOf(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cc.MasterForKey(ctx, key)
	if err != nil || m.Options().Addr != owner.Addr() {
		t.Fatalf("MasterForKey(%s) = %v, %v; want the slot's master %s", key, m, err, owner.Addr())
	}
	if n := connected(ctx, t, owner); n != 2 {
		t.Fatalf("master %s of %s: connected_slaves %d, want 2", owner.Addr(), key, n)
	}

	for _, tt := range []struct {
		name string
		n    int
		want int
	}{
		{"auto", redisconn.AutoReplicaAcks, 2},
		{"1", 1, 1},
		{"0", 0, 0},
	} {
		if got, err := redisconn.ReplicaAcks(ctx, cc, tt.n); err != nil || got != tt.want {
			t.Errorf("%s: ReplicaAcks(%d) = %d, %v; want %d", tt.name, tt.n, got, err, tt.want)
		}
	}

	// One replica of the campaign's master down: the others still have 2,
	// so auto stays 2, and that master is named as having fewer.
	info, err := owner.Client().Info(ctx, "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	addrs := redisconn.ReplicaAddrs(redisconn.ParseInfo(info))
	if len(addrs) != 2 {
		t.Fatalf("replicas of %s: %v", owner.Addr(), addrs)
	}
	cl.Node(addrs[0]).Kill()
	wait.For(t, 30*time.Second, "the master to lose a replica", func() bool { return connected(ctx, t, owner) == 1 })
	ms, err := redisconn.ClusterReplicas(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{owner.Addr() + " (1 replica(s))"}
	if got := redisconn.ClusterAuto(ms); got != 2 || !slices.Equal(redisconn.Fewer(ms, got), want) {
		t.Errorf("one replica down: ClusterAuto = %d, Fewer = %q; want 2, %q", got, redisconn.Fewer(ms, got), want)
	}
}

// connected is master n's INFO replication connected_slaves.
func connected(ctx context.Context, t *testing.T, n *redistest.Node) int {
	t.Helper()
	raw, err := n.Client().Info(ctx, "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := strconv.Atoi(redisconn.ParseInfo(raw)["connected_slaves"])
	return c
}

// TestClusterAutoAndFewer: auto on Cluster is every replica of the master
// with the most, at least 1, and the masters with fewer are named; so are
// those with more than a configured 1.
func TestClusterAutoAndFewer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		counts []int
		want   int
		fewer  []string
		more1  []string // than 1
	}{
		{"no replica", []int{0, 0, 0}, 1, []string{"m0 (0 replica(s))", "m1 (0 replica(s))", "m2 (0 replica(s))"}, nil},
		{"one each", []int{1, 1, 1}, 1, nil, nil},
		{"two each", []int{2, 2, 2}, 2, nil, []string{"m0 (2 replica(s))", "m1 (2 replica(s))", "m2 (2 replica(s))"}},
		{"one master short", []int{2, 1, 2}, 2, []string{"m1 (1 replica(s))"}, []string{"m0 (2 replica(s))", "m2 (2 replica(s))"}},
	} {
		var ms []redisconn.MasterReplicas
		for i, n := range tt.counts {
			ms = append(ms, redisconn.MasterReplicas{Addr: "m" + strconv.Itoa(i), Replicas: n})
		}
		got := redisconn.ClusterAuto(ms)
		if fewer := redisconn.Fewer(ms, got); got != tt.want || !slices.Equal(fewer, tt.fewer) {
			t.Errorf("%s: ClusterAuto = %d, Fewer = %q; want %d, %q", tt.name, got, fewer, tt.want, tt.fewer)
		}
		if more := redisconn.More(ms, 1); !slices.Equal(more, tt.more1) {
			t.Errorf("%s: More(1) = %q; want %q", tt.name, more, tt.more1)
		}
	}
}
