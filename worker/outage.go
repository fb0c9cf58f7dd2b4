package worker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// outageLog logs what the worker's loops do when they find Redis
// unreachable: per loop (the message), the first failure of an outage at
// WARN, its repeats at DEBUG with a WARN again each outageRepeat, and its
// end at INFO with how long it lasted and how many failures it held back,
// so that a Redis away for a minute is a few lines of the log, not
// hundreds. A Redis Cluster refusing the scripts of a slot it is moving
// (a resharding: redisconn.SlotMoving), a Redis out of memory refusing
// every write (OOM: maxmemory reached under noeviction), and Redis
// refusing a command for the environment's settings (the user's rights
// or password: refused.go, said at ERROR) are held back the same way, in
// their own words, and so is a maxmemory-policy that may evict
// (evicting.go: the sends held, not a loop's error). Other errors Redis
// answers with (a replica, ...) are not an outage and are logged as they
// come.
type outageLog struct {
	log   *slog.Logger
	mu    sync.Mutex
	sites map[string]*outage
	// env and redis are the environment and its Redis, as a refusal
	// names them; gauge is tidings_worker_redis_refused (nil in tests of
	// the log alone), 1 while a site is refused.
	env, redis string
	gauge      prometheus.Gauge
}

type outage struct {
	since, warned time.Time
	held          int
	kind          outageKind
	err           error // the last one
}

// outageKind is what keeps a loop from Redis: unreachable, a Cluster
// moving a slot, Redis out of memory, Redis refusing the command for
// the environment's settings, or Redis's policy that may evict keys.
type outageKind int

const (
	notHeld outageKind = iota
	kindUnreachable
	kindSlotMove
	kindOutOfMemory
	kindRefused
	kindEvicting      // Redis's maxmemory-policy may evict (evicting.go)
	kindPolicyUnknown // Redis's maxmemory-policy cannot be read (evicting.go)
)

// outOfMemoryAdvice is what an operator does about Redis refusing writes
// for its maxmemory: the loops wait, nothing is sent meanwhile.
const outOfMemoryAdvice = "Redis is out of memory (maxmemory reached) and refuses every write: " +
	"nothing is sent until it takes writes again, and the worker resumes by itself then. " +
	"Raise maxmemory (redis-cli CONFIG SET maxmemory ...) or free memory on the instance; " +
	"tidings doctor checks the Redis settings tidings needs"

// outageWords is what warn and answered say of each kind: its first line
// (after the loop's message), its reminder each outageRepeat, its end, and
// the name of how long it lasted. A refusal's first and reminder lines are
// sayRefused's.
var outageWords = map[outageKind]struct{ first, again, ended, lasted string }{
	kindUnreachable: {
		first:  ": Redis is unreachable; until it answers, its repeats are logged at debug level",
		again:  ": Redis is still unreachable",
		ended:  "Redis answers again",
		lasted: "unreachable_for",
	},
	kindSlotMove: {
		first:  ": the Redis Cluster is moving a campaign's slot (a resharding); its scripts wait until the move is over, and until then this loop's repeats are logged at debug level",
		again:  ": the Redis Cluster is still moving a campaign's slot; if no resharding is running, one stopped half-way: redis-cli --cluster check HOST:PORT lists the open slots and redis-cli --cluster fix HOST:PORT finishes the move",
		ended:  "the Redis Cluster's slot move is over",
		lasted: "moving_for",
	},
	kindOutOfMemory: {
		first:  ": " + outOfMemoryAdvice + "; until then this loop's repeats are logged at debug level",
		again:  ": Redis is still out of memory: " + outOfMemoryAdvice,
		ended:  "Redis takes writes again",
		lasted: "out_of_memory_for",
	},
	kindRefused: {ended: allowedAgain, lasted: "refused_for"},
	kindEvicting: {
		first:  ": Redis may evict keys tidings relies on (maxmemory-policy is not noeviction): " + evictingAdvice,
		again:  ": Redis's maxmemory-policy is still not noeviction: " + evictingAdvice,
		ended:  "Redis's maxmemory-policy is noeviction again: sending goes on",
		lasted: "evicting_for",
	},
	kindPolicyUnknown: {
		first:  ": cannot read Redis's maxmemory-policy (neither INFO memory nor CONFIG GET says it), so this worker cannot tell whether Redis may evict keys tidings relies on: " + unreadableAdvice,
		again:  ": Redis's maxmemory-policy still cannot be read: " + unreadableAdvice,
		ended:  "Redis's maxmemory-policy can be read again and is noeviction: sending goes on",
		lasted: "unreadable_for",
	},
}

// outageRepeat is how often an outage still going on is said again at
// WARN (the level operators keep).
const outageRepeat = time.Minute

// unreachable reports whether err says that Redis could not be reached:
// redisconn.Unreachable, or a connection cut mid-reply.
func unreachable(err error) bool {
	return redisconn.Unreachable(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// outOfMemory reports whether err is Redis refusing a write for its
// maxmemory (an OOM error reply, as a script's error carries it too).
func outOfMemory(err error) bool { return redis.HasErrorPrefix(err, "OOM") }

// kindOf is the kind of outage err is, notHeld when it is none.
func kindOf(err error) outageKind {
	if ev, ok := errors.AsType[*EvictingError](err); ok { // before its cause's kind
		if ev.Policy == "" {
			return kindPolicyUnknown
		}
		return kindEvicting
	}
	switch {
	case settings(err):
		return kindRefused
	case unreachable(err):
		return kindUnreachable
	case redisconn.SlotMoving(err):
		return kindSlotMove
	case outOfMemory(err):
		return kindOutOfMemory
	}
	return notHeld
}

// held reports whether warn holds err back after its first: Redis
// unreachable, a Cluster moving a slot, Redis out of memory, or Redis
// refusing the command for the environment's settings (refused). A loop
// whose pass ends in such an error has not written to Redis (answered is
// not for it).
func held(err error) bool {
	return kindOf(err) != notHeld
}

// warn logs msg (the loop's) with err: at WARN (ERROR when Redis refuses
// the command: refused.go), or at DEBUG when err repeats an outage this
// loop has already said.
func (o *outageLog) warn(msg string, err error, args ...any) {
	kind := kindOf(err)
	if kind == notHeld {
		o.log.Warn(msg, append(args, "err", err)...)
		return
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.sites[msg]
	if s == nil || s.kind != kind { // the other kind: said anew
		s = &outage{since: now, kind: kind}
		o.sites[msg] = s
		o.refusing()
	}
	s.held++
	s.err = err
	repeat := now.Sub(s.warned) >= outageRepeat
	if kind == kindRefused {
		if s.held == 1 || repeat {
			s.warned = now
			o.sayRefused(msg, s, now, args)
		} else {
			o.log.Debug(msg, append(args, "err", err)...)
		}
		return
	}
	args = append(args, "err", err)
	words := outageWords[kind]
	switch {
	case s.held == 1:
		s.warned = now
		o.log.Warn(msg+words.first, args...)
	case repeat:
		s.warned = now
		o.log.Warn(msg+words.again, append(args, words.lasted, now.Sub(s.since).Round(time.Second), "errors_held_back", s.held-1)...)
	default:
		o.log.Debug(msg, args...)
	}
}

// note is what a loop says after a call to Redis: answered when err is
// nil, else warn, unless ctx is done (the worker stops: not an outage).
// It reports whether err is nil.
func (o *outageLog) note(ctx context.Context, msg string, err error) bool {
	if err == nil {
		o.answered(msg)
	} else if ctx.Err() == nil {
		o.warn(msg, err)
	}
	return err == nil
}

// answered notes that the loop that logs msg reached Redis; the end of its
// outage is logged.
func (o *outageLog) answered(msg string) {
	o.mu.Lock()
	s := o.sites[msg]
	delete(o.sites, msg)
	if s != nil && s.kind == kindRefused {
		o.refusing()
	}
	o.mu.Unlock()
	if s == nil {
		return
	}
	words, what := outageWords[s.kind], "loop"
	if s.kind == kindRefused {
		what = "command"
	}
	o.log.Info(words.ended, what, msg, words.lasted, time.Since(s.since).Round(time.Millisecond), "errors_held_back", s.held-1)
}
