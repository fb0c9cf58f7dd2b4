package redistest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// ClusterOptions configures [StartCluster]. The zero value is three masters
// with one replica each, nothing persisted.
type ClusterOptions struct {
	// Masters is the number of masters; 0 means 3, the fewest redis-cli
	// accepts.
	Masters int
	// Replicas is the number of replicas of each master; 0 means 1, a
	// negative number none.
	Replicas int
	// NodeTimeout is cluster-node-timeout; 0 means 2s.
	NodeTimeout time.Duration
	// AppendOnly turns the append-only file on (appendfsync everysec unless
	// ServerConfig says otherwise); by default nothing is persisted.
	AppendOnly bool
	// ServerConfig holds redis.conf lines for every node, after (so
	// overriding) the harness's own.
	ServerConfig []string
	// Timeout bounds the start and each wait for the cluster to settle; 0
	// means a minute.
	Timeout time.Duration
	// TLS makes every node also take TLS clients, on a port of its own
	// ([Node.TLSAddr]), only with a certificate of a private CA
	// ([Cluster.TLS]; tls-auth-clients yes), and speak TLS on the cluster
	// bus and to its master (tls-cluster, tls-replication), showing a
	// client certificate of that CA. Clients on the TLS port are told the
	// nodes' TLS ports (CLUSTER SLOTS, MOVED, ASK), those on the plain
	// port the plain ones, which the harness itself uses.
	TLS bool
}

// Cluster is a running Redis Cluster on loopback, created by redis-cli
// --cluster create. Everything is killed when the test ends.
type Cluster struct {
	d    *deployment
	opts ClusterOptions
	tls  *ClusterTLS // nil without ClusterOptions.TLS

	serverBin, cliBin string
	conf, ports       []string // every node's configuration and port flags
	spare             int      // masters added (AddMaster) that serve no slot yet
}

// ClusterTLS is the CA of a cluster started with [ClusterOptions.TLS]:
// it signed every node's certificate and signs the clients' it takes
// ([CA.ClientCert]).
type ClusterTLS struct {
	CA     *CA
	CAFile string // CA's certificate (PEM)
}

// StartCluster starts the nodes of a Redis Cluster (see [ClusterOptions]) in
// a temporary directory, each with a free port and a free cluster bus port
// (cluster-port), joins them with redis-cli --cluster create, and returns
// once the cluster has settled (see [Cluster.WaitSettled]); on failure the
// test fails with redis-cli's output and every node's log. Without
// redis-server or redis-cli the test fails under CI=true and is skipped
// otherwise.
func StartCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	serverBin := need(t, "redis-server", "redis-server")
	cliBin := need(t, "redis-cli", "redis-tools")
	if opts.Masters == 0 {
		opts.Masters = 3
	}
	if opts.Masters < 3 {
		t.Fatalf("redistest: ClusterOptions.Masters = %d: redis-cli creates clusters of 3 masters or more", opts.Masters)
	}
	switch {
	case opts.Replicas == 0:
		opts.Replicas = 1
	case opts.Replicas < 0:
		opts.Replicas = 0
	}
	if opts.NodeTimeout <= 0 {
		opts.NodeTimeout = 2 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	c := &Cluster{d: newDeployment(t, "Redis Cluster"), opts: opts, serverBin: serverBin, cliBin: cliBin}
	// The processes must outlive t.Context, which ends before cleanups run.
	ctx := context.WithoutCancel(t.Context())
	conf := append(serverConf(opts.AppendOnly, nil),
		"cluster-enabled yes",
		`cluster-config-file "$NODE/nodes.conf"`,
		"cluster-node-timeout "+strconv.FormatInt(opts.NodeTimeout.Milliseconds(), 10),
		// CLUSTER SLOTS lists a replica only once its replication offset
		// is not 0, and an idle master moves the offset only with its pings
		// to the replicas: every 10 s by default.
		"repl-ping-replica-period 1",
	)
	ports := []string{"--cluster-port"}
	if opts.TLS {
		c.tls = newClusterTLS(t)
		conf = append(conf, c.tls.serverConf(t)...)
		ports = append(ports, "--tls-port")
	}
	conf = append(conf, opts.ServerConfig...) // last, so it wins
	c.conf, c.ports = conf, ports
	for i := range opts.Masters * (1 + opts.Replicas) {
		c.d.start(ctx, serverBin, fmt.Sprintf("node-%d", i), conf, nil, ports...)
	}
	createCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, c.Addrs()...),
		"--cluster-replicas", strconv.Itoa(opts.Replicas), "--cluster-yes")
	out, err := exec.CommandContext(createCtx, cliBin, args...).CombinedOutput()
	if err != nil {
		c.d.fatalf("redis-cli %s: %v; output:\n%s", strings.Join(args, " "), err, out)
	}
	if err := c.waitSettled(ctx); err != nil {
		c.d.fatalf("%v\nredis-cli's output:\n%s", err, out)
	}
	return c
}

// Addrs returns every node's address, in start order; any of them is a seed
// for a cluster client.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.d.nodes))
	for i, n := range c.d.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// TLSAddrs returns every node's TLS address, in start order, for a
// cluster started with [ClusterOptions.TLS] (else nil).
func (c *Cluster) TLSAddrs() []string {
	if c.tls == nil {
		return nil
	}
	addrs := make([]string, len(c.d.nodes))
	for i, n := range c.d.nodes {
		addrs[i] = n.TLSAddr()
	}
	return addrs
}

// TLS returns the CA of a cluster started with [ClusterOptions.TLS], or
// nil.
func (c *Cluster) TLS() *ClusterTLS { return c.tls }

// Nodes returns the nodes in start order ("node-0", "node-1", ...); which
// of them are masters is redis-cli's choice: see [Cluster.Masters].
func (c *Cluster) Nodes() []*Node { return slices.Clone(c.d.nodes) }

// Node returns the node at addr, or nil.
func (c *Cluster) Node(addr string) *Node { return c.d.node(addr) }

// ClusterOptions returns go-redis options for a cluster client seeded with
// every node.
func (c *Cluster) ClusterOptions() *redis.ClusterOptions {
	return &redis.ClusterOptions{Addrs: c.Addrs()}
}

// ClusterClient returns a new go-redis cluster client
// (redis.NewClusterClient with [Cluster.ClusterOptions]), closed when the
// test ends.
func (c *Cluster) ClusterClient() *redis.ClusterClient {
	cc := redis.NewClusterClient(c.ClusterOptions())
	c.d.t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Masters returns the nodes that serve slots, in slot order, as a running
// node reports them (CLUSTER SLOTS).
func (c *Cluster) Masters(ctx context.Context) ([]*Node, error) {
	slots, err := c.slots(ctx)
	if err != nil {
		return nil, err
	}
	var masters []*Node
	for _, s := range slots {
		n := c.Node(s.Nodes[0].Addr)
		if n == nil {
			return nil, fmt.Errorf("redistest: CLUSTER SLOTS names %s, none of this cluster's nodes", s.Nodes[0].Addr)
		}
		if !slices.Contains(masters, n) {
			masters = append(masters, n)
		}
	}
	return masters, nil
}

// MasterForSlotOf returns the master that serves key's hash slot.
func (c *Cluster) MasterForSlotOf(ctx context.Context, key string) (*Node, error) {
	s, err := c.slotNow(ctx, key)
	if err != nil {
		return nil, err
	}
	return c.Node(s.Nodes[0].Addr), nil
}

// slotNow returns the range of slots that holds key's slot, as a running
// node reports it.
func (c *Cluster) slotNow(ctx context.Context, key string) (redis.ClusterSlot, error) {
	n, err := c.running()
	if err != nil {
		return redis.ClusterSlot{}, err
	}
	slots, err := c.slots(ctx)
	if err != nil {
		return redis.ClusterSlot{}, err
	}
	return c.slotOf(ctx, n, slots, key)
}

// slotOf returns the range of slots, of those node n reports, that holds
// key's slot, its master one of this cluster's nodes.
func (c *Cluster) slotOf(ctx context.Context, n *Node, slots []redis.ClusterSlot, key string) (redis.ClusterSlot, error) {
	slot, err := n.Client().ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return redis.ClusterSlot{}, fmt.Errorf("redistest: CLUSTER KEYSLOT %q on %s: %w", key, n.Name(), err)
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) {
			if c.Node(s.Nodes[0].Addr) == nil {
				return s, fmt.Errorf("redistest: %s: slot %d is served by %s, none of this cluster's nodes", n.Name(), slot, s.Nodes[0].Addr)
			}
			return s, nil
		}
	}
	return redis.ClusterSlot{}, fmt.Errorf("redistest: %s: no node serves slot %d of %q", n.Name(), slot, key)
}

// ShardOf returns the master that serves key's hash slot and its
// replicas, as a running node reports them (CLUSTER SLOTS).
func (c *Cluster) ShardOf(ctx context.Context, key string) (master *Node, replicas []*Node, err error) {
	s, err := c.slotNow(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range s.Nodes[1:] {
		r := c.Node(n.Addr)
		if r == nil {
			return nil, nil, fmt.Errorf("redistest: CLUSTER SLOTS names %s, a replica of %q's slot, none of this cluster's nodes", n.Addr, key)
		}
		replicas = append(replicas, r)
	}
	return c.Node(s.Nodes[0].Addr), replicas, nil
}

// Failover runs CLUSTER FAILOVER (planned: the master pauses its clients
// until the replica has caught up, then hands the slots over) on a replica
// of the master of key's slot, and waits until the cluster has settled (see
// [Cluster.WaitSettled]) with that replica serving the slot and the old
// master its replica. It returns the old and the new master's addresses; a
// failure's error carries every node's log.
func (c *Cluster) Failover(ctx context.Context, key string) (oldMaster, newMaster string, err error) {
	return c.failover(ctx, key, "")
}

// ForceFailover is [Cluster.Failover] with CLUSTER FAILOVER FORCE: the
// replica does not wait for the master (which may be up and taking
// writes) to agree nor to be caught up; it is elected by the other masters
// and takes the slot over with what it has, so that whatever the master
// accepted that it had not applied is lost (the old master resyncs from
// it). Once the replica reports role:master, its replication stall, if
// any ([Node.StallReplication]), is lifted, so that it takes writes.
func (c *Cluster) ForceFailover(ctx context.Context, key string) (oldMaster, newMaster string, err error) {
	return c.failover(ctx, key, "FORCE")
}

// failover runs CLUSTER FAILOVER [option] on a replica of the master of
// key's slot (see Failover and ForceFailover).
func (c *Cluster) failover(ctx context.Context, key, option string) (oldMaster, newMaster string, err error) {
	if err := c.waitSettled(ctx); err != nil {
		return "", "", c.d.failure("failover: before", err)
	}
	s, err := c.slotNow(ctx, key)
	if err != nil {
		return "", "", err
	}
	if len(s.Nodes) < 2 {
		return s.Nodes[0].Addr, "", fmt.Errorf("redistest: master %s of %q's slot has no replica to fail over to", s.Nodes[0].Addr, key)
	}
	oldMaster, newMaster = s.Nodes[0].Addr, s.Nodes[1].Addr
	replica := c.Node(newMaster)
	args := []any{"CLUSTER", "FAILOVER"}
	if option != "" {
		args = append(args, option)
	}
	if err := replica.Client().Do(ctx, args...).Err(); err != nil {
		return oldMaster, "", fmt.Errorf("redistest: CLUSTER FAILOVER %s on %s: %w", option, newMaster, err)
	}
	if option == "FORCE" {
		err := poll(ctx, c.opts.Timeout, newMaster+" to report role:master", func() error {
			role, err := replica.Info(ctx, "replication")
			if err != nil {
				return err
			}
			if role["role"] != "master" {
				return fmt.Errorf("%s (%s) is still role:%s", newMaster, replica.Name(), role["role"])
			}
			return nil
		})
		if err == nil {
			err = replica.ResumeReplication(ctx)
		}
		if err != nil {
			return oldMaster, "", c.d.failure("forced failover of "+oldMaster, err)
		}
	}
	err = poll(ctx, c.opts.Timeout, "the failover of "+oldMaster+" to "+newMaster, func() error {
		if err := c.state(ctx); err != nil {
			return err
		}
		return c.servedBy(ctx, key, newMaster)
	})
	if err != nil {
		return oldMaster, "", c.d.failure("failover of "+oldMaster, err)
	}
	return oldMaster, newMaster, nil
}

// KillMasterOf kills the master of key's slot with SIGKILL and waits until
// the cluster has promoted a replica of it (after cluster-node-timeout):
// every running node reports cluster_state:ok and names that running
// replica as the slot's master. The killed node stays down: [Node.Restart]
// brings it back (from its nodes.conf, as a replica of the new master),
// then [Cluster.WaitSettled]. It returns the old and the new master's
// addresses; a failure's error carries every node's log.
func (c *Cluster) KillMasterOf(ctx context.Context, key string) (oldMaster, newMaster string, err error) {
	kill := func(m *Node) error { m.Kill(); return nil }
	return c.promoteAround(ctx, key, "kill", func(s redis.ClusterSlot) []string { return []string{s.Nodes[0].Addr} }, kill, nil)
}

// CutOffMasterOf cuts the master of key's slot off in a minority with all
// its replicas but one: it pauses them (SIGSTOP, see [Node.Pause]) until
// the cluster has promoted that one replica (after cluster-node-timeout;
// every other node reports cluster_state:ok and names it as the slot's
// master), then lets them go on together (SIGCONT): the old master comes
// back believing it is the master, with its clients' connections open, the
// commands they sent meanwhile, and the replicas paused with it still
// attached, until the cluster bus tells them of the promotion and they
// become replicas of the new master. It returns once they are continued,
// not settled: call [Cluster.WaitSettled] for that. It returns the old and
// the new master's addresses; a failure's error carries every node's log.
func (c *Cluster) CutOffMasterOf(ctx context.Context, key string) (oldMaster, newMaster string, err error) {
	minority := func(s redis.ClusterSlot) []string {
		addrs := []string{s.Nodes[0].Addr}
		for _, r := range s.Nodes[2:] { // s.Nodes[1] stays with the majority
			addrs = append(addrs, r.Addr)
		}
		return addrs
	}
	return c.promoteAround(ctx, key, "cut off", minority, (*Node).Pause, (*Node).Continue)
}

// promoteAround waits for the cluster to settle, does down to the nodes
// that group picks of those serving key's slot (its master first), waits
// until another node is promoted in the master's place (servedBy), and then
// does up to them (if up is not nil).
func (c *Cluster) promoteAround(ctx context.Context, key, what string, group func(redis.ClusterSlot) []string, down, up func(*Node) error) (oldMaster, newMaster string, err error) {
	if err := c.waitSettled(ctx); err != nil {
		return "", "", c.d.failure(what+" the master: before", err)
	}
	s, err := c.slotNow(ctx, key)
	if err != nil {
		return "", "", err
	}
	oldMaster = s.Nodes[0].Addr
	var nodes []*Node
	for _, addr := range group(s) {
		m := c.Node(addr)
		if m == nil {
			return oldMaster, "", fmt.Errorf("redistest: %s serves %q's slot but is none of this cluster's nodes", addr, key)
		}
		if err := down(m); err != nil {
			return oldMaster, "", err
		}
		nodes = append(nodes, m)
	}
	err = poll(ctx, c.opts.Timeout, "a replica promoted in place of "+oldMaster, func() error {
		s, err := c.slotNow(ctx, key)
		if err != nil {
			return err
		}
		if s.Nodes[0].Addr == oldMaster {
			return fmt.Errorf("the cluster still names %s as the master of %q's slot", oldMaster, key)
		}
		newMaster = s.Nodes[0].Addr
		return c.servedBy(ctx, key, newMaster)
	})
	if up != nil {
		for _, m := range nodes {
			err = errors.Join(err, up(m))
		}
	}
	if err != nil {
		return oldMaster, "", c.d.failure("promotion after "+what+" master "+oldMaster, err)
	}
	return oldMaster, newMaster, nil
}

// servedBy checks once that every running node reports cluster_state:ok and
// names master, running, as the master of key's slot.
func (c *Cluster) servedBy(ctx context.Context, key, master string) error {
	if m := c.Node(master); m == nil || !m.p.answering() {
		return permanent{fmt.Errorf("%s, the master of %q's slot, is not running", master, key)}
	}
	return c.eachView(ctx, func(n *Node, ci map[string]string, slots []redis.ClusterSlot) error {
		if st := ci["cluster_state"]; st != "ok" {
			return fmt.Errorf("%s (%s): cluster_state:%s", n.Addr(), n.Name(), st)
		}
		sl, err := c.slotOf(ctx, n, slots, key)
		if err != nil {
			return err
		}
		if sl.Nodes[0].Addr != master {
			return fmt.Errorf("%s (%s) names %s as the master of %q's slot, want %s", n.Addr(), n.Name(), sl.Nodes[0].Addr, key, master)
		}
		return nil
	})
}

// FlushAll runs FLUSHALL on every master, so the whole cluster loses its
// data; replicas follow through replication.
func (c *Cluster) FlushAll(ctx context.Context) error {
	masters, err := c.Masters(ctx)
	if err != nil {
		return err
	}
	for _, m := range masters {
		if err := m.Client().FlushAll(ctx).Err(); err != nil {
			return fmt.Errorf("redistest: FLUSHALL on %s (%s): %w", m.Addr(), m.Name(), err)
		}
	}
	return nil
}

// WaitSettled waits until every running node reports cluster_state:ok with
// all 16384 slots assigned and ok, knows every node, and returns the same
// slot map (CLUSTER SLOTS): the configured number of masters, each with its
// replicas; and every replica's link to its master is up. A failure's error
// carries every node's log.
func (c *Cluster) WaitSettled(ctx context.Context) error {
	if err := c.waitSettled(ctx); err != nil {
		return c.d.failure("wait for the cluster to settle", err)
	}
	return nil
}

// Logs returns every node's log (the last lines of each), for a test's own
// failure messages.
func (c *Cluster) Logs() string { return c.d.logs() }

func (c *Cluster) running() (*Node, error) {
	for _, n := range c.d.nodes {
		if n.p.answering() {
			return n, nil
		}
	}
	return nil, errors.New("redistest: no cluster node running")
}

// slots returns the slot map as a running node reports it, in slot order.
func (c *Cluster) slots(ctx context.Context) ([]redis.ClusterSlot, error) {
	n, err := c.running()
	if err != nil {
		return nil, err
	}
	slots, err := n.Client().ClusterSlots(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("redistest: CLUSTER SLOTS on %s: %w", n.Addr(), err)
	}
	slices.SortFunc(slots, func(a, b redis.ClusterSlot) int { return a.Start - b.Start })
	return slots, nil
}

func (c *Cluster) waitSettled(ctx context.Context) error {
	return poll(ctx, c.opts.Timeout, "Redis Cluster to settle", func() error { return c.state(ctx) })
}

// state checks once that the cluster is settled (see [Cluster.WaitSettled])
// or says what is not settled yet.
func (c *Cluster) state(ctx context.Context) error {
	var want string
	err := c.eachView(ctx, func(n *Node, ci map[string]string, slots []redis.ClusterSlot) error {
		all := strconv.Itoa(clusterSlots)
		if ci["cluster_state"] != "ok" || ci["cluster_slots_assigned"] != all || ci["cluster_slots_ok"] != all ||
			ci["cluster_known_nodes"] != strconv.Itoa(len(c.d.nodes)) {
			return fmt.Errorf("%s (%s): cluster_state:%s, %s slots assigned, %s ok, %s known nodes; want ok, %d, %d, %d",
				n.Addr(), n.Name(), ci["cluster_state"], ci["cluster_slots_assigned"], ci["cluster_slots_ok"], ci["cluster_known_nodes"],
				clusterSlots, clusterSlots, len(c.d.nodes))
		}
		m, err := c.slotMap(slots)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", n.Addr(), n.Name(), err)
		}
		if want == "" {
			want = m
		} else if m != want {
			return fmt.Errorf("%s (%s) sees slot map %s, another node %s", n.Addr(), n.Name(), m, want)
		}
		role, err := info(ctx, n.Client(), "replication")
		if err != nil {
			return err
		}
		if role["role"] == "slave" && role["master_link_status"] != "up" {
			return fmt.Errorf("replica %s (%s): link to its master %s", n.Addr(), n.Name(), role["master_link_status"])
		}
		return nil
	})
	if err != nil {
		return err
	}
	if want == "" {
		return permanent{errors.New("no cluster node running")}
	}
	return nil
}

// eachView calls check with each running node's CLUSTER INFO fields and
// CLUSTER SLOTS, in start order, until one returns an error.
func (c *Cluster) eachView(ctx context.Context, check func(n *Node, info map[string]string, slots []redis.ClusterSlot) error) error {
	for _, n := range c.d.nodes {
		if !n.p.answering() {
			continue
		}
		s, err := n.Client().ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("CLUSTER INFO on %s (%s): %w", n.Addr(), n.Name(), err)
		}
		slots, err := n.Client().ClusterSlots(ctx).Result()
		if err != nil {
			return fmt.Errorf("CLUSTER SLOTS on %s (%s): %w", n.Addr(), n.Name(), err)
		}
		if err := check(n, infoFields(s), slots); err != nil {
			return err
		}
	}
	return nil
}

// slotMap checks that slots cover every slot once, served by the configured
// number of masters each with its replicas, and returns it as text to
// compare between nodes.
func (c *Cluster) slotMap(slots []redis.ClusterSlot) (string, error) {
	slices.SortFunc(slots, func(a, b redis.ClusterSlot) int { return a.Start - b.Start })
	var b strings.Builder
	next := 0
	masters := map[string]bool{}
	for _, s := range slots {
		if s.Start != next {
			return "", fmt.Errorf("slots %d-%d not served", next, s.Start-1)
		}
		next = s.End + 1
		if len(s.Nodes) != 1+c.opts.Replicas {
			return "", fmt.Errorf("slots %d-%d served by %d nodes, want %d", s.Start, s.End, len(s.Nodes), 1+c.opts.Replicas)
		}
		addrs := make([]string, len(s.Nodes))
		for i, n := range s.Nodes {
			addrs[i] = n.Addr
		}
		slices.Sort(addrs[1:])
		masters[addrs[0]] = true
		fmt.Fprintf(&b, "%d-%d:%s ", s.Start, s.End, strings.Join(addrs, ","))
	}
	if next != clusterSlots {
		return "", fmt.Errorf("slots %d-%d not served", next, clusterSlots-1)
	}
	if want := c.opts.Masters - c.spare; len(masters) != want {
		return "", fmt.Errorf("%d masters serve slots, want %d", len(masters), want)
	}
	return strings.TrimSpace(b.String()), nil
}
