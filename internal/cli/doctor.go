package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/worker"
)

// doctorCheck is one line of the doctor's report.
type doctorCheck struct {
	name  string
	ok    bool
	warn  bool // passed, with a risk msg explains
	infra bool // a failure means a server is unreachable
	msg   string
}

func (a *app) cmdDoctor() *cobra.Command {
	var env string
	c := &cobra.Command{
		Use:   "doctor --env ENV [CAMPAIGN]",
		Short: "Preflight: Redis, persistence, noeviction, SMTP TLS and auth, templates",
		Long: `doctor checks that an environment is fit to send: Redis reachable, persistence
on (AOF or RDB snapshots) and maxmemory-policy noeviction (an evicted ledger
entry could mean a second send), and what the deployment guarantees about
sending at most once (replica acknowledgements, fsync); the SMTP server reachable, EHLO, STARTTLS as
the TLS policy requires, and AUTH when credentials are configured. With
CAMPAIGN it also checks that the campaign's templates are complete in every
catalog language. Each check says PASS, WARN (passed with a risk, such as
mail sent unencrypted) or FAIL, and what to do.

Exit 3 when Redis or SMTP is unreachable, 1 when another check fails.`,
		Example: `  tidings doctor --env production
  tidings doctor --env staging campaigns/altea.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.loadEnv(env)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var checks []doctorCheck
			for _, w := range e.Warnings() {
				fmt.Fprintf(a.stdout, "note: %s\n", w)
			}
			checks = append(checks, redisChecks(ctx, e)...)
			checks = append(checks, smtpChecks(ctx, smtpConfig(e))...)
			if len(args) == 1 {
				checks = append(checks, a.templateChecks(args[0])...)
			}
			failed, infra := 0, false
			for _, c := range checks {
				mark := "PASS"
				if c.warn {
					mark = "WARN"
				}
				if !c.ok {
					mark = "FAIL"
					failed++
					infra = infra || c.infra
				}
				fmt.Fprintf(a.stdout, "%s  %-22s %s\n", mark, c.name, c.msg)
			}
			switch {
			case infra:
				return &exitError{code: exitInfra, err: fmt.Errorf("%d check(s) failed", failed), quiet: true}
			case failed > 0:
				return problems("%d check(s) failed", failed)
			}
			fmt.Fprintln(a.stdout, "\nAll checks passed.")
			return nil
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment to check (required)")
	return c
}

func redisChecks(ctx context.Context, e *environment.Environment) []doctorCheck {
	opts, err := e.RedisOptions()
	if err != nil {
		return []doctorCheck{{name: "redis config", msg: err.Error()}}
	}
	rdb := redis.NewUniversalClient(opts)
	defer rdb.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(cctx).Err(); err != nil {
		return []doctorCheck{{name: "redis reachable", infra: true, msg: fmt.Sprintf("%s: %s; check redis.url / TIDINGS_REDIS_URL and that Redis runs", redisAddrs(opts), err)}}
	}
	checks := []doctorCheck{{name: "redis reachable", ok: true, msg: redisAddrs(opts)}}
	info := parseInfo(rdb.Info(cctx, "persistence", "memory", "server").Val())
	aof := info["aof_enabled"] == "1"
	save := ""
	if v, err := rdb.ConfigGet(cctx, "save").Result(); err == nil {
		save = v["save"]
	}
	switch {
	case aof:
		checks = append(checks, doctorCheck{name: "redis persistence", ok: true, msg: "AOF on"})
	case save != "":
		checks = append(checks, doctorCheck{name: "redis persistence", ok: true, msg: "RDB snapshots (save " + save + "); AOF (appendonly yes) loses less on a crash"})
	default:
		checks = append(checks, doctorCheck{name: "redis persistence", msg: "neither AOF nor RDB snapshots are on: a restart loses the ledger; set appendonly yes (see deploy/redis.conf)"})
	}
	pol := info["maxmemory_policy"]
	if pol == "noeviction" {
		checks = append(checks, doctorCheck{name: "redis eviction", ok: true, msg: "maxmemory-policy noeviction"})
	} else {
		checks = append(checks, doctorCheck{name: "redis eviction", msg: fmt.Sprintf("maxmemory-policy is %q: an evicted ledger entry could mean a second send; set maxmemory-policy noeviction", pol)})
	}
	if v := info["redis_version"]; v != "" && redisMajor(v) < 6 {
		checks = append(checks, doctorCheck{name: "redis version", msg: "Redis " + v + " is too old: asynq needs Redis 6 or later"})
	}
	return append(checks, guaranteeCheck(cctx, e, rdb))
}

// guaranteeCheck says what the deployment guarantees about the ledger's
// claims, the writes that keep a recipient from being sent twice.
func guaranteeCheck(ctx context.Context, e *environment.Environment, rdb redis.UniversalClient) doctorCheck {
	const name = "at most once"
	acks, err := worker.ReplicaAcks(ctx, rdb, e.Redis.MinReplicaAcks)
	if err != nil {
		return doctorCheck{name: name, infra: true, msg: err.Error()}
	}
	// Replicas connected to the master(s), and their min-replicas-to-write.
	replicas, minWrite, fsync := -1, -1, ""
	look := func(ctx context.Context, c redis.Cmdable) error {
		info := parseInfo(c.Info(ctx, "replication", "persistence").Val())
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
		if v, err := c.ConfigGet(ctx, "appendfsync").Result(); err == nil && info["aof_enabled"] == "1" {
			fsync = v["appendfsync"]
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
		return doctorCheck{name: name, msg: fmt.Sprintf("every claim must be acknowledged by %d replica(s), but only %d is connected: nothing will be sent until the replicas are back (or set redis.min_replica_acks)", acks, replicas)}
	case acks > 0 && minWrite < 1:
		return doctorCheck{name: name, ok: true, warn: true, msg: fmt.Sprintf("every claim is acknowledged by %d replica(s) before its message goes to SMTP, so a failover loses no claim; also set min-replicas-to-write 1 on the masters (deploy/redis.conf), so that an old master cut off by a failover accepts no control change or queue write it would lose", acks)}
	case acks > 0:
		return doctorCheck{name: name, ok: true, msg: fmt.Sprintf("every claim is acknowledged by %d replica(s) before its message goes to SMTP, and masters without a replica refuse writes: a failover loses no claim", acks)}
	case replicas > 0:
		return doctorCheck{name: name, ok: true, warn: true, msg: fmt.Sprintf("%d replica(s) connected, but redis.min_replica_acks is 0: claims are not waited for, so a failover can lose the last claims and their recipients could be sent twice; set min_replica_acks to auto", replicas)}
	case fsync == "always":
		return doctorCheck{name: name, ok: true, msg: "a single Redis with appendfsync always: every claim is on disk before its message goes to SMTP, even a crash of the host loses none"}
	default:
		return doctorCheck{name: name, ok: true, warn: true, msg: "a single Redis without replicas: a crash of redis-server loses no claim, but a crash of the host can lose the last second of them (appendfsync " + orNone(fsync) + "), and those recipients could be sent twice; for none, set appendfsync always (its cost is in docs/benchmarks.md) or add a replica with Sentinel"}
	}
}

func orNone(s string) string {
	if s == "" {
		return "off"
	}
	return s
}

// redisMajor is the major version of a Redis version string ("7.2.4" -> 7).
func redisMajor(v string) int {
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}

func parseInfo(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	return m
}

func smtpChecks(ctx context.Context, cfg send.Config) []doctorCheck {
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	rep, _ := send.Check(cctx, cfg)
	var out []doctorCheck
	for _, s := range rep.Steps {
		out = append(out, doctorCheck{name: "smtp " + s.Name, ok: s.OK, warn: s.Warn, infra: !s.OK && s.Name == "connect", msg: s.Msg})
	}
	if len(out) == 0 {
		out = append(out, doctorCheck{name: "smtp", infra: true, msg: "no check could run against " + rep.Server})
	}
	return out
}

func (a *app) templateChecks(file string) []doctorCheck {
	l, err := a.loadCampaign(file)
	if err != nil {
		return []doctorCheck{{name: "campaign", msg: err.Error()}}
	}
	var out []doctorCheck
	for _, c := range l.engine.Languages() {
		if c.Covered {
			out = append(out, doctorCheck{name: "template " + c.Lang, ok: true, msg: "complete"})
		} else {
			out = append(out, doctorCheck{name: "template " + c.Lang, msg: "incomplete: lacks " + strings.Join(c.Missing, ", ") + "; recipients of this language would be refused (tidings check shows where)"})
		}
	}
	return out
}
