// Package redisconn connects to an environment's Redis: a client whose
// server answered, and the store that waits for as many replica
// acknowledgements of its writes as the environment asks. It names no
// command: its errors are typed, and the command line words them.
package redisconn

import (
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

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/store"
)

// AutoReplicaAcks is the number of replica acknowledgements that
// ReplicaAcks resolves for the Redis at hand.
const AutoReplicaAcks = -1

// ReplicaAcks resolves AutoReplicaAcks for rdb: on Sentinel (a failover
// client), every replica the master has connected now, at least 1
// (ReadPromotion's Promotion.Auto: an old master left running after a
// failover keeps the replicas not promoted; read from the master's INFO
// alone, without connecting to the replicas); on Cluster, every replica of
// the master with the most, at least 1 (ClusterAuto: Open and the worker
// judge each master for itself, ClusterAcks); 1 on a standalone
// master with a replica connected now (nothing promotes it: see README,
// "Guarantees"); 0 otherwise, including a server whose INFO has no replication
// section (the embedded Redis of the demo and of tests without
// redis-server, which has no replicas and answers INFO replication with an
// error). A number is returned as it is.
func ReplicaAcks(ctx context.Context, rdb redis.UniversalClient, n int) (int, error) {
	if n != AutoReplicaAcks {
		return n, nil
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		ms, err := ClusterReplicas(ctx, cc)
		if err != nil {
			return 0, err
		}
		return ClusterAuto(ms), nil
	}
	info, err := rdb.Info(ctx).Result() // the default sections include replication
	if err != nil {
		return 0, fmt.Errorf("read replication info: %w", err)
	}
	connected, _ := strconv.Atoi(ParseInfo(info)["connected_slaves"])
	if c, ok := rdb.(*redis.Client); ok && isFailover(c) {
		// Promotion.Auto's number, from the master's own count: the
		// replicas' priorities it does not depend on are not read.
		return Promotion{Replicas: connected}.Auto(), nil
	}
	return min(connected, 1), nil
}

// ParseInfo reads the fields of an INFO reply ("key:value" lines; section
// headers and blank lines skipped).
func ParseInfo(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	return m
}

// isFailover reports whether c was made by redis.NewFailoverClient (its
// address is resolved through Sentinel).
func isFailover(c *redis.Client) bool {
	return c.Options().Addr == "FailoverClient"
}

// QuietLogs silences go-redis's own logger, which otherwise prints every
// failed dial ("redis: ... pool.go: connection pool: failed to dial") to
// standard error before tidings' own message about the unreachable Redis.
// The command line calls it; a service that embeds the worker keeps its
// logs.
func QuietLogs() { redis.SetLogger(quietLog{}) }

type quietLog struct{}

func (quietLog) Printf(context.Context, string, ...any) {}

// PingTimeout bounds how long Dial waits for the server to answer.
const PingTimeout = 5 * time.Second

// UnreachableError says that an environment's Redis did not answer.
type UnreachableError struct {
	Env   string // the environment's name
	Where string // where its Redis was looked for (Addrs)
	// Setting names the environment's setting that holds those addresses,
	// with its variable, and Servers what runs there (Setting).
	Setting, Servers string
	// Hint, when set, is the advice instead: the Sentinels answered, and
	// what lies past them did not.
	Hint string
	Err  error
}

// Advice says what to check: the setting that holds the addresses that
// did not answer, and that the servers there run (or the Hint).
func (e *UnreachableError) Advice() string {
	if e.Hint != "" {
		return e.Hint
	}
	verb := " run there" // the Sentinels, the Cluster's nodes
	if e.Servers == "Redis" {
		verb = " runs there"
	}
	return "check " + e.Setting + " and that " + e.Servers + verb
}

// Cause is the client's error on one line (go-redis joins what each
// Sentinel answered with line breaks).
func (e *UnreachableError) Cause() string {
	return strings.ReplaceAll(strings.TrimSpace(e.Err.Error()), "\n", "; ")
}

// Setting names the setting of environment e that holds the addresses its
// Redis is looked for at, with its variable, and what runs there: the
// Sentinels (redis.sentinel.addrs), the Cluster's seed nodes
// (redis.cluster), or Redis (redis.url). A Sentinel or Cluster environment
// does not use redis.url's address.
func Setting(e *environment.Environment) (setting, servers string) {
	switch {
	case e.Redis.Sentinel.Master != "":
		return "redis.sentinel.addrs / TIDINGS_REDIS_SENTINEL_ADDRS", "the Sentinels"
	case len(e.Redis.Cluster) > 0:
		return "redis.cluster / TIDINGS_REDIS_CLUSTER_ADDRS", "the Cluster's nodes"
	}
	return "redis.url / TIDINGS_REDIS_URL", "Redis"
}

// Error says which Redis did not answer, and why.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("redis for environment %s (%s) is unreachable: %s", e.Env, e.Where, e.Cause())
}

// Unwrap returns the client's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// ReplicaAcksError says that the replica acknowledgements an environment
// asks for could not be resolved against its Redis.
type ReplicaAcksError struct {
	Env string // the environment's name
	Err error
}

// Error says which Redis, and why; of a Cluster master that did not
// answer (a *SilentError: killed, and not yet replaced in the slot map),
// that a failover may be under way and to run the command again.
func (e *ReplicaAcksError) Error() string {
	if errors.As(e.Err, new(*SilentError)) {
		return fmt.Sprintf("redis for environment %s: %s; a failover may be under way: run it again in a few seconds ('tidings doctor --env %s' says which node is down)", e.Env, e.Err, e.Env)
	}
	return fmt.Sprintf("redis for environment %s: %s", e.Env, e.Err)
}

// Unwrap returns the underlying error.
func (e *ReplicaAcksError) Unwrap() error { return e.Err }

// Addrs describes where the Redis of opts is, for messages.
func Addrs(o *redis.UniversalOptions) string {
	if o.MasterName != "" {
		return fmt.Sprintf("sentinel master %s at %v", o.MasterName, o.Addrs)
	}
	return fmt.Sprint(o.Addrs)
}

// ClusterStateReload is how old a Redis Cluster client's slot map may grow
// before it is read again (CLUSTER SLOTS, in the background, when a command
// next needs it). go-redis reads it again at once on a MOVED or ASK
// answer, but not when the master of a slot stops answering: with its
// default of 60 s, a worker went on dialling a master killed for good,
// and held its campaigns, for up to a minute after the cluster had
// promoted a replica (TestClusterFailoverAtMostOnce). One read a second
// per client costs Redis next to nothing.
const ClusterStateReload = time.Second

// newClient returns a client for opts: go-redis's universal client, with
// ClusterStateReload on Cluster.
func newClient(opts *redis.UniversalOptions) redis.UniversalClient {
	if opts.MasterName != "" || !opts.IsClusterMode {
		return redis.NewUniversalClient(opts)
	}
	co := opts.Cluster()
	co.ClusterStateReloadInterval = ClusterStateReload
	return redis.NewClusterClient(co)
}

// Dial connects to environment e's Redis and checks that it answers within
// PingTimeout. Errors: e's Redis settings' (Environment.RedisOptions), as
// they are, a *ReplyError (it answered with an error: a password refused,
// a replica loading its data, ...), an *UnknownMasterError (the Sentinels
// monitor no master of that name), or an *UnreachableError. The caller
// closes the client.
func Dial(ctx context.Context, e *environment.Environment) (redis.UniversalClient, error) {
	opts, err := e.RedisOptions()
	if err != nil {
		return nil, err
	}
	rdb := newClient(opts)
	pctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if err := Explain(rdb.Ping(pctx).Err()); err != nil {
		rdb.Close()
		if rp := (*ReplyError)(nil); errors.As(err, &rp) {
			// It answered, with an error that says what to do.
			return nil, fmt.Errorf("redis for environment %s (%s): %w", e.Name, Addrs(opts), err)
		}
		ue := &UnreachableError{Env: e.Name, Where: Addrs(opts), Err: err}
		ue.Setting, ue.Servers = Setting(e)
		if opts.MasterName == "" {
			ue.Hint = tlsHint(err, opts, ue.Setting)
			if h := clusterTLSHint(ctx, opts); h != "" {
				ue.Hint = h
			}
			return nil, ue
		}
		err := sentinelHint(ctx, ue, e.Name, opts)
		if h := tlsHint(ue.Err, opts, ue.Setting); h != "" && errors.Is(err, ue) {
			ue.Hint = h
		}
		// A Sentinel that took the connection and refused the TLS
		// handshake or the client certificate: go-redis retried it until
		// the deadline and says only that.
		if h := sentinelTLSHint(ctx, ue, opts); h != "" && errors.Is(err, ue) {
			ue.Hint = h
		}
		return nil, err
	}
	return rdb, nil
}

// sentinelHint says why Sentinel's master (of environment env) could not
// be reached: go-redis retries the Sentinels until the deadline and then
// says only that, and says the same of a master the Sentinels name that
// does not answer. When no Sentinel can be connected to, ue's error says
// why; when one can, the advice is about what lies past them: the master,
// or, when none of them knows its name, an *UnknownMasterError instead of
// ue.
func sentinelHint(ctx context.Context, ue *UnreachableError, env string, opts *redis.UniversalOptions) error {
	down := sentinelsDown(ctx, opts.Addrs)
	switch {
	case down != nil:
		if errors.Is(ue.Err, context.DeadlineExceeded) {
			ue.Err = down
		}
	case errors.Is(ue.Err, redis.Nil) && fromSentinels(ue.Err):
		return &UnknownMasterError{Env: env, Master: opts.MasterName, Sentinels: opts.Addrs, Monitored: monitoredMasters(ctx, opts)}
	case fromSentinels(ue.Err):
		// A Sentinel took the connection but gave no master (TLS, a
		// protocol error): the Sentinels' settings, as Setting says.
	default:
		ue.Hint = fmt.Sprintf("the Sentinels answer, but the master they name for %s did not: check that it runs, and that the address the Sentinels give for it (SENTINEL GET-MASTER-ADDR-BY-NAME %s; replica-announce-ip behind NAT or containers) can be reached from here", opts.MasterName, opts.MasterName)
	}
	return ue
}

// sentinelsDown dials each Sentinel of addrs and returns why none could be
// connected to, or nil when one could (then something past the Sentinels
// did not answer).
func sentinelsDown(ctx context.Context, addrs []string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				_ = c.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if slices.Contains(errs, nil) || len(errs) == 0 {
		return nil
	}
	// One line, each dial's error wrapped (errors.Join would put them on
	// lines of their own).
	args := make([]any, len(errs))
	for i, err := range errs {
		args[i] = err
	}
	return fmt.Errorf("no Sentinel answered: "+strings.TrimSuffix(strings.Repeat("%w; ", len(errs)), "; "), args...)
}

// Open connects to environment e's store (Dial), waiting for as many
// replica acknowledgements of its writes as e asks (auto: as ReplicaAcks
// resolves it, on Sentinel no fewer than SentinelListed; on Cluster, every
// replica of the master each write goes to: ClusterAcks), judged once
// (Judge judges again). Errors: Dial's, a *ReplyError whose Settings are
// wrong (INFO not allowed), or a *ReplicaAcksError. The caller closes the
// store's client.
func Open(ctx context.Context, e *environment.Environment) (*store.Store, error) {
	rdb, err := Dial(ctx, e)
	if err != nil {
		return nil, err
	}
	acks, masters, err := judge(ctx, rdb, e)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	st := store.NewWithConfig(rdb, store.Config{ReplicaAcks: acks, AckTimeout: e.Redis.ReplicaAckTimeout, Env: e.Name})
	if masters != nil {
		st.SetMasterAcks(masters, acks)
	}
	return st, nil
}

// Judge judges again, as Open does, how many replica acknowledgements
// the writes of st, a store Open made for environment e, wait for, and
// sets it: a process that lives on (the console) follows a failover as a
// command does, instead of waiting for a master's replicas that are gone
// (two, when a killed master left its successor one) for ever. Errors:
// Open's, but Dial's.
func Judge(ctx context.Context, st *store.Store, e *environment.Environment) error {
	acks, masters, err := judge(ctx, st.Client(), e)
	if err != nil {
		return err
	}
	st.SetReplicaAcks(acks)
	if masters != nil {
		st.SetMasterAcks(masters, acks)
	}
	return nil
}

// judge is how many acknowledgements writes to rdb, environment e's
// Redis, wait for (Open), and on Cluster with auto, each master's.
func judge(ctx context.Context, rdb redis.UniversalClient, e *environment.Environment) (acks int, masters map[string]int, err error) {
	if cc, ok := rdb.(*redis.ClusterClient); ok && e.Redis.AutoReplicaAcks() {
		acks, masters, err = judgeOnce(ctx, cc)
	} else if acks, err = ReplicaAcks(ctx, rdb, e.Redis.MinReplicaAcks); err == nil && e.Redis.AutoReplicaAcks() && IsSentinel(rdb) {
		// Every replica Sentinel lists too: a planned failover's old
		// master has lost the promoted one already (SentinelListed).
		if opts, oerr := e.RedisOptions(); oerr == nil {
			acks = max(acks, SentinelListed(ctx, opts))
		}
	}
	if err != nil {
		if err = Explain(err); IsSettings(err) {
			// INFO not allowed to the user (NOPERM): a setting to fix.
			return 0, nil, Refused(err, e)
		}
		return 0, nil, &ReplicaAcksError{Env: e.Name, Err: err}
	}
	return acks, masters, nil
}

// Campaigns lists the campaigns of environment e's store (store.List) for
// a shell's completion, which must not hang: it dials, reads and gives up
// within timeout each, without retries, and with no check of the
// replicas (it writes nothing).
func Campaigns(ctx context.Context, e *environment.Environment, timeout time.Duration) ([]string, error) {
	opts, err := e.RedisOptions()
	if err != nil {
		return nil, err
	}
	opts.DialTimeout, opts.ReadTimeout, opts.MaxRetries = timeout, timeout, -1
	rdb := redis.NewUniversalClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return store.New(rdb).List(ctx, e.Name)
}
