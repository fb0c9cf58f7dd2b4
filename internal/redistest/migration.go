package redistest

import (
	"context"
	"fmt"
	"strings"
)

// Migration is a hash slot being moved from one master to another, as
// redis-cli --cluster reshard moves it: the slot IMPORTING on the target,
// MIGRATING on the source, its keys moved by MIGRATE ([Migration.Step]),
// then assigned to the target on both ([Migration.Finish]). Until then a
// command whose keys are split between the two is refused with TRYAGAIN,
// and one whose keys have all gone is sent to the target with ASK.
type Migration struct {
	Slot     int64
	Src, Dst *Node
	dstID    string
}

// StartMigration starts moving key's slot from its master to another
// master of the cluster.
func (c *Cluster) StartMigration(ctx context.Context, key string) (*Migration, error) {
	src, err := c.MasterForSlotOf(ctx, key)
	if err != nil {
		return nil, err
	}
	masters, err := c.Masters(ctx)
	if err != nil {
		return nil, err
	}
	m := &Migration{Src: src}
	for _, n := range masters {
		if n != src {
			m.Dst = n
			break
		}
	}
	if m.Dst == nil {
		return nil, fmt.Errorf("redistest: no master but %s to move the slot of %q to", src.Addr(), key)
	}
	if m.Slot, err = src.Client().ClusterKeySlot(ctx, key).Result(); err != nil {
		return nil, fmt.Errorf("redistest: CLUSTER KEYSLOT on %s: %w", src.Name(), err)
	}
	srcID, err := src.Client().ClusterMyID(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("redistest: CLUSTER MYID on %s: %w", src.Name(), err)
	}
	if m.dstID, err = m.Dst.Client().ClusterMyID(ctx).Result(); err != nil {
		return nil, fmt.Errorf("redistest: CLUSTER MYID on %s: %w", m.Dst.Name(), err)
	}
	for _, s := range []struct {
		on   *Node
		args []any
	}{
		{m.Dst, []any{"cluster", "setslot", m.Slot, "importing", srcID}},
		{src, []any{"cluster", "setslot", m.Slot, "migrating", m.dstID}},
	} {
		if err := s.on.Client().Do(ctx, s.args...).Err(); err != nil {
			return nil, fmt.Errorf("redistest: %v on %s: %w", s.args, s.on.Name(), err)
		}
	}
	return m, nil
}

// Left returns the number of the slot's keys still on the source.
func (m *Migration) Left(ctx context.Context) (int, error) {
	n, err := m.Src.Client().ClusterCountKeysInSlot(ctx, int(m.Slot)).Result()
	if err != nil {
		return 0, fmt.Errorf("redistest: CLUSTER COUNTKEYSINSLOT on %s: %w", m.Src.Name(), err)
	}
	return int(n), nil
}

// Step moves up to k of the slot's keys still on the source to the target
// (one MIGRATE) and returns how many it moved: 0 once none is left.
func (m *Migration) Step(ctx context.Context, k int) (int, error) {
	keys, err := m.Src.Client().ClusterGetKeysInSlot(ctx, int(m.Slot), k).Result()
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	host, port, _ := strings.Cut(m.Dst.Addr(), ":")
	args := []any{"migrate", host, port, "", 0, 5000, "keys"}
	for _, key := range keys {
		args = append(args, key)
	}
	if err := m.Src.Client().Do(ctx, args...).Err(); err != nil {
		return 0, fmt.Errorf("redistest: MIGRATE of %d keys from %s to %s: %w", len(keys), m.Src.Name(), m.Dst.Name(), err)
	}
	return len(keys), nil
}

// Finish moves the keys left and assigns the slot to the target, on the
// target first and then on the source, as redis-cli does.
func (m *Migration) Finish(ctx context.Context) error {
	for {
		k, err := m.Step(ctx, 100)
		if err != nil {
			return err
		}
		if k == 0 {
			break
		}
	}
	for _, n := range []*Node{m.Dst, m.Src} {
		if err := n.Client().Do(ctx, "cluster", "setslot", m.Slot, "node", m.dstID).Err(); err != nil {
			return fmt.Errorf("redistest: CLUSTER SETSLOT %d NODE on %s: %w", m.Slot, n.Name(), err)
		}
	}
	return nil
}
