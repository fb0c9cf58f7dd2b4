// Package doctor checks that an environment is fit to send: its Redis
// (reachable; on every master of a Cluster, and on Sentinel's master and
// every replica Sentinel may promote: persistence on, maxmemory-policy
// noeviction, a version asynq supports, a Redis user that may publish and
// subscribe to the control channel; and what the deployment guarantees
// about sending at most once), its SMTP server (connect, EHLO, STARTTLS as
// the TLS policy requires, AUTH, or without credentials whether it takes
// mail without them; what its extensions SMTPUTF8, 8BITMIME, SIZE and
// PIPELINING mean for the mail sent), the delivery journal's directory
// (written as a worker does), and optionally a campaign's templates
// (complete in every catalog language).
//
// Each check passes, passes with a warning (a risk the operator must know
// of), or fails, and its message says what to do. This package names no
// command: the command line adds the next step.
package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

// Statuses of a check.
const (
	Pass = "pass"
	Warn = "warn" // passed, with a risk Message explains
	Fail = "fail"
)

// Check is the result of one check.
type Check struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // Pass, Warn or Fail
	Message string `json:"message"`
	// Infra marks a failure that means a server is unreachable.
	Infra bool `json:"infra,omitempty"`
}

// Failed returns how many checks failed, and whether any of them because a
// server is unreachable.
func Failed(checks []Check) (n int, infra bool) {
	for _, c := range checks {
		if c.Status == Fail {
			n++
			infra = infra || c.Infra
		}
	}
	return n, infra
}

func pass(name, msg string) Check { return Check{Name: name, Status: Pass, Message: msg} }
func warn(name, msg string) Check { return Check{Name: name, Status: Warn, Message: msg} }
func fail(name, msg string) Check { return Check{Name: name, Status: Fail, Message: msg} }

// Redis checks environment e's Redis, after the client certificate it is
// shown (clientCert) and the CA it trusts for Redis's (caCert) when they
// are set.
func Redis(ctx context.Context, e *environment.Environment) []Check {
	var checks []Check
	now := time.Now()
	for _, cert := range []func(*environment.Environment, time.Time) (Check, bool){clientCert, caCert} {
		if c, ok := cert(e, now); ok {
			checks = append(checks, c)
		}
	}
	return append(checks, redisChecks(ctx, e)...)
}

func redisChecks(ctx context.Context, e *environment.Environment) []Check {
	rdb, err := redisconn.Dial(ctx, e)
	var ue *redisconn.UnreachableError
	var rp *redisconn.ReplyError
	switch {
	case errors.As(err, &ue):
		c := fail("redis reachable", fmt.Sprintf("%s: %s; %s", ue.Where, ue.Cause(), ue.Advice()))
		c.Infra = true
		return []Check{c}
	case errors.As(err, &rp): // it answered with an error (a password refused, loading, ...)
		return []Check{redisFail("redis reachable", err)}
	case err != nil:
		return []Check{fail("redis config", err.Error())}
	}
	defer rdb.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	opts, _ := e.RedisOptions() // Dial read them already
	checks := []Check{pass("redis reachable", redisconn.Addrs(opts))}
	ms, err := readNodes(cctx, rdb, opts)
	if err != nil {
		return append(checks, redisFail("redis info", err))
	}
	for _, m := range ms {
		if redisconn.IsSettings(m.infoErr) {
			// Not allowed (NOPERM): nothing below could be judged. (Other
			// errors, such as the embedded Redis's to a sectioned INFO,
			// leave the checks below to say what they cannot see.)
			return append(checks, redisFail("redis info", m.infoErr))
		}
	}
	// A replica Sentinel never promotes never holds the ledger.
	held := slices.DeleteFunc(slices.Clone(ms), node.neverPromoted)
	checks = append(checks, worst("redis persistence", held, persistence), worst("redis eviction", held, func(m node) Check { return eviction(m, e.Redis.MaxmemoryPolicy) }),
		worst("redis control channel", held, func(m node) Check { return m.control }))
	if c := worst("redis version", held, version); c.Status != Pass {
		checks = append(checks, c)
	}
	if c := writes(ms); c.Status != Pass {
		checks = append(checks, c)
	}
	if c := rights(cctx, rdb, opts.Username); c.Status != Pass {
		checks = append(checks, c)
	}
	checks = append(checks, guarantee(cctx, e, rdb, ms), inDoubt(e))
	if c, ok := workerBuilds(cctx, store.New(rdb), e.Name); ok {
		checks = append(checks, c)
	}
	return checks
}

// workerBuilds warns when a worker alive in environment env runs a build
// of another stored format than this tidings (store.Builds), or recorded
// none; not ok (no check) when no worker is alive.
func workerBuilds(ctx context.Context, st *store.Store, env string) (Check, bool) {
	const name = "worker builds"
	ws, err := st.Builds(ctx, env)
	switch {
	case err != nil:
		return warn(name, fmt.Sprintf("cannot read the builds of the workers alive (%s): check that every worker of %s runs this build", oneLine(err), env)), true
	case len(ws) == 0:
		return Check{}, false
	}
	var other []string
	for _, w := range ws {
		switch {
		case w.Format < 0:
			other = append(other, fmt.Sprintf("worker %s records no build (one before stored formats, which checks none and would send this build's campaigns; or one started in the last 30 s)", w.Worker))
		case w.Format != store.StoredFormat:
			other = append(other, fmt.Sprintf("worker %s (version %s) has stored format %d", w.Worker, w.Version, w.Format))
		}
	}
	if len(other) == 0 {
		return pass(name, fmt.Sprintf("%d worker(s) alive in %s, all of stored format %d (this tidings's)", len(ws), env, store.StoredFormat)), true
	}
	return warn(name, fmt.Sprintf("%s; this tidings has stored format %d: a worker neither sends nor writes into a campaign staged by a build of another format, so run workers of one build per environment: stop those workers or upgrade them",
		strings.Join(other, "; "), store.StoredFormat)), true
}

// node is what doctor read from one Redis node that holds or may come to
// hold the ledger: the master of a single Redis or of Sentinel, one of a
// Cluster's masters, or a replica Sentinel may promote.
type node struct {
	addr string // its address (host:port); "" when not known
	// replica: a replica of the Sentinel master, or of a Cluster master
	// (cluster), which a failover may promote.
	replica, cluster bool
	info             map[string]string // INFO persistence, memory, server and replication
	infoErr          error             // why INFO failed, if it did
	// config holds the settings CONFIG GET read (save, appendfsync,
	// min-replicas-to-write); configErr says why one could not be read
	// (CONFIG refused to the Redis user, as managed Redis services do).
	config    map[string]string
	configErr error
	// control is whether the Redis user may publish and subscribe to
	// store.ControlChannel on it (ACLs are the node's own).
	control Check
}

// configParams are the settings doctor reads with CONFIG GET.
var configParams = []string{"save", "appendfsync", "min-replicas-to-write", "replica-priority", "maxmemory-policy"}

// readNode reads what doctor judges of the node c talks to.
func readNode(ctx context.Context, c redis.UniversalClient, addr, user string) node {
	raw, err := c.Info(ctx, "persistence", "memory", "server", "replication").Result()
	m := node{addr: addr, info: redisconn.ParseInfo(raw), infoErr: redisconn.Explain(err), config: map[string]string{}}
	for _, p := range configParams {
		v, err := c.ConfigGet(ctx, p).Result()
		if err != nil {
			m.configErr = cmp.Or(m.configErr, err)
			continue
		}
		if val, ok := v[p]; ok {
			m.config[p] = val
		}
	}
	m.control = controlAccess(ctx, c, user)
	return m
}

// readNodes reads every node of rdb (options opts) that holds or may come
// to hold a campaign's ledger: each master of a Cluster and each replica
// its INFO replication lists (CLUSTER FAILOVER, or the master's failure,
// promotes one), sorted by address; the master of Sentinel and each replica it may promote (listed
// by the master's INFO replication; a replica whose replica-priority is 0
// is never promoted); else the one Redis rdb talks to (its replicas, with
// nothing to promote them, are not read).
func readNodes(ctx context.Context, rdb redis.UniversalClient, opts *redis.UniversalOptions) ([]node, error) {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok && opts.MasterName == "" {
		addr := ""
		if len(opts.Addrs) > 0 {
			addr = opts.Addrs[0]
		}
		return []node{readNode(ctx, rdb, addr, opts.Username)}, nil
	}
	if !ok {
		return readSentinel(ctx, rdb, opts.Username), nil
	}
	var (
		mu sync.Mutex // ForEachMaster calls its function concurrently
		ms []node
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		m := readNode(ctx, c, c.Options().Addr, opts.Username)
		m.cluster = true
		read := []node{m}
		// Its replicas connected, as Sentinel's (a replica down is
		// promoted by nothing until it is back).
		redisconn.ForEachReplica(ctx, c, m.info, func(ctx context.Context, rc *redis.Client, raddr string) {
			r := readNode(ctx, rc, raddr, opts.Username)
			r.replica, r.cluster = true, true
			read = append(read, r)
		})
		mu.Lock()
		defer mu.Unlock()
		ms = append(ms, read...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the cluster's masters: %w", err)
	}
	slices.SortFunc(ms, func(a, b node) int { return cmp.Compare(a.addr, b.addr) })
	return ms, nil
}

// readSentinel reads the master of Sentinel that rdb talks to and the
// replicas its INFO replication lists, connecting to each as to the master
// (redisconn.ForEachReplica).
func readSentinel(ctx context.Context, rdb redis.UniversalClient, user string) []node {
	addr := ""
	if ci, err := rdb.ClientInfo(ctx).Result(); err == nil {
		addr = ci.LAddr // the address the master was reached at
	}
	ms := []node{readNode(ctx, rdb, addr, user)}
	if c, ok := rdb.(*redis.Client); ok {
		redisconn.ForEachReplica(ctx, c, ms[0].info, func(ctx context.Context, rc *redis.Client, raddr string) {
			m := readNode(ctx, rc, raddr, user)
			m.replica = true
			ms = append(ms, m) // one never promoted too: its acknowledgements count
		})
	}
	return ms
}

// statusRank orders statuses from the best.
var statusRank = map[string]int{Pass: 0, Warn: 1, Fail: 2}

// worst is the worst of check's results over the nodes ms, named name: as
// it is when every node has it, else naming the node(s) of each message of
// that status ("master 10.0.0.3:6379: ...", "replica 10.0.0.4:6379
// (Sentinel may promote it): ...").
func worst(name string, ms []node, check func(node) Check) Check {
	if len(ms) == 0 {
		return fail(name, "no Redis master could be read")
	}
	var (
		all    []Check
		status = Pass
	)
	for _, m := range ms {
		c := check(m)
		c.Name = name
		all = append(all, c)
		if statusRank[c.Status] > statusRank[status] {
			status = c.Status
		}
	}
	if !slices.ContainsFunc(all, func(c Check) bool { return c != all[0] }) {
		return all[0] // every master alike, or only one
	}
	var msgs []string            // the worst messages, in the order of their first node
	named := map[string][]node{} // message -> its nodes
	for i, c := range all {
		if c.Status != status {
			continue
		}
		if named[c.Message] == nil {
			msgs = append(msgs, c.Message)
		}
		named[c.Message] = append(named[c.Message], ms[i])
	}
	var b strings.Builder
	for i, msg := range msgs {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", nodeNames(named[msg]), msg)
	}
	return Check{Name: name, Status: status, Message: b.String()}
}

// promoter names what promotes a replica of nodes: a Cluster's failover
// or Sentinel.
func promoter(nodes []node) string {
	if slices.ContainsFunc(nodes, func(m node) bool { return m.cluster }) {
		return "a failover"
	}
	return "Sentinel"
}

// nodeNames names nodes for a message: "master 10.0.0.3:6379",
// "masters 10.0.0.3:6379, 10.0.0.5:6379", "replica 10.0.0.4:6379 (Sentinel
// may promote it)", or both, masters first.
func nodeNames(nodes []node) string {
	var parts []string
	for _, replica := range []bool{false, true} {
		var addrs []string
		for _, m := range nodes {
			if m.replica == replica {
				addrs = append(addrs, cmp.Or(m.addr, "(address unknown)"))
			}
		}
		switch {
		case len(addrs) == 0:
		case !replica && len(addrs) == 1:
			parts = append(parts, "master "+addrs[0])
		case !replica:
			parts = append(parts, "masters "+strings.Join(addrs, ", "))
		case len(addrs) == 1:
			parts = append(parts, "replica "+addrs[0]+" ("+promoter(nodes)+" may promote it)")
		default:
			parts = append(parts, "replicas "+strings.Join(addrs, ", ")+" ("+promoter(nodes)+" may promote them)")
		}
	}
	return strings.Join(parts, ", ")
}

// persistence checks node m's persistence: AOF, else RDB snapshots. When
// CONFIG cannot be read, it says so with what INFO tells.
func persistence(m node) Check {
	save, saveRead := m.config["save"]
	switch {
	case m.info["aof_enabled"] == "1":
		return pass("", "AOF on")
	case !saveRead:
		return warn("", fmt.Sprintf("cannot read the persistence settings (%s): %s; check them with your provider: without AOF or RDB snapshots a restart loses the ledger, and only AOF (appendonly yes, see deploy/redis.conf) keeps the writes since the last snapshot",
			configProblem(m.configErr), infoPersistence(m)))
	case save != "":
		return warn("", "RDB snapshots only (save "+save+"): a restart loses every write since the last snapshot; set appendonly yes (see deploy/redis.conf)")
	}
	return fail("", "neither AOF nor RDB snapshots are on: a restart loses the ledger; set appendonly yes (see deploy/redis.conf)")
}

// configProblem says why CONFIG GET could not read a setting.
func configProblem(err error) string {
	var re redis.Error
	switch {
	case err == nil:
		return "CONFIG GET did not return it"
	case errors.As(err, &re): // Redis answered: NOPERM, or CONFIG renamed away
		return "CONFIG GET refused: " + strings.ReplaceAll(err.Error(), "\n", " ")
	}
	return "CONFIG GET failed: " + strings.ReplaceAll(err.Error(), "\n", " ")
}

// infoPersistence says what INFO persistence tells of m's persistence
// without its settings: whether AOF is on, and the RDB snapshots made
// since the server started.
func infoPersistence(m node) string {
	i := m.info
	if len(i) == 0 {
		return fmt.Sprintf("INFO persistence could not be read either (%v)", m.infoErr)
	}
	var facts []string
	switch i["aof_enabled"] {
	case "0":
		facts = append(facts, "AOF off")
	case "":
		facts = append(facts, "AOF not reported")
	}
	if n := i["rdb_saves"]; n != "" { // Redis 7 and later
		s := n + " RDB snapshot(s) since the server started"
		if t, err := strconv.ParseInt(i["rdb_last_save_time"], 10, 64); err == nil && n != "0" {
			s += ", the last at " + time.Unix(t, 0).UTC().Format(time.RFC3339)
		}
		facts = append(facts, s)
	}
	if st := i["rdb_last_bgsave_status"]; st != "" && st != "ok" {
		facts = append(facts, "the last snapshot attempt: "+st)
	}
	if c := i["rdb_changes_since_last_save"]; c != "" {
		facts = append(facts, c+" change(s) since the last snapshot")
	}
	return "INFO persistence says " + strings.Join(facts, ", ")
}

// eviction checks node m's maxmemory-policy, read as the workers read it
// (INFO memory, else CONFIG GET); declared is the environment's
// redis.maxmemory_policy, which the workers take for a policy Redis does
// not say, and so does doctor.
func eviction(m node, declared string) Check {
	if m.replica && m.info["maxmemory_policy"] == "" && m.infoErr != nil { // a replica this machine cannot reach
		return warn("", fmt.Sprintf("cannot read maxmemory-policy (INFO memory: %s): check that it is noeviction: an evicted ledger entry could mean a second send", strings.ReplaceAll(m.infoErr.Error(), "\n", " ")))
	}
	pol := cmp.Or(m.info["maxmemory_policy"], m.config["maxmemory-policy"])
	switch {
	case pol == "" && declared == "noeviction":
		return pass("", "maxmemory-policy not said by Redis (INFO memory, CONFIG GET); declared noeviction (redis.maxmemory_policy), which the workers take for it")
	case pol == "":
		return fail("", "cannot read maxmemory-policy (INFO memory does not say it; "+configProblem(m.configErr)+"): workers send nothing until they can; "+
			"allow the Redis user INFO or CONFIG GET, or, where Redis hides it, make sure with its provider that it is noeviction and set redis.maxmemory_policy: noeviction")
	case pol != "noeviction":
		return fail("", fmt.Sprintf("maxmemory-policy is %q: an evicted ledger entry could mean a second send; set maxmemory-policy noeviction", pol))
	}
	return pass("", "maxmemory-policy noeviction")
}

// version checks node m's Redis version, when known.
func version(m node) Check {
	if v := m.info["redis_version"]; v != "" && redisMajor(v) < 6 {
		return fail("", "Redis "+v+" is too old: asynq needs Redis 6 or later")
	}
	return pass("", "")
}

// redisFail is a failed check for an error of Redis, with its advice on
// the table's one line: infrastructure unless the environment's Redis
// settings (a password, a permission) must change.
func redisFail(name string, err error) Check {
	err = redisconn.Explain(err)
	c := fail(name, strings.ReplaceAll(err.Error(), "\n", " "))
	c.Infra = !redisconn.IsSettings(err)
	return c
}

// guarantee says what the deployment guarantees about the ledger's claims,
// the writes that keep a recipient from being sent twice, from what was
// read of its masters ms.
func guarantee(ctx context.Context, e *environment.Environment, rdb redis.UniversalClient, ms []node) Check {
	const name = "at most once"
	acks, err := redisconn.ReplicaAcks(ctx, rdb, e.Redis.MinReplicaAcks)
	if err != nil {
		return redisFail(name, err)
	}
	// Of the masters: the fewest replicas connected; of every node read
	// (the replicas Sentinel may promote too): the lowest
	// min-replicas-to-write and the weakest appendfsync read, and why a
	// setting could not be read.
	replicas, minWrite, fsync, masters := -1, -1, "", 0
	var noAOF []string // the nodes with appendonly no
	var aofUnknown, minWriteUnknown, fsyncUnknown error
	for _, m := range ms {
		if m.neverPromoted() {
			continue // its settings never hold the ledger
		}
		if m.info["aof_enabled"] == "0" {
			noAOF = append(noAOF, m.addr)
		}
		if m.info["aof_enabled"] == "" && aofUnknown == nil {
			aofUnknown = cmp.Or(m.infoErr, errors.New("INFO persistence has no aof_enabled"))
		}
		if !m.replica {
			masters++
			n, _ := strconv.Atoi(m.info["connected_slaves"])
			if replicas < 0 || n < replicas {
				replicas = n
			}
		}
		if v, ok := m.config["min-replicas-to-write"]; ok {
			if n, _ := strconv.Atoi(v); minWrite < 0 || n < minWrite {
				minWrite = n
			}
		} else if minWriteUnknown == nil {
			minWriteUnknown = errors.New(configProblem(m.configErr))
		}
		if m.info["aof_enabled"] != "1" {
			continue
		}
		if v, ok := m.config["appendfsync"]; !ok {
			fsyncUnknown = cmp.Or(fsyncUnknown, errors.New(configProblem(m.configErr)))
		} else if fsync == "" || fsyncRank[v] < fsyncRank[fsync] {
			fsync = v
		}
	}
	const acked = "every claim is acknowledged by %s before its message goes to SMTP, so a failover loses no claim; "
	// What runs the ledger: one Redis, Sentinel's master, or a Cluster's
	// masters. Only Sentinel and Cluster promote a replica: a single Redis
	// with replicas attached by hand is judged as one Redis, since a
	// restarted master resynchronises its replicas from its own file.
	_, cluster := rdb.(*redis.ClusterClient)
	failover := cluster || e.Redis.Sentinel.Master != ""
	single, with, hand := "a single Redis without replicas", "a single Redis with", ""
	var shards []redisconn.MasterReplicas // a Cluster's masters and their replicas
	for _, m := range ms {
		if cluster && !m.replica {
			n, _ := strconv.Atoi(m.info["connected_slaves"])
			shards = append(shards, redisconn.MasterReplicas{Addr: m.addr, Replicas: n})
		}
	}
	// A Cluster of which only some masters have replicas, none waited for:
	// each master named with what it guarantees (mixed sets hand, and a
	// pass with appendfsync always is a warning).
	without, withReplicas := redisconn.Fewer(shards, 1), redisconn.More(shards, 0)
	mixed := cluster && acks == 0 && len(without) > 0 && len(withReplicas) > 0
	addReplica := "add a replica with Sentinel"
	if cluster {
		addReplica = "attach a replica to each master (redis-cli -h HOST -p PORT CLUSTER REPLICATE NODE-ID, the master's NODE-ID from its CLUSTER MYID) and set redis.min_replica_acks to auto"
	}
	switch {
	case mixed:
		slices.Sort(without)
		slices.Sort(withReplicas)
		single = "a Redis Cluster whose master(s) " + strings.Join(without, ", ") + " have no replica"
		with, addReplica = single+", with", "attach a replica to each master without one"
		hand = "; master(s) " + strings.Join(withReplicas, ", ") + " have replicas, but redis.min_replica_acks is 0: no claim waits for them, so a failover of one of these masters can lose its last claims, and their recipients could be sent twice too; attach a replica to each master without one (redis-cli -h HOST -p PORT CLUSTER REPLICATE NODE-ID, the master's NODE-ID from its CLUSTER MYID), then set redis.min_replica_acks to auto"
	case cluster:
		single, with = fmt.Sprintf("a Redis Cluster whose %d masters have no replicas", masters), fmt.Sprintf("a Redis Cluster of %d masters, each with", masters)
	case !failover && replicas > 0:
		single, with = fmt.Sprintf("a single Redis with %d replica(s) but no Sentinel", replicas), fmt.Sprintf("a single Redis (%d replica(s), no Sentinel) with", replicas)
		hand = "; its replica(s) change none of this: without Sentinel (redis.sentinel) nothing promotes one, and a restarted master resynchronises them from its own file, so what they acknowledged goes with it"
	}
	promote, promoted := "", ""
	if failover && slices.ContainsFunc(ms, func(m node) bool { return m.replica && !m.neverPromoted() }) {
		promote = " and the replicas " + promoter(ms) + " may promote"
	}
	if acks > 0 && replicas >= acks && e.Redis.Sentinel.Master != "" {
		c, why, ok := failoverCheck(promotionOf(ms), name, acks, e.Redis.AutoReplicaAcks())
		if !ok {
			return c
		}
		promoted = "; " + why + ";"
	}
	by, more := fmt.Sprintf("%d replica(s)", acks), redisconn.More(shards, acks)
	if cluster && e.Redis.AutoReplicaAcks() {
		// auto waits on each master for its own replicas, at least 1
		// (redisconn.ClusterAcks): only a master without one holds.
		var each []string
		for _, m := range shards {
			each = append(each, fmt.Sprintf("%s: %d", m.Addr, max(m.Replicas, 1)))
		}
		acks, more = 1, nil
		by = "every replica of the master serving its campaign's slot (" + strings.Join(each, ", ") + heldNote(ctx, rdb) + ")"
	}
	switch {
	case acks > 0 && replicas < acks && cluster:
		return fail(name, fmt.Sprintf("every claim must be acknowledged by %d replica(s), but master(s) %s have fewer connected: the campaigns whose slot they serve send nothing until they have %d; start or attach the replicas each lacks (a spare node attaches with redis-cli -h HOST -p PORT CLUSTER REPLICATE NODE-ID, the master's NODE-ID from its CLUSTER MYID), or lower redis.min_replica_acks (0 waits for none: a failover can then lose the last claims)", acks, strings.Join(redisconn.Fewer(shards, acks), ", "), acks))
	case acks > 0 && replicas < acks:
		return fail(name, tooFewReplicas(masterAddr(ms), acks, replicas))
	case acks > 0 && len(more) > 0:
		return warn(name, fmt.Sprintf("redis.min_replica_acks is %d, but master(s) %s have more replicas: cut off in a minority partition (until cluster-node-timeout passes) or left by CLUSTER FAILOVER TAKEOVER, such a master keeps accepting claims that its other replica(s) acknowledge and the promoted replica never gets, and their recipients could be sent twice; set redis.min_replica_acks to auto (every replica of the master serving the campaign's slot)",
			acks, strings.Join(more, ", ")))
	// One Redis, replicas or none: its append-only file decides (from case
	// noAOF on).
	case failover && acks > 0 && minWrite >= 0 && minWrite < 1:
		return warn(name, fmt.Sprintf(acked+"also set min-replicas-to-write 1 on the masters%s (deploy/redis.conf), so that an old master cut off by a failover accepts no control change or queue write it would lose", by, promote))
	case failover && acks > 0 && minWriteUnknown != nil:
		return warn(name, fmt.Sprintf(acked+"min-replicas-to-write could not be read (%v): check that it is 1 on the masters%s (deploy/redis.conf; with your provider), so that an old master cut off by a failover accepts no control change or queue write it would lose", by, minWriteUnknown, promote))
	case failover && acks > 0:
		and := ", and" // after the promotion's own sentence, ending in ";": " and"
		if promoted != "" {
			and = " and"
		}
		return pass(name, fmt.Sprintf("every claim is acknowledged by %s before its message goes to SMTP%s%s masters without a replica refuse writes: a failover loses no claim", by, promoted, and))
	case failover && replicas > 0:
		return warn(name, fmt.Sprintf("%d replica(s) connected, but redis.min_replica_acks is 0: claims are not waited for, so a failover can lose the last claims and their recipients could be sent twice; set min_replica_acks to auto", replicas))
	case len(noAOF) > 0:
		slices.Sort(noAOF)
		return fail(name, single+", and appendonly is no on "+strings.Join(noAOF, ", ")+": a restart of that redis-server loses every claim since its last snapshot, if any, and those recipients could be sent twice; set appendonly yes there (deploy/redis.conf), or "+addReplica+hand)
	case aofUnknown != nil:
		return warn(name, fmt.Sprintf("unknown: Redis's persistence could not be read (%v), so whether a restart of redis-server can lose claims is not known; check that appendonly is yes (deploy/redis.conf), or "+addReplica+hand, aofUnknown))
	case fsyncUnknown != nil:
		return warn(name, fmt.Sprintf(single+": a crash of redis-server loses no claim, but a crash of the host can lose the claims its append-only file had not yet fsynced, and appendfsync could not be read (%v): up to a second of them with everysec, the last 30 s or so with no (the kernel writes the file back when it likes), none with always; those recipients could be sent twice; check it with your provider, or "+addReplica+hand, fsyncUnknown))
	case fsync == "always" && mixed:
		return warn(name, with+" appendfsync always: every claim is on disk before its message goes to SMTP, even a crash of the host loses none"+hand)
	case fsync == "always":
		return pass(name, with+" appendfsync always: every claim is on disk before its message goes to SMTP, even a crash of the host loses none"+hand)
	case fsync == "no":
		return warn(name, single+": a crash of redis-server loses no claim, but a crash of the host can lose the last 30 s or so of them (appendfsync no: the kernel writes the file back when it likes, about every 30 s on Linux), and those recipients could be sent twice; set appendfsync everysec (deploy/redis.conf) to lose at most a second of them, or for none appendfsync always (its cost is in docs/benchmarks.md) or "+addReplica+hand)
	}
	return warn(name, single+": a crash of redis-server loses no claim, but a crash of the host can lose the last second of them (appendfsync "+fsync+"), and those recipients could be sent twice; for none, set appendfsync always (its cost is in docs/benchmarks.md) or "+addReplica+hand)
}

// tooFewReplicas says that master (host:port) has replicas connected, fewer
// than the acks (redis.min_replica_acks) every claim waits for, so that
// nothing is sent, and what to do: start or attach the replicas missing,
// or lower redis.min_replica_acks to the replicas connected.
func tooFewReplicas(master string, acks, replicas int) string {
	host, port, _ := strings.Cut(master, ":")
	have := fmt.Sprintf("only %d of the required %d is connected", replicas, acks)
	start := fmt.Sprintf("start or attach %d more replica(s)", acks-replicas)
	if replicas == 0 {
		have, start = "no replica is connected", fmt.Sprintf("start or attach %d replica(s)", acks)
	}
	return fmt.Sprintf("every claim must be acknowledged by %d replica(s) (redis.min_replica_acks %d), but %s to master %s: nothing will be sent until %d are; %s (replicaof %s %s in each replica's redis.conf; redis-cli -h %s -p %s INFO replication lists those connected), or lower redis.min_replica_acks to %d (the replicas connected; 0 waits for none, and a failover can then lose the last claims)",
		acks, acks, have, master, acks, start, host, port, host, port, replicas)
}

// masterAddr is the address of the master among ms (the first one read),
// "(address unknown)" when none is known.
func masterAddr(ms []node) string {
	for _, m := range ms {
		if !m.replica && m.addr != "" {
			return m.addr
		}
	}
	return "(address unknown)"
}

// inDoubt says how many recipients a worker's crash can leave in doubt:
// one claim window per connection.
func inDoubt(e *environment.Environment) Check {
	return pass("in doubt after a crash", fmt.Sprintf("a worker killed mid-send leaves at most %d recipients in doubt (claim_window %d x concurrency %d): reported in-doubt, never sent again; a smaller claim_window lowers it, at more Redis CPU per message",
		e.ClaimWindow*e.Concurrency, e.ClaimWindow, e.Concurrency))
}

// Journal checks that the delivery journal's directory can be written on
// this machine by this user, as a worker does: it creates the directory
// when missing (a worker would), fsyncs it, and writes, fsyncs and removes
// a file in it. It says what journal.fsync leaves to a crash of the host.
// A warning, not a failure, when it cannot: the workers may run elsewhere,
// as another user.
func Journal(j environment.Journal) Check {
	const name = "delivery journal"
	if j.Dir == "" {
		return warn(name, "none (no state directory): workers keep no record of deliveries outside Redis, so a loss of Redis state can be neither detected nor recovered from; set state_dir or journal.dir")
	}
	if err := os.MkdirAll(j.Dir, 0o750); err != nil {
		return warn(name, fmt.Sprintf("%s cannot be created on this machine by this user (%v): a worker here would not start; fix its permissions, or set journal.dir (workers elsewhere: run doctor there, as their user)", j.Dir, err))
	}
	f, err := os.CreateTemp(j.Dir, ".doctor-*")
	if err == nil {
		_, err = f.WriteString("doctor\n")
		err = cmp.Or(err, f.Sync(), f.Close(), os.Remove(f.Name()), journal.SyncDir(j.Dir))
	}
	if err != nil {
		return warn(name, fmt.Sprintf("%s cannot be written on this machine by this user (%v): a worker here would pause every campaign it sends (action journal); fix its permissions or space, or set journal.dir (workers elsewhere: run doctor there, as their user)", j.Dir, err))
	}
	// A worker checks Redis against the deliveries in its own directory
	// only; claims wait for the checks of the workers running (README,
	// "The limits").
	const shared = "; a worker checks only the deliveries journaled in its own directory, and after a change of Redis state claims wait for every running worker's check: a directory that no running worker reads is checked by nobody, so keep a worker running on every machine whose directory holds deliveries of a campaign that runs, or give the workers one shared directory"
	if j.FsyncAlways {
		return pass(name, j.Dir+" is writable by this user; fsynced before each claim window is sent (journal.fsync: always): a crash of the host loses no claim"+shared)
	}
	return pass(name, fmt.Sprintf("%s is writable by this user; fsynced every %s: a crash of the host can lose that much of it (journal.fsync: always loses no claim, at x0.86-0.88 msg/s, docs/benchmarks.md)%s", j.Dir, j.FsyncInterval, shared))
}

// fsyncRank orders appendfsync settings from the weakest.
var fsyncRank = map[string]int{"no": 0, "everysec": 1, "always": 2}

// redisMajor is the major version of a Redis version string ("7.2.4" -> 7).
func redisMajor(v string) int {
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}

// SMTP checks the SMTP server of cfg the way the sender connects to it.
// from is the campaign's sender, which the check without credentials
// gives MAIL FROM as every message will ("" when no campaign is given:
// the null sender).
// Once EHLO (and STARTTLS) passed, a check of each extension of the
// relay that matters to the sender follows (extensionChecks).
func SMTP(ctx context.Context, cfg send.Config, from string) []Check {
	checks, _ := smtpChecks(ctx, cfg, from)
	return checks
}

// smtpChecks is SMTP, with the extensions the relay announced (nil when
// the checks stopped before: send.Report.Extensions).
func smtpChecks(ctx context.Context, cfg send.Config, from string) ([]Check, map[string]string) {
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	rep, _ := send.Check(cctx, cfg, from)
	var out []Check
	for _, s := range rep.Steps {
		c := Check{Name: "smtp " + s.Name, Status: Pass, Message: s.Msg, Infra: !s.OK && s.Name == "connect"}
		switch {
		case !s.OK:
			c.Status = Fail
		case s.Warn:
			c.Status = Warn
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		c := fail("smtp", "no check could run against "+rep.Server)
		c.Infra = true
		out = append(out, c)
	}
	if rep.Extensions != nil {
		out = append(out, extensionChecks(rep.Extensions)...)
	}
	return out, rep.Extensions
}

// Templates checks that the engine's template is complete in every catalog
// language. An incomplete one fails when recipients need it (need counts
// them per language, when known) or when that is not known, and is a
// warning when no recipient needs it.
func Templates(e *render.Engine, need map[string]int, known bool) []Check {
	var out []Check
	for _, c := range e.Languages() {
		lacks := "incomplete: lacks " + strings.Join(c.Missing, ", ")
		switch {
		case c.Covered:
			out = append(out, pass("template "+c.Lang, "complete"))
		case known && need[c.Lang] == 0:
			out = append(out, warn("template "+c.Lang, lacks+"; no recipient of the campaign needs it"))
		case known:
			out = append(out, fail("template "+c.Lang, fmt.Sprintf("%s; %d recipient(s) of this language would be refused", lacks, need[c.Lang])))
		default:
			out = append(out, fail("template "+c.Lang, lacks+"; recipients of this language would be refused"))
		}
	}
	return out
}

// heldNote is what doctor adds, on Cluster with auto, when the cluster
// does not list each master's replicas (no CLUSTER SHARDS: Redis < 7, or
// an ACL refusing it): a master the workers have not judged yet (a replica
// promoted between two of their passes, or a master silent since a worker
// started) is held, said in words (redisconn.HoldWords), not as the
// number it waits for.
func heldNote(ctx context.Context, rdb redis.UniversalClient) string {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return ""
	}
	if ms, listed, _ := redisconn.ClusterMap(ctx, cc); len(ms) == 0 || listed != nil {
		return ""
	}
	return "; a master the workers have not judged yet, such as a replica promoted between two of their passes, is " + redisconn.HoldWords
}
