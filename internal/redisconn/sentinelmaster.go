package redisconn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// UnknownMasterError says that the Sentinels answered, but none of them
// monitors a master of the name an environment gives
// (redis.sentinel.master): a setting to change, not a server to wait for.
type UnknownMasterError struct {
	Env       string   // the environment's name
	Master    string   // the name it gives
	Sentinels []string // the Sentinels' addresses
	// Monitored lists the names the Sentinels that answered do monitor
	// (SENTINEL MASTERS), sorted; empty when they monitor none or could
	// not be asked.
	Monitored []string
}

// Error names the master, the names the Sentinels monitor and the setting
// to change. It does not wrap go-redis's error: that one says the
// Sentinels are unreachable, which they are not.
func (e *UnknownMasterError) Error() string {
	monitored := "they monitor no master (SENTINEL MASTERS is empty): add one to their configuration (sentinel monitor NAME HOST PORT QUORUM) or point redis.sentinel.addrs at the Sentinels of your Redis"
	if len(e.Monitored) > 0 {
		monitored = fmt.Sprintf("they monitor %s: set it to the one of your Redis", strings.Join(e.Monitored, ", "))
	}
	return fmt.Sprintf("redis for environment %s: no Sentinel knows a master named %q (Sentinels at %v); check redis.sentinel.master / TIDINGS_REDIS_SENTINEL_MASTER: %s",
		e.Env, e.Master, e.Sentinels, monitored)
}

// monitoredMasters asks each Sentinel of opts for the masters it monitors
// (SENTINEL MASTERS) and returns their names, sorted and once each; a
// Sentinel that does not answer in time adds none.
func monitoredMasters(ctx context.Context, opts *redis.UniversalOptions) []string {
	var names []string
	askSentinels(ctx, opts, "masters", func(masters []map[string]string) {
		for _, m := range masters {
			if n := m["name"]; n != "" {
				names = append(names, n)
			}
		}
	})
	slices.Sort(names)
	return slices.Compact(names)
}

// SentinelListed is how many replicas of opts's master the Sentinels of
// opts list (SENTINEL REPLICAS) and do not see down (flagged neither
// s_down nor o_down): the most any Sentinel that answers within a second
// lists; 0 when none answers. A master's INFO counts only the replicas
// connected to it now, and in a planned failover (SENTINEL FAILOVER) the
// old master, which a fresh client still reaches through Sentinel until
// Sentinel has moved the other replicas, has lost the promoted one
// already: Sentinel still lists it, until it names the new master. It is
// then flagged disconnected (its promotion closed the Sentinels' links),
// so a replica disconnected but not yet down counts: the cost is that a
// master killed for good, listed as a replica of the new one, counts until
// the Sentinels see it down (down-after-milliseconds).
// A replica the Sentinels reach whose own link to the master is down
// (master-link-status err) is left out: no write reaches it.
func SentinelListed(ctx context.Context, opts *redis.UniversalOptions) int {
	return len(SentinelReplicas(ctx, opts))
}

// SentinelReplicas is the addresses (ip:port, as the master's INFO names
// its replicas) of the replicas SentinelListed counts: those of the
// Sentinel that lists the most; nil when none answers. A worker names
// them when the master's INFO lists fewer (a replica it no longer has).
func SentinelReplicas(ctx context.Context, opts *redis.UniversalOptions) []string {
	var most []string
	askSentinels(ctx, opts, "replicas", func(replicas []map[string]string) {
		var up []string
		for _, r := range replicas {
			flags := strings.Split(r["flags"], ",")
			down := slices.Contains(flags, "s_down") || slices.Contains(flags, "o_down")
			// Cut off from the master (a partition between those two
			// only): no write reaches it, and the master's WAIT never
			// counts it. Not the replica being promoted, whose links the
			// promotion closed (disconnected).
			cut := r["master-link-status"] == "err" && !slices.Contains(flags, "disconnected") && !slices.Contains(flags, "promoted")
			if !down && !cut {
				up = append(up, net.JoinHostPort(r["ip"], r["port"]))
			}
		}
		if len(up) > len(most) {
			most = up
		}
	})
	slices.Sort(most)
	return most
}

// askSentinels asks each Sentinel of opts, at once, SENTINEL what (of
// opts's master, but for "masters"), with the Sentinels' user, password
// and TLS, and calls answer, one call at a time, with each answer that
// comes within a second.
func askSentinels(ctx context.Context, opts *redis.UniversalOptions, what string, answer func([]map[string]string)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	args := []any{"sentinel", what}
	if what != "masters" {
		args = append(args, opts.MasterName)
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, addr := range opts.Addrs {
		wg.Go(func() {
			c := redis.NewSentinelClient(&redis.Options{Addr: addr, Username: opts.SentinelUsername, Password: opts.SentinelPassword, TLSConfig: opts.TLSConfig})
			defer c.Close()
			cmd := redis.NewMapStringStringSliceCmd(ctx, args...)
			if c.Process(ctx, cmd) != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			answer(cmd.Val())
		})
	}
	wg.Wait()
}

// IsSentinel reports whether rdb reaches its master through Sentinel (a
// client of redis.NewFailoverClient), the deployment whose failover
// promotes a replica by its replica-priority (Promotion).
func IsSentinel(rdb redis.UniversalClient) bool {
	c, ok := rdb.(*redis.Client)
	return ok && isFailover(c)
}

// Replica is a replica of Sentinel's master: its address and its
// replica-priority, or why that could not be read.
type Replica struct {
	Addr     string
	Priority int
	Err      error
}

// Promotion is what decides whether a claim acknowledged by replicas is
// on the replica a Sentinel failover promotes. Sentinel promotes, of the
// replicas it may (replica-priority above 0), one of the lowest priority,
// and of those the one with the largest replication offset. WAIT counts
// any replica's acknowledgement, and after a failover promotes one replica
// the old master, when it goes on running (SENTINEL FAILOVER, a
// partition), keeps accepting writes with the other replicas attached
// until Sentinel moves them: their acknowledgements of claims the promoted
// replica never gets let those messages go, and the claims vanish when
// they resync from the new master. Only every replica connected
// acknowledging guarantees that the promoted one holds a claim: see
// Required.
type Promotion struct {
	Addrs    []string // every replica connected, in the order read (ReplicaAddrs': sorted)
	Replicas int      // connected to the master (its INFO replication): each can acknowledge
	Priority int      // the best (lowest non-zero) replica-priority; 0 when none may be promoted
	Best     []string // the replicas of that priority, of which Sentinel promotes one
	Others   []string // the rest, each with its priority
	Unknown  []string // replicas whose priority could not be read, each with why
	// Master is the run_id of the master these replicas were read from
	// (ReadPromotion; "" otherwise): another one means another server
	// process, after a failover or a restart.
	Master string
}

// PromotionOf is the promotion of the replicas rs of Sentinel's master.
func PromotionOf(rs []Replica) Promotion {
	var p Promotion
	for _, r := range rs {
		p.Addrs = append(p.Addrs, r.Addr)
		p.Replicas++
		if r.Err == nil && r.Priority > 0 && (p.Priority == 0 || r.Priority < p.Priority) {
			p.Priority = r.Priority
		}
	}
	for _, r := range rs {
		switch {
		case r.Err != nil:
			p.Unknown = append(p.Unknown, fmt.Sprintf("%s (%v)", r.Addr, r.Err))
		case r.Priority > 0 && r.Priority == p.Priority:
			p.Best = append(p.Best, r.Addr)
		default:
			p.Others = append(p.Others, fmt.Sprintf("%s (replica-priority %d)", r.Addr, r.Priority))
		}
	}
	return p
}

// need is the fewest acknowledgements that guarantee that the replica
// Sentinel promotes holds a claim when the master stops at once (a crash):
// one more than the replicas outside the best priority, so that at least
// one comes from a replica of it. An old master that goes on running needs
// more (Required).
func (p Promotion) need() int { return p.Replicas - len(p.Best) + 1 }

// Required is the fewest acknowledgements that guarantee that a failover
// loses no acknowledged claim: every replica connected, whatever their
// replica-priorities (an old master left running keeps every replica but
// the promoted one: see Promotion); 0 when Sentinel may promote none of
// them (no failover can take place, so no acknowledgement protects a
// claim).
func (p Promotion) Required() int {
	if len(p.Best) == 0 && len(p.Unknown) == 0 {
		return 0
	}
	return p.Replicas
}

// Auto is what redis.min_replica_acks auto waits for on Sentinel: every
// replica connected, and at least 1 (with no replica connected, nothing is
// sent until one is back, as before).
func (p Promotion) Auto() int { return max(p.Replicas, 1) }

// Promoted names the replica(s) Sentinel promotes ("" when none).
func (p Promotion) Promoted() string {
	switch len(p.Best) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("%s (replica-priority %d)", p.Best[0], p.Priority)
	}
	return fmt.Sprintf("one of %s (replica-priority %d), the one with the largest replication offset", strings.Join(p.Best, ", "), p.Priority)
}

// keepsOthers ends Shortfall's answers: why every replica.
const keepsOthers = ", so that an old master left with the replicas Sentinel did not promote cannot gather the acknowledgements"

// Shortfall says why acks acknowledgements do not guarantee that the
// replica Sentinel promotes holds every acknowledged claim, and what to
// set; "" when they do, or when Sentinel may promote none of the replicas
// (Required is 0).
func (p Promotion) Shortfall(acks int) string {
	switch {
	case acks >= p.Required():
		return ""
	case len(p.Unknown) > 0:
		return fmt.Sprintf("the replica-priority of %s could not be read, so whether the replica Sentinel promotes must hold an acknowledged claim is not known: check replica-priority on every replica (CONFIG GET replica-priority), and set redis.min_replica_acks to auto (every replica connected, %d now)%s",
			strings.Join(p.Unknown, ", "), p.Replicas, keepsOthers)
	case acks < p.need():
		return fmt.Sprintf("a failover can lose claims: Sentinel promotes %s, and the acknowledgement(s) may all come from %s, which it does not promote; set redis.min_replica_acks to auto (every replica connected, %d now)%s",
			p.Promoted(), strings.Join(p.Others, ", "), p.Replicas, keepsOthers)
	}
	return fmt.Sprintf("a failover that leaves the old master running (SENTINEL FAILOVER, a partition) can lose claims: Sentinel promotes %s, and until it moves the other replica(s), the old master accepts claims that they acknowledge and the promoted replica never gets; set redis.min_replica_acks to auto (every replica connected, %d now)%s",
		p.Promoted(), p.Replicas, keepsOthers)
}

// ErrNoPriority says that what was read of a replica has no replica-priority.
var ErrNoPriority = errors.New("neither CONFIG GET replica-priority nor INFO replication gave it")

// Priority is a replica's replica-priority from what was read of it: CONFIG
// GET replica-priority's (config), else the one its INFO replication shows
// (info; when CONFIG is refused).
func Priority(config, info map[string]string) (int, bool) {
	for _, v := range []string{config["replica-priority"], info["replica_priority"], info["slave_priority"]} {
		if n, err := strconv.Atoi(v); err == nil {
			return n, true
		}
	}
	return 0, false
}

// ReadPromotion reads the promotion of the replicas of the master that
// c, a Sentinel client (IsSentinel), talks to: those its INFO replication
// lists, each read as ForEachReplica connects to it, and the master's
// run_id (from the same INFO). An error is INFO's on the master; a replica
// that cannot be read is among Unknown.
func ReadPromotion(ctx context.Context, c *redis.Client) (Promotion, error) {
	raw, err := c.Info(ctx, "server", "replication").Result()
	if err != nil {
		return Promotion{}, fmt.Errorf("read the master's replication info: %w", err)
	}
	info := ParseInfo(raw)
	var rs []Replica
	ForEachReplica(ctx, c, info, func(ctx context.Context, rc *redis.Client, addr string) {
		config, cerr := rc.ConfigGet(ctx, "replica-priority").Result()
		raw, ierr := rc.Info(ctx, "replication").Result()
		r := Replica{Addr: addr}
		var ok bool
		if r.Priority, ok = Priority(config, ParseInfo(raw)); !ok {
			r.Err = cmp.Or(Explain(ierr), Explain(cerr), ErrNoPriority)
		}
		rs = append(rs, r)
	})
	p := PromotionOf(rs)
	p.Master = info["run_id"]
	return p, nil
}

// ForEachReplica calls read, one replica after the other, with a client of
// each replica a master's INFO replication (info) lists, connected to it as
// c, the master's client, is to the master (its user, password and TLS),
// and a context that gives it 2 seconds (one unreachable replica leaves
// time for the rest). The client is closed when read returns.
func ForEachReplica(ctx context.Context, c *redis.Client, info map[string]string, read func(ctx context.Context, rc *redis.Client, addr string)) {
	for _, addr := range ReplicaAddrs(info) {
		o := *c.Options()
		o.Addr, o.Dialer = addr, nil // not through Sentinel: this replica
		rc := redis.NewClient(&o)
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		read(rctx, rc, addr)
		cancel()
		_ = rc.Close()
	}
}

// ReplicaAddrs lists the addresses of the replicas in a master's INFO
// replication ("slave0:ip=10.0.0.4,port=6379,state=online,..."), sorted.
func ReplicaAddrs(info map[string]string) []string {
	var addrs []string
	for k, v := range info {
		if !strings.HasPrefix(k, "slave") || strings.TrimLeft(k[len("slave"):], "0123456789") != "" || k == "slave" {
			continue
		}
		var ip, port string
		for _, f := range strings.Split(v, ",") {
			key, val, _ := strings.Cut(f, "=")
			switch key {
			case "ip":
				ip = val
			case "port":
				port = val
			}
		}
		if ip != "" && port != "" {
			addrs = append(addrs, net.JoinHostPort(ip, port))
		}
	}
	slices.Sort(addrs)
	return addrs
}
