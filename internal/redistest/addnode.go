package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// AddMaster starts a new node, configured as the others, and its replicas
// (as many as [ClusterOptions.Replicas]), joins them to the cluster as
// redis-cli --cluster add-node does (the replicas with --cluster-slave of
// the new master), and waits until the cluster has settled with them
// known to every node. They start with min-replicas-to-write 0 and are
// given the cluster's value (CONFIG SET, CONFIG REWRITE) once attached:
// add-node copies the cluster's functions to the new master (FUNCTION
// RESTORE), a write it refuses without a replica under
// min-replicas-to-write (NOREPLICAS). The new master serves no slot
// until [Cluster.ReshardTo] gives it some. It returns the new master; a
// failure's error carries redis-cli's output and every node's log.
func (c *Cluster) AddMaster(ctx context.Context) (*Node, error) {
	seed := c.d.nodes[0]
	minReplicas, err := seed.Client().ConfigGet(ctx, "min-replicas-to-write").Result()
	if err != nil {
		return nil, fmt.Errorf("redistest: CONFIG GET min-replicas-to-write on %s: %w", seed.Name(), err)
	}
	conf := append(slices.Clone(c.conf), "min-replicas-to-write 0")
	newNode := func() (*Node, error) {
		n, err := startNode(context.WithoutCancel(ctx), c.serverBin, c.d.dir, fmt.Sprintf("node-%d", len(c.d.nodes)), conf, nil, c.ports...)
		if n != nil {
			c.d.nodes = append(c.d.nodes, n)
		}
		if err != nil {
			return nil, c.d.failure("add a node", err)
		}
		return n, nil
	}
	m, err := newNode()
	if err != nil {
		return nil, err
	}
	if err := c.cli(ctx, "add-node", m.Addr(), seed.Addr()); err != nil {
		return nil, err
	}
	c.opts.Masters++
	c.spare++
	if err := c.waitSettled(ctx); err != nil { // a replica must know its master
		return nil, c.d.failure("add master "+m.Addr(), err)
	}
	id, err := m.Client().ClusterMyID(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("redistest: CLUSTER MYID on %s: %w", m.Name(), err)
	}
	for range c.opts.Replicas {
		r, err := newNode()
		if err != nil {
			return nil, err
		}
		if err := c.cli(ctx, "add-node", r.Addr(), seed.Addr(), "--cluster-slave", "--cluster-master-id", id); err != nil {
			return nil, err
		}
	}
	if err := c.waitSettled(ctx); err != nil {
		return nil, c.d.failure("add master "+m.Addr(), err)
	}
	for _, n := range c.d.nodes[len(c.d.nodes)-1-c.opts.Replicas:] {
		for _, args := range [][]any{{"CONFIG", "SET", "min-replicas-to-write", minReplicas["min-replicas-to-write"]}, {"CONFIG", "REWRITE"}} {
			if err := n.Client().Do(ctx, args...).Err(); err != nil {
				return nil, fmt.Errorf("redistest: %v on %s: %w", args, n.Name(), err)
			}
		}
	}
	return m, nil
}

// ReshardTo moves key's slot from its master to master to, with
// redis-cli --cluster reshard: the source's slots from its first through
// key's (redis-cli takes a source's slots in order), and waits until the
// cluster has settled. It returns how many slots it moved; a
// failure's error carries redis-cli's output and every node's log.
func (c *Cluster) ReshardTo(ctx context.Context, key string, to *Node) (int, error) {
	src, err := c.MasterForSlotOf(ctx, key)
	if err != nil {
		return 0, err
	}
	slot, err := src.Client().ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return 0, fmt.Errorf("redistest: CLUSTER KEYSLOT on %s: %w", src.Name(), err)
	}
	ids := make([]string, 2)
	for i, n := range []*Node{src, to} {
		if ids[i], err = n.Client().ClusterMyID(ctx).Result(); err != nil {
			return 0, fmt.Errorf("redistest: CLUSTER MYID on %s: %w", n.Name(), err)
		}
	}
	slots, err := c.slots(ctx)
	if err != nil {
		return 0, err
	}
	moved, wasSpare := 0, true
	for _, r := range slots {
		switch r.Nodes[0].Addr {
		case src.Addr():
			if int64(r.Start) <= slot {
				moved += int(min(slot, int64(r.End))) - r.Start + 1
			}
		case to.Addr():
			wasSpare = false
		}
	}
	if err := c.cli(ctx, "reshard", src.Addr(), "--cluster-from", ids[0], "--cluster-to", ids[1],
		"--cluster-slots", strconv.Itoa(moved), "--cluster-yes"); err != nil {
		return 0, err
	}
	if wasSpare {
		c.spare--
	}
	if err := c.waitSettled(ctx); err != nil {
		return moved, c.d.failure("reshard to "+to.Addr(), err)
	}
	return moved, nil
}

// cli runs redis-cli --cluster args (bounded by the cluster's Timeout).
func (c *Cluster) cli(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	args = append([]string{"--cluster"}, args...)
	out, err := exec.CommandContext(ctx, c.cliBin, args...).CombinedOutput()
	if err != nil {
		return c.d.failure("redis-cli "+strings.Join(args, " "), fmt.Errorf("%w; output:\n%s", err, out))
	}
	return nil
}
