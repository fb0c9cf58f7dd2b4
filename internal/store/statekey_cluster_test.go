package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStateKeyOnClusterFollowsTheSlotsMaster: on Redis Cluster a
// campaign's state names the run id of the master serving its slot, so
// that a failover of that slot (the replica that takes over may lack the
// last writes, as on Sentinel) is a new state the workers check their
// journals against. Right after the failover, a client whose map of the
// slots still names the old master (now a replica) gets an error, never
// the old master's run id; once it sees the failover, the new master's.
func TestStateKeyOnClusterFollowsTheSlotsMaster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	rdb := cl.ClusterClient()
	s := store.New(rdb)
	const c = "sk"
	control := "tidings:{" + c + "}:control"
	if err := rdb.HSet(ctx, control, "state", "running").Err(); err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1000)
	runID := func(n *redistest.Node) string {
		t.Helper()
		info, err := n.Client().Info(ctx, "server").Result()
		if err != nil {
			t.Fatal(err)
		}
		_, id, _ := strings.Cut(info, "run_id:")
		id, _, _ = strings.Cut(id, "\r\n")
		return id
	}
	old, err := cl.MasterForSlotOf(ctx, control)
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.StateKey(ctx, c, at)
	if want := "1000/" + runID(old); err != nil || before != want {
		t.Fatalf("StateKey = %q, %v; want %q (the run id of %s, serving the campaign's slot)", before, err, want, old.Name())
	}
	var replica *redistest.Node
	for _, n := range cl.Nodes() {
		if n == old {
			continue
		}
		if info, err := n.Client().Info(ctx, "replication").Result(); err == nil && strings.Contains(info, "master_port:"+old.Addr()[strings.LastIndex(old.Addr(), ":")+1:]+"\r\n") {
			replica = n
		}
	}
	if replica == nil {
		t.Fatalf("no replica of %s", old.Name())
	}
	if err := replica.Client().Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if m, err := cl.MasterForSlotOf(ctx, control); err == nil && m == replica {
			if info, err := old.Client().Info(ctx, "replication").Result(); err == nil && strings.Contains(info, "role:slave") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not take over from %s", replica.Name(), old.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := "1000/" + runID(replica)
	var errs int
	for {
		key, err := s.StateKey(ctx, c, at)
		switch {
		case err == nil && key == before:
			t.Fatalf("StateKey after the failover = %q, the old master's state: workers would not check their journals against the new master", key)
		case err == nil && key != want:
			t.Fatalf("StateKey after the failover = %q, want %q", key, want)
		case err == nil:
			t.Logf("the new master's run id after %d errors from the stale map of the slots", errs)
			return
		}
		errs++
		if time.Now().After(deadline) {
			t.Fatalf("StateKey after the failover: still %v", err)
		}
		// What a worker does: a chunk whose check fails runs again, and
		// the client sees the failover on its next write to that slot.
		_ = rdb.HSet(ctx, control, "state", "running").Err()
		time.Sleep(100 * time.Millisecond)
	}
}
