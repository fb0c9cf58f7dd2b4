// Package doctor checks that an environment is fit to send: its Redis
// (reachable, persistence on, maxmemory-policy noeviction, a version asynq
// supports, and what the deployment guarantees about sending at most once),
// its SMTP server (connect, EHLO, STARTTLS as the TLS policy requires,
// AUTH), the delivery journal's directory (written as a worker does), and
// optionally a campaign's templates (complete in every catalog language).
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

// Redis checks environment e's Redis.
func Redis(ctx context.Context, e *environment.Environment) []Check {
	rdb, err := redisconn.Dial(ctx, e)
	var ue *redisconn.UnreachableError
	var rp *redisconn.ReplyError
	switch {
	case errors.As(err, &ue):
		c := fail("redis reachable", fmt.Sprintf("%s: %s; check redis.url / TIDINGS_REDIS_URL and that Redis runs", ue.Where, ue.Err))
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
	raw, err := rdb.Info(cctx, "persistence", "memory", "server").Result()
	if err = redisconn.Explain(err); redisconn.IsSettings(err) {
		// Not allowed (NOPERM): nothing below could be judged. (Other
		// errors, such as the embedded Redis's to a sectioned INFO, leave
		// the checks below to say what they cannot see.)
		return append(checks, redisFail("redis info", err))
	}
	info := redisconn.ParseInfo(raw)
	save := ""
	if v, err := rdb.ConfigGet(cctx, "save").Result(); err == nil {
		save = v["save"]
	}
	switch {
	case info["aof_enabled"] == "1":
		checks = append(checks, pass("redis persistence", "AOF on"))
	case save != "":
		checks = append(checks, warn("redis persistence", "RDB snapshots only (save "+save+"): a restart loses every write since the last snapshot; set appendonly yes (see deploy/redis.conf)"))
	default:
		checks = append(checks, fail("redis persistence", "neither AOF nor RDB snapshots are on: a restart loses the ledger; set appendonly yes (see deploy/redis.conf)"))
	}
	if pol := info["maxmemory_policy"]; pol == "noeviction" {
		checks = append(checks, pass("redis eviction", "maxmemory-policy noeviction"))
	} else {
		checks = append(checks, fail("redis eviction", fmt.Sprintf("maxmemory-policy is %q: an evicted ledger entry could mean a second send; set maxmemory-policy noeviction", pol)))
	}
	if v := info["redis_version"]; v != "" && redisMajor(v) < 6 {
		checks = append(checks, fail("redis version", "Redis "+v+" is too old: asynq needs Redis 6 or later"))
	}
	return append(checks, guarantee(cctx, e, rdb), inDoubt(e))
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
// the writes that keep a recipient from being sent twice.
func guarantee(ctx context.Context, e *environment.Environment, rdb redis.UniversalClient) Check {
	const name = "at most once"
	acks, err := redisconn.ReplicaAcks(ctx, rdb, e.Redis.MinReplicaAcks)
	if err != nil {
		return redisFail(name, err)
	}
	// Replicas connected to the master(s), and their min-replicas-to-write.
	replicas, minWrite, fsync, noAOF := -1, -1, "", false
	var aofUnknown error // why a master's persistence could not be read
	var mu sync.Mutex    // ForEachMaster calls look concurrently
	look := func(ctx context.Context, c redis.Cmdable) error {
		raw, ierr := c.Info(ctx, "replication", "persistence").Result()
		info := redisconn.ParseInfo(raw)
		mu.Lock()
		defer mu.Unlock()
		noAOF = noAOF || info["aof_enabled"] == "0"
		if info["aof_enabled"] == "" && aofUnknown == nil {
			aofUnknown = cmp.Or(redisconn.Explain(ierr), errors.New("INFO persistence has no aof_enabled"))
		}
		n, _ := strconv.Atoi(info["connected_slaves"])
		if replicas < 0 || n < replicas {
			replicas = n
		}
		if v, err := c.ConfigGet(ctx, "min-replicas-to-write").Result(); err == nil {
			m, _ := strconv.Atoi(v["min-replicas-to-write"])
			if minWrite < 0 || m < minWrite {
				minWrite = m
			}
		}
		if v, err := c.ConfigGet(ctx, "appendfsync").Result(); err == nil && info["aof_enabled"] == "1" && (fsync == "" || fsyncRank[v["appendfsync"]] < fsyncRank[fsync]) {
			fsync = v["appendfsync"] // the weakest of the masters
		}
		return nil
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return look(ctx, m) })
	} else {
		_ = look(ctx, rdb)
	}
	switch {
	case acks > 0 && replicas < acks:
		return fail(name, fmt.Sprintf("every claim must be acknowledged by %d replica(s), but only %d is connected: nothing will be sent until the replicas are back (or set redis.min_replica_acks)", acks, replicas))
	case acks > 0 && minWrite < 1:
		return warn(name, fmt.Sprintf("every claim is acknowledged by %d replica(s) before its message goes to SMTP, so a failover loses no claim; also set min-replicas-to-write 1 on the masters (deploy/redis.conf), so that an old master cut off by a failover accepts no control change or queue write it would lose", acks))
	case acks > 0:
		return pass(name, fmt.Sprintf("every claim is acknowledged by %d replica(s) before its message goes to SMTP, and masters without a replica refuse writes: a failover loses no claim", acks))
	case replicas > 0:
		return warn(name, fmt.Sprintf("%d replica(s) connected, but redis.min_replica_acks is 0: claims are not waited for, so a failover can lose the last claims and their recipients could be sent twice; set min_replica_acks to auto", replicas))
	case noAOF:
		return fail(name, "a single Redis without replicas or an append-only file (appendonly no): a restart of redis-server loses every claim since its last snapshot, if any, and those recipients could be sent twice; set appendonly yes (deploy/redis.conf), or add a replica with Sentinel")
	case aofUnknown != nil:
		return warn(name, fmt.Sprintf("unknown: Redis's persistence could not be read (%v), so whether a restart of redis-server can lose claims is not known; check that appendonly is yes (deploy/redis.conf), or add a replica with Sentinel", aofUnknown))
	case fsync == "always":
		return pass(name, "a single Redis with appendfsync always: every claim is on disk before its message goes to SMTP, even a crash of the host loses none")
	}
	if fsync == "" {
		fsync = "unknown: the Redis user may not read it"
	}
	return warn(name, "a single Redis without replicas: a crash of redis-server loses no claim, but a crash of the host can lose the last second of them (appendfsync "+fsync+"), and those recipients could be sent twice; for none, set appendfsync always (its cost is in docs/benchmarks.md) or add a replica with Sentinel")
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
func SMTP(ctx context.Context, cfg send.Config) []Check {
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	rep, _ := send.Check(cctx, cfg)
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
	return out
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
