package redistest

import (
	"testing"
)

// TestClusterAddMasterAndReshardTo: a master added to a running cluster
// (with its replica) joins it and serves no slot; ReshardTo moves a
// key's slot to it with redis-cli: the cluster settles with 4 masters,
// the key is on the new master, and a cluster client reads it there.
func TestClusterAddMasterAndReshardTo(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, ClusterOptions{})
	ctx := t.Context()
	const key = "{06S}" // slot 0, the first of its master's
	cc := c.ClusterClient()
	if err := cc.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	m, err := c.AddMaster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Nodes()); n != 8 {
		t.Errorf("%d nodes after AddMaster, want 8 (a master and its replica added)", n)
	}
	if masters, err := c.Masters(ctx); err != nil || len(masters) != 3 {
		t.Errorf("masters serving slots after AddMaster: %d, %v; want 3", len(masters), err)
	}
	moved, err := c.ReshardTo(ctx, key, m)
	if err != nil {
		t.Fatal(err)
	}
	if moved != 1 {
		t.Errorf("moved %d slots, want 1 (slot 0 alone)", moved)
	}
	if now, err := c.MasterForSlotOf(ctx, key); err != nil || now != m {
		t.Fatalf("after ReshardTo, %q is on %v (%v), want %s", key, now, err, m.Name())
	}
	if masters, err := c.Masters(ctx); err != nil || len(masters) != 4 {
		t.Errorf("masters serving slots after ReshardTo: %d, %v; want 4", len(masters), err)
	}
	if got, err := m.Client().Get(ctx, key).Result(); err != nil || got != "v" {
		t.Errorf("GET %s on the new master = %q, %v", key, got, err)
	}
	if got, err := cc.Get(ctx, key).Result(); err != nil || got != "v" {
		t.Errorf("GET %s through the cluster client after the reshard = %q, %v", key, got, err)
	}
}
