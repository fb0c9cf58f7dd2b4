package redisconn_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestClusterAcksKeepsAMasterAcrossAResharding: a master that lost one of
// its 2 replicas still waits for 2 (the same master: it may be an old
// master cut off from the replica just promoted), and a slot moved to it
// (a resharding, as redis-cli --cluster reshard does it: SETSLOT IMPORTING,
// MIGRATING, NODE) bumps its config epoch without any failover. It is the
// same master, with the same replication id, and keeps waiting for 2. It
// used to be judged afresh on the new epoch, as if promoted again, and
// wait for the 1 replica it has left.
func TestClusterAcksKeepsAMasterAcrossAResharding(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: 2, NodeTimeout: 10 * time.Minute})
	cc := cl.ClusterClient()
	judge := judging(t, cc)
	start := judge("at start")
	// The master of lowest config epoch: a slot it imports bumps its epoch
	// (Redis bumps it without consensus unless it is already the highest).
	addrs := slices.Sorted(maps.Keys(start))
	slices.SortFunc(addrs, func(a, b string) int { return cmpEpoch(start[a].Epoch, start[b].Epoch) })
	m, from := cl.Node(addrs[0]), cl.Node(addrs[1])
	info, err := m.Info(ctx, "replication")
	if err != nil {
		t.Fatal(err)
	}
	cl.Node(redisconn.ReplicaAddrs(info)[0]).Kill()
	wait.For(t, 30*time.Second, m.Addr()+" to lose a replica", func() bool { return connected(ctx, t, m) == 1 })
	if a := judge("a replica lost")[m.Addr()]; a.Acks != 2 || a.Required != 1 {
		t.Fatalf("%s with a replica lost: acks %d required %d, want 2 (held) and 1", m.Addr(), a.Acks, a.Required)
	}

	// Move the first slot of from to m.
	slots, err := from.Client().ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(slots, func(s redis.ClusterSlot) bool { return s.Nodes[0].Addr == from.Addr() })
	if i < 0 {
		t.Fatalf("%s serves no slot: %v", from.Addr(), slots)
	}
	slot := slots[i].Start
	mID, fromID := start[m.Addr()].ID, start[from.Addr()].ID
	for _, c := range []struct {
		on   *redistest.Node
		args []any
	}{
		{m, []any{"cluster", "setslot", slot, "importing", fromID}},
		{from, []any{"cluster", "setslot", slot, "migrating", mID}},
		{m, []any{"cluster", "setslot", slot, "node", mID}},
		{from, []any{"cluster", "setslot", slot, "node", mID}},
	} {
		if err := c.on.Client().Do(ctx, c.args...).Err(); err != nil {
			t.Fatalf("%v on %s: %v", c.args, c.on.Addr(), err)
		}
	}
	wait.For(t, time.Minute, "the cluster to settle after the resharding", func() bool { return cl.WaitSettled(ctx) == nil })
	a := judge("after the resharding")[m.Addr()]
	if a.Epoch == start[m.Addr()].Epoch {
		t.Fatalf("the resharding left %s at config epoch %s: the test moves nothing", m.Addr(), a.Epoch)
	}
	if a.ID != start[m.Addr()].ID || a.New || a.Acks != 2 {
		t.Errorf("%s after a resharding (epoch %s -> %s, no failover): node %s new %v acks %d; want the same master (node %s), still waiting for 2",
			m.Addr(), start[m.Addr()].Epoch, a.Epoch, a.ID, a.New, a.Acks, start[m.Addr()].ID)
	}
}

// cmpEpoch compares two config epochs (decimal numbers) by value.
func cmpEpoch(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
