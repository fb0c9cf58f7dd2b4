package redistest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestReplicationProxyStallsTheReplica: a replica replicating through its
// proxy, stalled, lacks what the master accepts meanwhile (WAIT counts no
// replica, while the master still lists it connected); released, it gets
// it. Stalled through a SENTINEL FAILOVER, the replica is promoted without
// it, and the old master, made its replica, loses it too: the loss the
// e2e tests need the replica acknowledgements against.
func TestReplicationProxyStallsTheReplica(t *testing.T) {
	t.Parallel()
	for _, failover := range []bool{false, true} {
		t.Run(fmt.Sprintf("failover=%t", failover), func(t *testing.T) {
			t.Parallel()
			s := StartSentinel(t, SentinelOptions{ReplicationProxy: true})
			ctx := t.Context()
			master, replica := s.Servers()[0], s.Servers()[1]
			p := s.Proxy(replica)
			if p == nil || p.Target() != master.Addr() {
				t.Fatalf("replica %s has proxy %v, want one to the master %s", replica.Addr(), p, master.Addr())
			}
			if s.Proxy(master) != nil {
				t.Errorf("the master has a proxy")
			}
			rc := replica.Client()
			if v, _ := rc.ConfigGet(ctx, "replicaof").Result(); v["replicaof"] != "127.0.0.1 "+portOf(t, p.Addr()) {
				t.Errorf("replica's replicaof = %q, want the proxy %s", v["replicaof"], p.Addr())
			}
			mc := master.Client()
			if err := mc.Set(ctx, "before", "1", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if n, err := mc.Wait(ctx, 1, time.Second).Result(); err != nil || n != 1 {
				t.Fatalf("WAIT 1 before the stall: %d, %v", n, err)
			}

			p.Stall()
			for i := range 100 {
				if err := mc.Set(ctx, fmt.Sprintf("stalled-%d", i), "1", 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := mc.Wait(ctx, 1, 200*time.Millisecond).Result(); err != nil || n != 0 {
				t.Errorf("WAIT 1 200ms while stalled: %d replicas acknowledged (%v), want 0", n, err)
			}
			if rep, err := info(ctx, mc, "replication"); err != nil || rep["connected_slaves"] != "1" {
				t.Errorf("while stalled the master lists %q replicas (%v), want 1", rep["connected_slaves"], err)
			}
			if n := rc.Exists(ctx, "before", "stalled-0", "stalled-99").Val(); n != 1 {
				t.Errorf("the stalled replica has %d of before, stalled-0, stalled-99; want before alone", n)
			}

			if !failover {
				p.Release()
				if n, err := mc.Wait(ctx, 1, time.Second).Result(); err != nil || n != 1 {
					t.Fatalf("WAIT 1 after the release: %d, %v", n, err)
				}
				if n := rc.Exists(ctx, "stalled-0", "stalled-99").Val(); n != 2 {
					t.Errorf("the released replica has %d of stalled-0, stalled-99, want both", n)
				}
				return
			}
			oldMaster, newMaster, err := s.Failover(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if oldMaster != master.Addr() || newMaster != replica.Addr() {
				t.Fatalf("failover %s -> %s, want %s -> %s", oldMaster, newMaster, master.Addr(), replica.Addr())
			}
			for _, n := range []*Node{replica, master} {
				if err := n.Client().Get(ctx, "stalled-0").Err(); !errors.Is(err, redis.Nil) {
					t.Errorf("%s after the failover: stalled-0: %v, want lost (redis.Nil)", n.Name(), err)
				}
				if err := n.Client().Get(ctx, "before").Err(); err != nil {
					t.Errorf("%s after the failover: before: %v, want kept", n.Name(), err)
				}
			}
		})
	}
}
