package redisconn

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
)

// Unreachable reports whether err says that Redis (or the network to it)
// could not be reached, as opposed to an error Redis answered with: a
// network error, a refused, reset or unroutable connection, no free
// connection in time, no Sentinel or Cluster node answering, or no reply
// in time (a server that stopped answering: go-redis returns the bare
// read timeout, no *net.OpError, once a connection timed out).
func Unreachable(err error) bool {
	return err != nil && (errors.As(err, new(*net.OpError)) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, redis.ErrPoolTimeout) ||
		strings.Contains(err.Error(), "all sentinels specified in configuration are unreachable") ||
		strings.Contains(err.Error(), "cluster has no nodes"))
}

// SlotMoving reports whether err is Redis Cluster's answer about a hash
// slot being moved between masters (a resharding): TRYAGAIN (a command's
// keys are split between the two), ASK (they have all gone to the
// importing master, and the command was sent where ASK is not followed:
// a node's own client, as for a WAIT on the same connection) or MOVED (the
// slot has moved since the client read the slot map). Nothing was
// written: the command can be sent again once the move is over.
func SlotMoving(err error) bool {
	return redis.HasErrorPrefix(err, "TRYAGAIN") || redis.HasErrorPrefix(err, "ASK ") || redis.HasErrorPrefix(err, "MOVED ")
}

// ReplyError is an error Redis answered with, and what an operator can do
// about it.
type ReplyError struct {
	Err    error
	Advice string
	// Settings: the environment's Redis settings are wrong (a password, a
	// permission), not the server's state of the moment.
	Settings bool
}

// Error is the error followed by the advice, on its own line.
func (e *ReplyError) Error() string { return e.Err.Error() + "\n" + e.Advice }

// Unwrap returns the error as Redis answered it.
func (e *ReplyError) Unwrap() error { return e.Err }

// replies maps the prefix of an error reply to advice. Most come and go
// with a failover or a restart: the command can be run again.
var replies = []struct {
	prefix, advice string
	settings       bool
}{
	{"READONLY", "Redis answered READONLY: the server written to is a replica. During a failover this lasts a few seconds: try again. If it lasts, the environment's redis.url names a replica: point it at the master, or use redis.sentinel.", false},
	{"NOREPLICAS", "Redis refused the write (NOREPLICAS): the master has fewer replicas connected than its min-replicas-to-write. Wait for the replicas or the failover (redis-cli INFO replication), then try again.", false},
	{"MASTERDOWN", "Redis answered MASTERDOWN: the replica lost its master. Wait for the failover to finish, then try again.", false},
	{"CLUSTERDOWN", "The Redis Cluster is down (a slot has no master): wait for it to recover (redis-cli --cluster check HOST:PORT), then try again.", false},
	{"TRYAGAIN", slotMoveAdvice, false},
	{"ASK ", slotMoveAdvice, false},
	{"MOVED ", movedAdvice, false},
	{"LOADING", "Redis is loading its data after a restart: try again once it has loaded (redis-cli INFO persistence shows loading:0).", false},
	{"BUSY", "Redis is busy running a script that has run too long: wait for it (see SCRIPT KILL in the Redis documentation), then try again.", false},
	{"OOM", "Redis is out of memory (maxmemory) and refused the write. Free memory or raise maxmemory (tidings needs maxmemory-policy noeviction), then try again.", false},
	{"MISCONF", "Redis refuses writes because it could not save its snapshot to disk (stop-writes-on-bgsave-error): fix the Redis server's disk (space, permissions), then try again.", false},
	{"NOAUTH", "Redis asks for a password: set redis.password_file in the environment (or TIDINGS_REDIS_PASSWORD).", true},
	{"WRONGPASS", "Redis refused the user name or password: check redis.password_file (or TIDINGS_REDIS_PASSWORD) and the user in redis.url.", true},
	{"NOPERM", "The Redis user is not allowed a command, key or channel tidings uses (Redis ACL; ACL LOG on the server names it): give the user the rules tidings needs, " + MinimalACL + " (README, Redis user and ACL), or every command, key and channel (~* &* +@all) on a Redis kept for tidings.", true},
}

// slotMoveAdvice is what to do about an answer of a Redis Cluster moving
// a slot (SlotMoving): nothing was written, and a resharding that stopped
// half-way (redis-cli killed, a MIGRATE that failed) leaves the slot
// refusing the campaign's scripts until it is finished.
const slotMoveAdvice = "The Redis Cluster is moving the campaign's slot (a resharding) and refused the command: nothing was written; try again once the move is over. If it lasts, the resharding stopped half-way: redis-cli --cluster check HOST:PORT lists the open slots, and redis-cli --cluster fix HOST:PORT finishes the move."

// movedAdvice is what to do about MOVED: another node serves the slot
// now (a failover promoted a replica, or a resharding moved the slot), and
// the client had not yet read the new slot map: nothing was written, and
// the command run again reads it.
const movedAdvice = "The Redis Cluster answered that another node serves the campaign's slot now (a failover promoted a replica, or a resharding moved the slot) and refused the command: nothing was written; run it again in a few seconds. If it lasts, a resharding stopped half-way: redis-cli --cluster check HOST:PORT lists the open slots, and redis-cli --cluster fix HOST:PORT finishes the move."

// sentinelReplies maps the prefix of an error reply of the Sentinels
// (go-redis's "all sentinels ... unreachable", joining what each answered)
// to advice: the Sentinels have a password of their own.
var sentinelReplies = []struct{ prefix, advice string }{
	{"NOAUTH", "The Sentinels ask for a password: set redis.sentinel.password_file in the environment (or TIDINGS_REDIS_SENTINEL_PASSWORD); the data nodes' password (redis.password_file) is not sent to the Sentinels."},
	{"WRONGPASS", "The Sentinels refused the password: check redis.sentinel.password_file (or TIDINGS_REDIS_SENTINEL_PASSWORD), the Sentinels' password, not the data nodes'."},
}

// fromSentinels reports whether err is go-redis's error that no Sentinel
// gave the master's address, which joins what each Sentinel answered.
func fromSentinels(err error) bool {
	return strings.Contains(err.Error(), "all sentinels specified in configuration are unreachable")
}

// NoAnswerError is a command Redis did not answer in time: the connection
// was open, no reply came.
type NoAnswerError struct{ Err error }

// Error is the error followed by what to check, on its own line.
func (e *NoAnswerError) Error() string {
	return e.Err.Error() + "\nRedis did not answer in time: the connection is open but no reply came (redis-server stopped or frozen, its host overloaded or swapping, a slow disk under its append-only file, or a long command). " +
		"Check that it answers (redis-cli -h HOST -p PORT PING) and its log, then run the command again: tidings status says where it stopped."
}

// Unwrap returns the client's error.
func (e *NoAnswerError) Unwrap() error { return e.Err }

// Explain returns err as a *ReplyError when Redis answered it with an
// error reply it has advice for, as a *NoAnswerError when it did not
// answer in time, and err as it is otherwise. A password the Sentinels
// ask for or refuse gets advice of its own: the Sentinels' password
// setting, not the data nodes'. An *UnreachableError (a dial that failed)
// keeps its own advice.
func Explain(err error) error {
	var re redis.Error
	var rp *ReplyError
	if errors.Is(err, os.ErrDeadlineExceeded) && !errors.As(err, new(*NoAnswerError)) && !errors.As(err, new(*UnreachableError)) {
		return &NoAnswerError{Err: err}
	}
	if !errors.As(err, &re) || errors.Is(err, redis.Nil) || errors.As(err, &rp) {
		return err
	}
	if fromSentinels(err) {
		for _, r := range sentinelReplies {
			if strings.HasPrefix(re.Error(), r.prefix) {
				return &ReplyError{Err: err, Advice: r.advice, Settings: true}
			}
		}
	}
	for _, r := range replies {
		if strings.HasPrefix(re.Error(), r.prefix) {
			return &ReplyError{Err: err, Advice: r.advice, Settings: r.settings}
		}
	}
	return err
}

// IsSettings reports whether err is a *ReplyError that the environment's
// Redis settings must fix.
func IsSettings(err error) bool {
	var rp *ReplyError
	return errors.As(err, &rp) && rp.Settings
}

// MinimalACL is the least a Redis user needs for every command of tidings
// (ACL SETUSER rules; README, Redis user and ACL): its own keys, asynq's
// and the rate limiter's; its control channel and asynq's cancel channel;
// every command but the dangerous ones (CONFIG, KEYS, DEBUG, SHUTDOWN,
// FLUSHALL, ...), with INFO (the replication a store waits for). doctor
// also tries CONFIG GET and ACL DRYRUN, and says so when refused.
const MinimalACL = "~tidings:* ~asynq:* ~rate:tidings:* &tidings:control &asynq:cancel +@all -@dangerous +info"

// RefusedError is an error the environment's Redis settings must fix (a
// password, a permission: IsSettings), however deep the command it
// refused was, naming the environment and the Redis it was refused at.
type RefusedError struct {
	Env   string // the environment's name
	Where string // its Redis (Addrs)
	Err   error  // a *ReplyError in its chain
}

// Error names the environment and its Redis, the error with its advice,
// and doctor, which names every right missing at once.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("redis for environment %s (%s) refused: %s\nThen run 'tidings doctor --env %s': it checks every right tidings needs.", e.Env, e.Where, e.Err, e.Env)
}

// Unwrap returns the error with its advice.
func (e *RefusedError) Unwrap() error { return e.Err }

// Refused returns err as a *RefusedError of environment e when Redis
// refused it for e's settings (IsSettings once Explained: NOPERM, NOAUTH,
// WRONGPASS) and it does not name e's Redis yet (Dial's errors do), and
// err as it is otherwise.
func Refused(err error, e *environment.Environment) error {
	if e == nil || errors.As(err, new(*RefusedError)) {
		return err
	}
	ex := Explain(err)
	if !IsSettings(ex) || strings.HasPrefix(err.Error(), "redis for environment "+e.Name+" (") {
		return err
	}
	where := e.Redis.URL
	if opts, oerr := e.RedisOptions(); oerr == nil {
		where = Addrs(opts)
	}
	return &RefusedError{Env: e.Name, Where: where, Err: ex}
}
