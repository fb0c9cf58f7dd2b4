package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Node is one process of a deployment started by [StartSentinel] or
// [StartCluster]: a redis-server or a redis-sentinel on 127.0.0.1. Its
// address stays the same across [Node.Kill] and [Node.Restart].
type Node struct {
	p          *proc
	afterStart func(ctx context.Context, n *Node) error // after every start; sentinels set their timings

	mu       sync.Mutex
	client   *redis.Client
	sentinel *redis.SentinelClient
}

// Name returns the node's name in logs and errors: "redis-0" (the first
// master of a Sentinel deployment), "redis-1", "sentinel-0", "node-3".
func (n *Node) Name() string { return n.p.name }

// Addr returns the node's address, 127.0.0.1:port.
func (n *Node) Addr() string { return n.p.addr }

// TLSAddr returns the node's TLS address, 127.0.0.1:port, for a node of a
// cluster started with [ClusterOptions.TLS]; else "".
func (n *Node) TLSAddr() string {
	i := slices.Index(n.p.args, "--tls-port")
	if i < 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", n.p.args[i+1])
}

// Running reports whether the node's process is up.
func (n *Node) Running() bool { return n.p.running() }

// Log returns everything the process has logged, across restarts.
func (n *Node) Log() string { return n.p.log.String() }

// Client returns a plain (not cluster- or sentinel-aware) go-redis client to
// this node, for assertions on it; it is closed when the test ends.
func (n *Node) Client() *redis.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.client == nil {
		n.client = redis.NewClient(nodeOptions(n.Addr()))
	}
	return n.client
}

// Info returns the fields of one section of the node's INFO ("replication":
// role, master_repl_offset, second_repl_offset, ...).
func (n *Node) Info(ctx context.Context, section string) (map[string]string, error) {
	return info(ctx, n.Client(), section)
}

// sentinelClient returns a client for the SENTINEL commands of a sentinel
// node.
func (n *Node) sentinelClient() *redis.SentinelClient {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sentinel == nil {
		n.sentinel = redis.NewSentinelClient(nodeOptions(n.Addr()))
	}
	return n.sentinel
}

func nodeOptions(addr string) *redis.Options {
	return &redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}
}

// Pause stops the process with SIGSTOP: it keeps its connections open and
// the commands sent to it queue up unanswered, as for a node cut off from
// everyone, until [Node.Continue]. Kill and Restart work on a paused node.
func (n *Node) Pause() error { return n.p.pause(true) }

// Continue lets a paused process go on with SIGCONT.
func (n *Node) Continue() error { return n.p.pause(false) }

// StallReplication makes a replica fall behind while it stays alive:
// CLIENT PAUSE WRITE (for a day) stops it applying the commands its master
// sends, which it still reads, while it stays connected, answers pings and
// the cluster bus, and acknowledges every second (REPLCONF ACK) the offset
// it applied, so that WAIT on the master counts it no more while the master
// still sees it online with a small lag. No timing is involved: Redis's own
// tests assert that a paused replica's offset does not grow ("Test when
// replica paused, offset would not grow", tests/unit/pause.tcl). Promoted
// while stalled, it drops what it read but did not apply (its offset and
// data stay as they were) and keeps refusing writes, as paused, until
// [Node.ResumeReplication]. Reads on it still answer.
func (n *Node) StallReplication(ctx context.Context) error {
	if err := n.Client().Do(ctx, "CLIENT", "PAUSE", (24 * time.Hour).Milliseconds(), "WRITE").Err(); err != nil {
		return fmt.Errorf("redistest: stall the replication of %s: %w", n.Name(), err)
	}
	return nil
}

// ResumeReplication lifts [Node.StallReplication] (CLIENT UNPAUSE): a
// replica applies what it held, a promoted one takes writes.
func (n *Node) ResumeReplication(ctx context.Context) error {
	if err := n.Client().ClientUnpause(ctx).Err(); err != nil {
		return fmt.Errorf("redistest: resume the replication of %s: %w", n.Name(), err)
	}
	return nil
}

// Kill ends the process with SIGKILL and waits until it has exited. It does
// nothing if the node is not running.
func (n *Node) Kill() { n.p.kill() }

// Restart kills the process if it runs (SIGKILL, like a crash) and starts it
// again on the same address from its configuration file, as Sentinel or the
// cluster may have rewritten it (a killed master comes back as what its file
// says; Sentinel then turns it into a replica). With empty, its RDB and AOF
// files are deleted first (a cluster node keeps its nodes.conf). A restart
// does not wait for the deployment to settle: call WaitSettled for that.
func (n *Node) Restart(ctx context.Context, empty bool) error {
	if err := n.p.restart(ctx, empty); err != nil {
		return fmt.Errorf("redistest: restart %s: %w", n.Name(), err)
	}
	if n.afterStart != nil {
		if err := n.afterStart(ctx, n); err != nil {
			return fmt.Errorf("redistest: restart %s: %w", n.Name(), err)
		}
	}
	return nil
}

// stop kills the process and closes the node's clients.
func (n *Node) stop() {
	n.mu.Lock()
	if n.client != nil {
		_ = n.client.Close()
	}
	if n.sentinel != nil {
		_ = n.sentinel.Close()
	}
	n.client, n.sentinel = nil, nil
	n.mu.Unlock()
	n.p.kill()
}

// startNode starts bin as the node name in its own directory under dir,
// with a configuration file made of conf (which the process may rewrite;
// "$NODE" in it stands for the node's directory, "$DATA" for its data
// directory) and the ports launch picks, and runs afterStart once it
// answers.
func startNode(ctx context.Context, bin, dir, name string, conf []string, afterStart func(context.Context, *Node) error, portFlags ...string) (*Node, error) {
	nodeDir := filepath.Join(dir, name)
	data := filepath.Join(nodeDir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	file := filepath.Join(nodeDir, "redis.conf")
	text := strings.NewReplacer("$DATA", data, "$NODE", nodeDir).Replace(strings.Join(conf, "\n")) + "\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	n := &Node{afterStart: afterStart, p: &proc{name: name, bin: bin, dir: nodeDir, dataDir: data, args: []string{file}}}
	if err := launch(ctx, n.p, portFlags...); err != nil {
		return n, err
	}
	if afterStart != nil {
		if err := afterStart(ctx, n); err != nil {
			return n, fmt.Errorf("start %s: %w", name, err)
		}
	}
	return n, nil
}

// serverConf returns the configuration lines of a data node: data in its
// data directory, persistence off unless appendOnly, replicas synced at once
// (no diskless-sync delay), then the caller's lines, which win.
func serverConf(appendOnly bool, extra []string) []string {
	aof := "no"
	if appendOnly {
		aof = "yes"
	}
	conf := []string{
		`dir "$DATA"`,
		`save ""`,
		"appendonly " + aof,
		"appendfsync everysec",
		"repl-diskless-sync-delay 0",
	}
	return append(conf, extra...)
}

// deployment is what a Sentinel deployment and a Cluster share: their test,
// their directory and every process, in start order.
type deployment struct {
	t     testing.TB
	what  string // in messages: "Sentinel deployment", "Redis Cluster"
	dir   string
	nodes []*Node
}

// newDeployment returns an empty deployment whose processes are killed when
// the test ends.
func newDeployment(t testing.TB, what string) *deployment {
	d := &deployment{t: t, what: what, dir: t.TempDir()}
	t.Cleanup(d.stop)
	return d
}

// start starts a node (see startNode) or fails the test with every log.
func (d *deployment) start(ctx context.Context, bin, name string, conf []string, afterStart func(context.Context, *Node) error, portFlags ...string) *Node {
	d.t.Helper()
	n, err := startNode(ctx, bin, d.dir, name, conf, afterStart, portFlags...)
	if n != nil {
		d.nodes = append(d.nodes, n)
	}
	if err != nil {
		d.fatalf("%v", err)
	}
	return n
}

// fatalf fails the test's start of the deployment, with every log.
func (d *deployment) fatalf(format string, args ...any) {
	d.t.Helper()
	d.t.Fatalf("redistest: start %s: %s\n%s", d.what, fmt.Sprintf(format, args...), d.logs())
}

// failure returns err from action with every log.
func (d *deployment) failure(action string, err error) error {
	return fmt.Errorf("redistest: %s: %w\n%s", action, err, d.logs())
}

func (d *deployment) logs() string { return logs(d.nodes) }

func (d *deployment) node(addr string) *Node {
	for _, n := range d.nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

func (d *deployment) stop() {
	for _, n := range d.nodes {
		n.stop()
	}
}

// logs returns every node's log under a header, the last lines of each, for
// failure messages.
func logs(nodes []*Node) string {
	const tail = 150
	var b strings.Builder
	for _, n := range nodes {
		lines := strings.Split(strings.TrimRight(n.Log(), "\n"), "\n")
		state := "running"
		if !n.Running() {
			state = "not running"
		}
		fmt.Fprintf(&b, "=== log of %s (%s, %s)", n.Name(), n.Addr(), state)
		if len(lines) > tail {
			fmt.Fprintf(&b, ", last %d of %d lines", tail, len(lines))
			lines = lines[len(lines)-tail:]
		}
		b.WriteString(" ===\n")
		b.WriteString(strings.Join(lines, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

// info returns the fields of one INFO section of c's server.
func info(ctx context.Context, c *redis.Client, section string) (map[string]string, error) {
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return nil, fmt.Errorf("INFO %s on %s: %w", section, c.Options().Addr, err)
	}
	return infoFields(s), nil
}

// infoFields parses the "key:value" lines of INFO or CLUSTER INFO.
func infoFields(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}
