package redisconn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// MasterReplicas is a Cluster master and the replicas connected to it (its
// INFO replication connected_slaves): each can acknowledge the claims of
// the campaigns whose slot it serves (a campaign's keys share one slot, and
// the store sends WAIT to that slot's master).
type MasterReplicas struct {
	Addr     string
	Replicas int
	// ID is the master's node id (CLUSTER MYID), Epoch its config epoch
	// (CLUSTER INFO cluster_my_epoch: a replica promoted takes a new one,
	// and so does a master a resharding moves a slot to), ReplID its
	// replication id (INFO replication master_replid: a replica promoted
	// takes a new one, a resharding keeps it), and ReplicaAddrs the
	// replicas it lists (ReplicaAddrs), when ClusterReplicas read them (""
	// and none otherwise).
	ID, Epoch, ReplID string
	ReplicaAddrs      []string
}

// ClusterReplicas reads, for every master of cc (the slot map read anew),
// the replicas connected to it, its node id and its config epoch, in one
// round trip each, sorted by address. A master that does not answer is
// left out and named in the error (a *SilentError for every one that did
// not, joined: Silent lists them), which
// comes with the masters that answered: the worker judges those (one
// master down until its failover, or a shard lost for good, must not stop
// the judging of the others); any other caller treats the error as the
// answer.
func ClusterReplicas(ctx context.Context, cc *redis.ClusterClient) ([]MasterReplicas, error) {
	ms, _, err := ClusterMap(ctx, cc)
	return ms, err
}

// ClusterMap is ClusterReplicas, with the slot map the cluster itself
// holds (Listed), read in the same round trip from the master of lowest
// address that answered CLUSTER SHARDS; nil when none did (every master
// silent, or a Redis before 7.0, which has no CLUSTER SHARDS: that
// alone does not make a master silent).
func ClusterMap(ctx context.Context, cc *redis.ClusterClient) ([]MasterReplicas, Listed, error) {
	var (
		mu     sync.Mutex // ForEachMaster calls its function concurrently
		ms     []MasterReplicas
		errs   []error
		listed Listed
		from   string // the address listed was read from
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		addr := c.Options().Addr
		p := c.Pipeline()
		repl, id, ci, sh := p.Info(ctx, "replication"), p.ClusterMyID(ctx), p.ClusterInfo(ctx), p.ClusterShards(ctx)
		_, _ = p.Exec(ctx) // each command's error is read below
		mu.Lock()
		defer mu.Unlock()
		if err := cmp.Or(repl.Err(), id.Err(), ci.Err()); err != nil {
			errs = append(errs, &SilentError{Addr: addr, Err: err})
			return nil // ForEachMaster would keep one error and drop the answers
		}
		info := ParseInfo(repl.Val())
		n, _ := strconv.Atoi(info["connected_slaves"])
		ms = append(ms, MasterReplicas{Addr: addr, Replicas: n, ID: id.Val(), Epoch: ParseInfo(ci.Val())["cluster_my_epoch"], ReplID: info["master_replid"], ReplicaAddrs: ReplicaAddrs(info)})
		if sh.Err() == nil && (from == "" || addr < from) {
			listed, from = ListedIn(sh.Val()), addr
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(ms, func(a, b MasterReplicas) int { return cmp.Compare(a.Addr, b.Addr) })
	slices.SortFunc(errs, func(a, b error) int { return cmp.Compare(a.Error(), b.Error()) })
	return ms, listed, errors.Join(errs...)
}

// Listed is what a Cluster's own slot map (CLUSTER SHARDS) says each node
// could be waited for by, by address: the other nodes of its shard. For
// a master, the replicas it lists, also those marked failed (a replica
// down is still one a failover may promote once back, and one whose
// acknowledgement the master gave before); for a replica, its master and
// the other replicas: those it would have, promoted. A master not judged
// yet waits for no fewer (ClusterAcks.Floors).
type Listed map[string]int

// ListedIn is the Listed of a CLUSTER SHARDS reply. A node is known by
// its endpoint (the address clients are redirected to), else its IP, with
// its port.
func ListedIn(shards []redis.ClusterShard) Listed {
	out := Listed{}
	for _, s := range shards {
		for _, n := range s.Nodes {
			host := n.Endpoint
			if host == "" || host == "?" {
				host = n.IP
			}
			addr := net.JoinHostPort(host, strconv.FormatInt(n.Port, 10))
			out[addr] = max(out[addr], len(s.Nodes)-1)
		}
	}
	return out
}

// SilentError is the error of a Cluster master that did not answer
// ClusterReplicas: Addr is its address.
type SilentError struct {
	Addr string
	Err  error
}

func (e *SilentError) Error() string {
	return fmt.Sprintf("read the replication info, node id and config epoch of master %s (its replicas are judged again when it answers): %v", e.Addr, e.Err)
}

func (e *SilentError) Unwrap() error { return e.Err }

// Silent lists the address of every master err (ClusterReplicas's, also
// wrapped) names as not answering, sorted; none when err is nil.
func Silent(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *SilentError:
			out = append(out, e.Addr)
		case interface{ Unwrap() []error }:
			for _, e := range e.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	slices.Sort(out)
	return out
}

// ClusterAuto is every replica of the master with the most, at least 1:
// what redis.min_replica_acks auto was on Cluster, one number for every
// master, before each master was judged for itself (ClusterAcks); it is
// what ReplicaAcks still resolves auto to there (doctor's starting
// point). With two replicas or more per master, a master cut off in a
// minority partition keeps accepting writes until cluster-node-timeout
// passes (and CLUSTER FAILOVER TAKEOVER does not wait for the replica to
// catch up): a replica left on its side could acknowledge claims the
// promoted replica never gets, as on Sentinel (Promotion).
func ClusterAuto(ms []MasterReplicas) int {
	n := 1
	for _, m := range ms {
		n = max(n, m.Replicas)
	}
	return n
}

// Fewer lists the masters of ms with fewer replicas than acks, each with
// its number ("127.0.0.1:7000 (1 replica(s))"): they cannot give acks
// acknowledgements, and the campaigns of their slots hold.
func Fewer(ms []MasterReplicas, acks int) []string {
	return mastersWhere(ms, func(n int) bool { return n < acks })
}

// More lists the masters of ms with more replicas than acks, as Fewer
// does: acks acknowledgements may all come from replicas a failover does
// not promote.
func More(ms []MasterReplicas, acks int) []string {
	return mastersWhere(ms, func(n int) bool { return n > acks })
}

func mastersWhere(ms []MasterReplicas, keep func(replicas int) bool) []string {
	var out []string
	for _, m := range ms {
		if keep(m.Replicas) {
			out = append(out, fmt.Sprintf("%s (%d replica(s))", m.Addr, m.Replicas))
		}
	}
	return out
}
