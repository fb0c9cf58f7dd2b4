package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name under which the sentinels of [StartSentinel]
// monitor the master.
const MasterName = "mymaster"

// sentinels is how many sentinels StartSentinel runs; the quorum is 2.
const sentinels = 3

// SentinelOptions configures [StartSentinel]. The zero value is one master,
// one replica and three sentinels, nothing persisted.
type SentinelOptions struct {
	// Replicas is the number of replicas; 0 means 1.
	Replicas int
	// AppendOnly turns the append-only file on (appendfsync everysec unless
	// ServerConfig says otherwise); by default nothing is persisted.
	AppendOnly bool
	// ServerConfig holds redis.conf lines for every data node, the master
	// and each replica alike since a replica becomes the master on failover:
	// for example "min-replicas-to-write 1" and "min-replicas-max-lag 10".
	// They come after (so override) the harness's own lines.
	ServerConfig []string
	// DownAfter is the sentinels' down-after-milliseconds; 0 means 1s.
	DownAfter time.Duration
	// FailoverTimeout is the sentinels' failover-timeout; 0 means 5s (3
	// minutes with ReplicationProxy). A failed election is retried after
	// twice this.
	FailoverTimeout time.Duration
	// ReplicationProxy puts a [Proxy] on each replica's replication link:
	// its replicaof names the proxy, which forwards to the first master,
	// and [Sentinel.Proxy] returns it, for a test to stall the replication
	// stream. Sentinel sees a replica whose master address is not the
	// master's and points it at the master itself after failover-timeout
	// (+fix-slave-config): hence the longer default.
	ReplicationProxy bool
	// Timeout bounds the start and each wait for the deployment to settle;
	// 0 means a minute.
	Timeout time.Duration
}

// Sentinel is a running Redis Sentinel deployment on loopback: data nodes
// (one master, the others its replicas) and three sentinels monitoring the
// master as [MasterName] with a quorum of 2. Everything is killed when the
// test ends.
type Sentinel struct {
	d         *deployment
	opts      SentinelOptions
	servers   []*Node
	sentinels []*Node
	proxies   map[string]*Proxy // by replica address (ReplicationProxy)
}

// StartSentinel starts a Sentinel deployment (see [SentinelOptions]) in a
// temporary directory and returns once it has settled (see
// [Sentinel.WaitSettled]); on failure the test fails with every process's
// log. It needs Redis 7 or later: the sentinels' internal periods are
// shortened with SENTINEL DEBUG so that a failover settles in seconds. Without
// redis-server or redis-sentinel the test fails under CI=true and is skipped
// otherwise.
func StartSentinel(t testing.TB, opts SentinelOptions) *Sentinel {
	t.Helper()
	serverBin := need(t, "redis-server", "redis-server")
	sentinelBin := need(t, "redis-sentinel", "redis-sentinel")
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	if opts.DownAfter <= 0 {
		opts.DownAfter = time.Second
	}
	if opts.FailoverTimeout <= 0 {
		opts.FailoverTimeout = 5 * time.Second
		if opts.ReplicationProxy {
			opts.FailoverTimeout = 3 * time.Minute
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	s := &Sentinel{d: newDeployment(t, "Sentinel deployment"), opts: opts, proxies: map[string]*Proxy{}}
	// The processes must outlive t.Context, which ends before cleanups run.
	ctx := context.WithoutCancel(t.Context())
	conf := serverConf(opts.AppendOnly, opts.ServerConfig)
	master := s.d.start(ctx, serverBin, "redis-0", conf, nil)
	s.servers = append(s.servers, master)
	host, port, _ := net.SplitHostPort(master.Addr())
	for i := 1; i <= opts.Replicas; i++ {
		var proxy *Proxy
		from := "replicaof " + host + " " + port
		if opts.ReplicationProxy {
			proxy = StartProxy(t, master.Addr())
			ph, pp, _ := net.SplitHostPort(proxy.Addr())
			from = "replicaof " + ph + " " + pp
		}
		replica := s.d.start(ctx, serverBin, fmt.Sprintf("redis-%d", i), append(slices.Clone(conf), from), nil)
		s.servers = append(s.servers, replica)
		if proxy != nil {
			s.proxies[replica.Addr()] = proxy
		}
	}
	sentinelConf := []string{
		fmt.Sprintf("sentinel monitor %s %s %s 2", MasterName, host, port),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", MasterName, opts.DownAfter.Milliseconds()),
		fmt.Sprintf("sentinel failover-timeout %s %d", MasterName, opts.FailoverTimeout.Milliseconds()),
	}
	for i := range sentinels {
		s.sentinels = append(s.sentinels, s.d.start(ctx, sentinelBin, fmt.Sprintf("sentinel-%d", i), sentinelConf, tuneSentinel))
	}
	if _, err := s.waitSettled(ctx, func(m string) error {
		if m != master.Addr() {
			return fmt.Errorf("sentinels name %s as master, want %s", m, master.Addr())
		}
		return nil
	}); err != nil {
		s.d.fatalf("%v", err)
	}
	return s
}

// tuneSentinel shortens a sentinel's internal periods with SENTINEL DEBUG
// (Redis 7): INFO to every node every 500 ms instead of 10 s, hello messages
// every 250 ms instead of 2 s (a demoted master that still says role:master
// is reconfigured four hello periods after a sentinel notices it), and the
// down-state questions to the other sentinels every 500 ms instead of 1 s.
// A planned failover then settles in about 2.5 s instead of 10 to 20.
func tuneSentinel(ctx context.Context, n *Node) error {
	err := n.Client().Do(ctx, "SENTINEL", "DEBUG",
		"info-period", 500, "publish-period", 250, "ask-period", 500).Err()
	if err != nil {
		return fmt.Errorf("shorten the periods of %s (SENTINEL DEBUG needs Redis 7): %w", n.Name(), err)
	}
	return nil
}

// Proxy returns the proxy on replica's replication link (see
// [SentinelOptions.ReplicationProxy]), or nil. A replica keeps its proxy
// until it is promoted or Sentinel points it elsewhere.
func (s *Sentinel) Proxy(replica *Node) *Proxy { return s.proxies[replica.Addr()] }

// replicatesFrom reports whether the data node at replica, replicating from
// from, replicates from master: directly or through its proxy to it.
func (s *Sentinel) replicatesFrom(replica, from, master string) bool {
	if from == master {
		return true
	}
	p := s.proxies[replica]
	return p != nil && p.Addr() == from && p.Target() == master
}

// MasterName returns the name the sentinels monitor, [MasterName].
func (s *Sentinel) MasterName() string { return MasterName }

// SentinelAddrs returns the sentinels' addresses.
func (s *Sentinel) SentinelAddrs() []string {
	addrs := make([]string, len(s.sentinels))
	for i, n := range s.sentinels {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Servers returns the data nodes in the order they were started: "redis-0"
// was the first master, the others its replicas. Roles change on failover;
// [Sentinel.Master] and [Sentinel.Replicas] tell the current ones.
func (s *Sentinel) Servers() []*Node { return slices.Clone(s.servers) }

// Sentinels returns the three sentinel processes.
func (s *Sentinel) Sentinels() []*Node { return slices.Clone(s.sentinels) }

// Node returns the data node or sentinel at addr, or nil.
func (s *Sentinel) Node(addr string) *Node { return s.d.node(addr) }

// MasterAddr returns the master's address as the running sentinels report
// it: the answer of a majority of the three, or an error when there is none
// (during a failover, for example).
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	count := map[string]int{}
	var errs []error
	for _, sn := range s.sentinels {
		if !sn.Running() {
			continue
		}
		m, err := sentinelMaster(ctx, sn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		count[m]++
		if count[m] > sentinels/2 {
			return m, nil
		}
	}
	return "", fmt.Errorf("redistest: no master named by a majority of the sentinels (answers %v): %w", count, errors.Join(errs...))
}

// Master returns the data node the sentinels name as master (see
// [Sentinel.MasterAddr]).
func (s *Sentinel) Master(ctx context.Context) (*Node, error) {
	addr, err := s.MasterAddr(ctx)
	if err != nil {
		return nil, err
	}
	if n := s.Node(addr); n != nil {
		return n, nil
	}
	return nil, fmt.Errorf("redistest: the sentinels name %s as master, which is none of this deployment's nodes", addr)
}

// Replicas returns the running data nodes other than the one the sentinels
// name as master.
func (s *Sentinel) Replicas(ctx context.Context) ([]*Node, error) {
	addr, err := s.MasterAddr(ctx)
	if err != nil {
		return nil, err
	}
	var replicas []*Node
	for _, n := range s.servers {
		if n.Addr() != addr && n.Running() {
			replicas = append(replicas, n)
		}
	}
	return replicas, nil
}

// FailoverOptions returns go-redis options that find the master through the
// sentinels.
func (s *Sentinel) FailoverOptions() *redis.FailoverOptions {
	return &redis.FailoverOptions{MasterName: MasterName, SentinelAddrs: s.SentinelAddrs()}
}

// FailoverClient returns a new sentinel-aware go-redis client
// (redis.NewFailoverClient with [Sentinel.FailoverOptions]), closed when the
// test ends.
func (s *Sentinel) FailoverClient() *redis.Client {
	c := redis.NewFailoverClient(s.FailoverOptions())
	s.d.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Failover runs SENTINEL FAILOVER (a planned switch, the old master still
// up) and waits until the deployment has settled around a new master: every
// sentinel names it, it reports role:master, and the old master reports
// role:slave with its link to the new one up. It first waits for the
// deployment to be settled, so that the sentinels know a replica to promote.
// It returns the old and the new master's addresses; a failure's error
// carries every process's log.
func (s *Sentinel) Failover(ctx context.Context) (oldMaster, newMaster string, err error) {
	old, err := s.waitSettled(ctx, nil)
	if err != nil {
		return "", "", s.d.failure("failover: before", err)
	}
	err = poll(ctx, s.opts.Timeout, "SENTINEL FAILOVER", func() error {
		for _, sn := range s.sentinels {
			if !sn.Running() {
				continue
			}
			err := sn.sentinelClient().Failover(ctx, MasterName).Err()
			// INPROG: an earlier attempt whose answer was lost has started.
			if err != nil && !strings.HasPrefix(err.Error(), "INPROG") {
				return fmt.Errorf("%s: %w", sn.Name(), err)
			}
			return nil
		}
		return permanent{errors.New("no sentinel running")}
	})
	if err != nil {
		return old, "", s.d.failure("failover of "+old, err)
	}
	nm, err := s.waitSettled(ctx, notMaster(old))
	if err != nil {
		return old, "", s.d.failure("failover of "+old, err)
	}
	return old, nm, nil
}

// KillMaster kills the current master with SIGKILL and waits until the
// sentinels have promoted a replica and the deployment has settled around it
// (the killed node stays down: [Node.Restart] brings it back, and Sentinel
// turns it into a replica). With one replica and "min-replicas-to-write 1"
// in ServerConfig, the new master refuses writes (NOREPLICAS) until the
// killed node is back: restart it, or start with Replicas: 2. It returns the
// old and the new master's addresses; a failure's error carries every
// process's log.
func (s *Sentinel) KillMaster(ctx context.Context) (oldMaster, newMaster string, err error) {
	old, err := s.waitSettled(ctx, nil)
	if err != nil {
		return "", "", s.d.failure("kill the master: before", err)
	}
	s.Node(old).Kill()
	nm, err := s.waitSettled(ctx, notMaster(old))
	if err != nil {
		return old, "", s.d.failure("promotion after killing master "+old, err)
	}
	return old, nm, nil
}

// WaitSettled waits until the deployment is at rest: every running sentinel
// names the same running master, sees it up with no failover in progress,
// knows the other sentinels and sees every other running data node as a
// replica with a working link; the master reports role:master and every
// other running data node role:slave, replicating from it with its link up.
// Use it after [Node.Restart]; a failure's error carries every process's
// log.
func (s *Sentinel) WaitSettled(ctx context.Context) error {
	if _, err := s.waitSettled(ctx, nil); err != nil {
		return s.d.failure("wait for the deployment to settle", err)
	}
	return nil
}

// Logs returns every process's log (the last lines of each), for a test's
// own failure messages.
func (s *Sentinel) Logs() string { return s.d.logs() }

func notMaster(old string) func(string) error {
	return func(m string) error {
		if m == old {
			return fmt.Errorf("the sentinels still name %s as master", old)
		}
		return nil
	}
}

// waitSettled waits until state finds the deployment settled with a master
// that accept (if not nil) accepts, and returns that master's address.
func (s *Sentinel) waitSettled(ctx context.Context, accept func(master string) error) (string, error) {
	var master string
	err := poll(ctx, s.opts.Timeout, "Sentinel deployment to settle", func() error {
		m, err := s.state(ctx)
		if err != nil {
			return err
		}
		if accept != nil {
			if err := accept(m); err != nil {
				return err
			}
		}
		master = m
		return nil
	})
	return master, err
}

// state checks once that the deployment is settled (see
// [Sentinel.WaitSettled]) and returns its master's address, or says what is
// not settled yet.
func (s *Sentinel) state(ctx context.Context) (string, error) {
	var running []*Node
	master := ""
	for _, sn := range s.sentinels {
		if !sn.Running() {
			continue
		}
		running = append(running, sn)
		m, err := sentinelMaster(ctx, sn)
		if err != nil {
			return "", err
		}
		if master == "" {
			master = m
		} else if m != master {
			return "", fmt.Errorf("%s names master %s, %s names %s", running[0].Name(), master, sn.Name(), m)
		}
	}
	if master == "" {
		return "", permanent{errors.New("no sentinel running")}
	}
	mn := s.Node(master)
	if mn == nil || !mn.Running() {
		return "", fmt.Errorf("the sentinels name %s as master, which is not running", master)
	}
	var replicas []*Node
	for _, n := range s.servers {
		if n != mn && n.Running() {
			replicas = append(replicas, n)
		}
	}
	for _, sn := range running {
		if err := sentinelView(ctx, sn, master, replicas, s.replicatesFrom); err != nil {
			return "", err
		}
	}
	role, err := info(ctx, mn.Client(), "replication")
	if err != nil {
		return "", err
	}
	if role["role"] != "master" {
		return "", fmt.Errorf("master %s (%s) reports role:%s", master, mn.Name(), role["role"])
	}
	for _, r := range replicas {
		role, err := info(ctx, r.Client(), "replication")
		if err != nil {
			return "", err
		}
		if got := net.JoinHostPort(role["master_host"], role["master_port"]); role["role"] != "slave" || !s.replicatesFrom(r.Addr(), got, master) || role["master_link_status"] != "up" {
			return "", fmt.Errorf("%s (%s) reports role:%s master %s link %s, want a replica of %s with its link up",
				r.Addr(), r.Name(), role["role"], got, role["master_link_status"], master)
		}
	}
	return master, nil
}

// sentinelMaster returns the master's address as sentinel sn reports it.
func sentinelMaster(ctx context.Context, sn *Node) (string, error) {
	hp, err := sn.sentinelClient().GetMasterAddrByName(ctx, MasterName).Result()
	if err != nil {
		return "", fmt.Errorf("ask %s for the master: %w", sn.Name(), err)
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("ask %s for the master: answer %q", sn.Name(), hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// sentinelView checks that sentinel sn sees master up with no failover in
// progress, knows the other sentinels, and sees each of replicas as a
// healthy replica of master (replicatesFrom tells whether a replica's
// master address, a proxy's, stands for it).
func sentinelView(ctx context.Context, sn *Node, master string, replicas []*Node, replicatesFrom func(replica, from, master string) bool) error {
	c := sn.sentinelClient()
	m, err := c.Master(ctx, MasterName).Result()
	if err != nil {
		return fmt.Errorf("ask %s about the master: %w", sn.Name(), err)
	}
	if m["flags"] != "master" {
		return fmt.Errorf("%s sees master %s with flags %q", sn.Name(), master, m["flags"])
	}
	if m["num-other-sentinels"] != strconv.Itoa(sentinels-1) {
		return fmt.Errorf("%s knows %s other sentinels, want %d", sn.Name(), m["num-other-sentinels"], sentinels-1)
	}
	rs, err := c.Replicas(ctx, MasterName).Result()
	if err != nil {
		return fmt.Errorf("ask %s about the replicas: %w", sn.Name(), err)
	}
	seen := map[string]map[string]string{}
	for _, r := range rs {
		seen[net.JoinHostPort(r["ip"], r["port"])] = r
	}
	for _, r := range replicas {
		e, ok := seen[r.Addr()]
		if !ok {
			return fmt.Errorf("%s does not know replica %s (%s) yet", sn.Name(), r.Addr(), r.Name())
		}
		if got := net.JoinHostPort(e["master-host"], e["master-port"]); e["flags"] != "slave" || e["master-link-status"] != "ok" || !replicatesFrom(r.Addr(), got, master) {
			return fmt.Errorf("%s sees replica %s (%s) with flags %q, link %q, master %s; want a healthy replica of %s",
				sn.Name(), r.Addr(), r.Name(), e["flags"], e["master-link-status"], got, master)
		}
	}
	return nil
}
