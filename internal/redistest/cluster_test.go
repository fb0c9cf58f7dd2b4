package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestClusterServesEveryMasterAndRefusesCrossSlot(t *testing.T) {
	t.Parallel()
	need(t, "redis-server", "redis-server") // here, not only in the subtest: the checks after it need the cluster
	need(t, "redis-cli", "redis-tools")
	var nodes []*Node
	t.Run("running", func(t *testing.T) {
		began := time.Now()
		c := StartCluster(t, ClusterOptions{})
		t.Logf("cluster settled in %s", time.Since(began).Round(time.Millisecond))
		nodes = c.Nodes()
		ctx := t.Context()
		if n := len(c.Addrs()); n != 6 {
			t.Fatalf("%d nodes, want 6", n)
		}
		masters, err := c.Masters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(masters) != 3 {
			t.Fatalf("%d masters, want 3", len(masters))
		}
		// One key in each master's slots.
		keyOf := map[*Node]string{}
		for i := 0; len(keyOf) < len(masters) && i < 1000; i++ {
			k := fmt.Sprintf("key-%d", i)
			m, err := c.MasterForSlotOf(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := keyOf[m]; !ok {
				keyOf[m] = k
			}
		}
		if len(keyOf) != len(masters) {
			t.Fatalf("keys found for %d masters, want %d", len(keyOf), len(masters))
		}
		cc := c.ClusterClient()
		for m, k := range keyOf {
			if err := cc.Set(ctx, k, m.Name(), 0).Err(); err != nil {
				t.Fatalf("SET %s through the cluster client: %v", k, err)
			}
			// The key lives on that master: a plain client there reads it
			// without a redirection, another master answers MOVED.
			if got, err := m.Client().Get(ctx, k).Result(); err != nil || got != m.Name() {
				t.Errorf("GET %s on %s = %q, %v; want %q", k, m.Name(), got, err, m.Name())
			}
			other := masters[(slicesIndex(masters, m)+1)%len(masters)]
			if err := other.Client().Get(ctx, k).Err(); err == nil || !strings.HasPrefix(err.Error(), "MOVED") {
				t.Errorf("GET %s on %s (not its master) = %v, want MOVED", k, other.Name(), err)
			}
		}
		var keys []string
		for _, k := range keyOf {
			keys = append(keys, k)
		}
		const script = "return redis.call('MGET', KEYS[1], KEYS[2])"
		for name, err := range map[string]error{
			"cluster client":         cc.Eval(ctx, script, keys[:2]).Err(),
			"plain client on a node": masters[0].Client().Eval(ctx, script, keys[:2]).Err(),
		} {
			if err == nil || !strings.HasPrefix(err.Error(), "CROSSSLOT") {
				t.Errorf("a script over two slots through the %s: %v, want CROSSSLOT", name, err)
			}
		}
		if err := cc.Eval(ctx, script, []string{"{c}:a", "{c}:b"}).Err(); err != nil {
			t.Errorf("a script over one slot (hash tag): %v", err)
		}

		if err := c.FlushAll(ctx); err != nil {
			t.Fatal(err)
		}
		for _, n := range c.Nodes() {
			err := poll(ctx, 10*time.Second, n.Name()+" empty after FlushAll", func() error {
				if k := n.Client().DBSize(ctx).Val(); k != 0 {
					return fmt.Errorf("%d keys", k)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}

		// A replica restarted empty rejoins on its address as the same node
		// and copies its master again.
		m := masters[0]
		if err := cc.Set(ctx, keyOf[m], "again", 0).Err(); err != nil {
			t.Fatal(err)
		}
		slots, err := m.Client().ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		var replica *Node
		for _, s := range slots {
			if s.Nodes[0].Addr == m.Addr() {
				replica = c.Node(s.Nodes[1].Addr)
			}
		}
		if replica == nil {
			t.Fatalf("no replica of %s in %v", m.Name(), slots)
		}
		id := replica.Client().ClusterMyID(ctx).Val()
		if err := replica.Restart(ctx, true); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitSettled(ctx); err != nil {
			t.Fatal(err)
		}
		if got := replica.Client().ClusterMyID(ctx).Val(); got != id || id == "" {
			t.Errorf("restarted replica is node %q, was %q", got, id)
		}
		err = poll(ctx, 10*time.Second, "the restarted replica to copy its master", func() error {
			if n := replica.Client().DBSize(ctx).Val(); n != 1 {
				return fmt.Errorf("%d keys, want 1", n)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
	if len(nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(nodes))
	}
	for _, n := range nodes {
		if n.Running() {
			t.Errorf("%s still runs after its test", n.Name())
		}
	}
}

func slicesIndex(nodes []*Node, n *Node) int {
	for i, m := range nodes {
		if m == n {
			return i
		}
	}
	return -1
}

func TestClusterFailoverCutOffAndKillMasterOf(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, ClusterOptions{})
	ctx := t.Context()
	cc := c.ClusterClient()
	const key = "{campaign}:k"
	if err := cc.Set(ctx, key, "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := cc.Wait(ctx, 1, 5*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		do   func(context.Context, string) (string, string, error)
	}{
		{"Failover", c.Failover},
		{"CutOffMasterOf", c.CutOffMasterOf},
		{"KillMasterOf", c.KillMasterOf},
	} {
		began := time.Now()
		old, nm, err := tc.do(ctx, "{campaign}")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Logf("%s settled in %s", tc.name, time.Since(began).Round(time.Millisecond))
		if tc.name == "KillMasterOf" {
			if c.Node(old).Running() {
				t.Errorf("after %s, old master %s still runs", tc.name, old)
			}
			// Started again, it rejoins as a replica.
			if err := c.Node(old).Restart(ctx, false); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.WaitSettled(ctx); err != nil {
			t.Fatal(err)
		}
		if m, err := c.MasterForSlotOf(ctx, key); err != nil || m.Addr() != nm || nm == old {
			t.Fatalf("%s() = %s, %s; the slot's master is now %v (%v)", tc.name, old, nm, m, err)
		}
		if got, err := c.Node(nm).Client().Get(ctx, key).Result(); err != nil || got != "1" {
			t.Errorf("after %s, GET %s on the new master %s = %q, %v; want 1", tc.name, key, nm, got, err)
		}
		if role, err := info(ctx, c.Node(old).Client(), "replication"); err != nil || role["role"] != "slave" {
			t.Errorf("after %s, old master %s: role %q (%v), want slave", tc.name, old, role["role"], err)
		}
	}
}

// TestClusterStalledReplicaLosesWhatItLacks shows that a replica stalled
// with StallReplication falls behind while it stays connected (WAIT on its
// master counts it no more), and that ForceFailover promotes it with what
// it had: a write its master accepted during the stall is lost, one
// before it kept; without a stall, ForceFailover loses nothing. The
// promoted node takes writes (the stall is lifted).
func TestClusterStalledReplicaLosesWhatItLacks(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, ClusterOptions{})
	ctx := t.Context()
	const slot = "{stalled}"
	for i, stall := range []bool{false, true} {
		if err := c.WaitSettled(ctx); err != nil {
			t.Fatal(err)
		}
		master, replicas, err := c.ShardOf(ctx, slot)
		if err != nil {
			t.Fatal(err)
		}
		if len(replicas) != 1 {
			t.Fatalf("master %s of %s has %d replicas, want 1", master.Name(), slot, len(replicas))
		}
		replica := replicas[0]
		// A write and WAIT on one connection: WAIT counts the replicas that
		// acknowledged this connection's writes.
		conn := master.Client().Conn()
		before, during := fmt.Sprintf("%s:before-%d", slot, i), fmt.Sprintf("%s:during-%d", slot, i)
		if err := conn.Set(ctx, before, "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if n, err := conn.Wait(ctx, 1, 5*time.Second).Result(); err != nil || n != 1 {
			t.Fatalf("WAIT 1 after SET %s on %s = %d, %v; want 1", before, master.Name(), n, err)
		}
		if stall {
			if err := replica.StallReplication(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := conn.Set(ctx, during, "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		// Not stalled, the replica acknowledges: WAIT returns once it has,
		// with as long a bound as the write before (on a loaded machine
		// 500 ms may pass first: a timed assertion). Stalled, it never
		// does, whatever the bound: a short one, not to wait for nothing.
		want, bound := int64(1), 5*time.Second
		if stall {
			want, bound = 0, 500*time.Millisecond
		}
		if n, err := conn.Wait(ctx, 1, bound).Result(); err != nil || n != want {
			t.Fatalf("stalled %t: WAIT 1 after SET %s on %s = %d, %v; want %d", stall, during, master.Name(), n, err, want)
		}
		_ = conn.Close()
		if stall {
			if role, err := replica.Info(ctx, "replication"); err != nil || role["master_link_status"] != "up" {
				t.Fatalf("stalled replica %s: master_link_status %q (%v), want up", replica.Name(), role["master_link_status"], err)
			}
		}
		old, nm, err := c.ForceFailover(ctx, slot)
		if err != nil {
			t.Fatal(err)
		}
		if old != master.Addr() || nm != replica.Addr() {
			t.Fatalf("ForceFailover = %s, %s; want %s, %s", old, nm, master.Addr(), replica.Addr())
		}
		for key, kept := range map[string]bool{before: true, during: !stall} {
			n, err := replica.Client().Exists(ctx, key).Result()
			if err != nil || (n == 1) != kept {
				t.Errorf("stalled %t: after the failover, EXISTS %s on the new master %s = %d, %v; want kept %t", stall, key, replica.Name(), n, err, kept)
			}
		}
		if err := replica.Client().Set(ctx, slot+":after", "1", 0).Err(); err != nil {
			t.Errorf("stalled %t: SET on the new master %s: %v", stall, replica.Name(), err)
		}
	}
}
