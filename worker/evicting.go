package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// A Redis that may evict keys.
//
// The ledger is all that stands between a recipient and a second message,
// and it lives in Redis with the campaign's chunks, meta and counts. Under
// any maxmemory-policy but noeviction, Redis at its maxmemory deletes keys
// to make room: allkeys-* any of them (a ledger, a chunk, the meta),
// volatile-* those with a TTL, which tidings's keys carry while a campaign
// runs (the reconcile turn tidings:{c}:reconcile, the staging lease
// tidings:{c}:staging, tidings:writable:{queue}, asynq's servers and
// workers). doctor fails on such a policy, but an operator may skip it and
// managed Redis often defaults to volatile-lru, and the policy can be
// changed at any time (CONFIG SET). So the worker reads the policy before
// it starts and every evictionPoll: while it is not noeviction (on any
// master of a Cluster), no chunk claims or sends anything (run.stopped:
// stopHeld, the chunk runs again in evictionPoll), the worker says so
// once at WARN (an outage of its own kind, kindEvicting, repeated at WARN
// each outageRepeat) and /healthz answers 503 naming the policy; once it
// is noeviction again, sending goes on by itself.
//
// The policy is read from INFO memory (maxmemory_policy), which the
// rights tidings needs allow (redisconn.MinimalACL), else from CONFIG GET.
// A Redis that answers neither (a user without +info or CONFIG, a
// managed Redis or a proxy that hides both) holds the sends as well
// (fail closed: the worker cannot tell that no ledger will be evicted,
// and a second message cannot be taken back), said at WARN in its own
// words (kindPolicyUnknown) with the ways on: allow the Redis user INFO
// or CONFIG GET, or, where Redis hides its policy, declare it
// (redis.maxmemory_policy: noeviction, Config.MaxmemoryPolicy), which
// the worker then takes for it, said once at INFO. A policy read always
// counts over the declared one. doctor fails on such a Redis too. The
// embedded Redis of rehearse and demo, which never evicts, answers
// CONFIG GET maxmemory-policy with noeviction (redisserver).

// evictionPoll is how often the worker reads the policy again.
const evictionPoll = 2 * time.Second

// heldLater is what a chunk task held for the policy returns: it runs
// again in evictionPoll, not counted a failure.
var heldLater = &retryLater{after: evictionPoll, why: "Redis's maxmemory-policy may evict keys tidings relies on"}

// evictionCheck is the outage log's site of the policy's check.
const evictionCheck = "check Redis's maxmemory-policy"

// evictingAdvice is what to do about a policy that may evict.
const evictingAdvice = "nothing is sent until it is noeviction (an evicted ledger entry, chunk or meta could mean a second message, or a recipient lost from the accounting), and the worker resumes by itself then. " +
	"Set it (redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf, or the managed Redis's parameter group), then run the command in next: it checks the Redis settings tidings needs"

// unreadableAdvice is what to do about a policy the worker cannot read.
const unreadableAdvice = "nothing is sent until it can be read (an evicted ledger entry, chunk or meta could mean a second message), and the worker resumes by itself then. " +
	"Allow the worker's Redis user INFO (+info, among the rights tidings needs) or CONFIG GET; " +
	"where Redis hides its policy (a managed Redis, a proxy), make sure with its provider that it is noeviction, declare it in the environment (redis.maxmemory_policy: noeviction, or TIDINGS_REDIS_MAXMEMORY_POLICY=noeviction) and restart the workers"

// EvictingError says that Redis's maxmemory-policy may evict keys tidings
// relies on, or cannot be read (Policy "", Err says why).
type EvictingError struct {
	Policy string // the maxmemory-policy, e.g. allkeys-lru ("": unread)
	Node   string // the master it was read at
	Err    error  // why it cannot be read (Policy "")
}

func (e *EvictingError) Error() string {
	if e.Policy == "" {
		return fmt.Sprintf("Redis's maxmemory-policy cannot be read at %s (%v): tidings cannot tell whether Redis may evict keys it relies on", e.Node, e.Err)
	}
	return fmt.Sprintf("Redis's maxmemory-policy is %s at %s: it may evict keys tidings relies on", e.Policy, e.Node)
}

func (e *EvictingError) Unwrap() error { return e.Err }

// evicting reports whether the worker holds its sends for Redis's policy.
func (w *Worker) evicting() bool { return w.evicts.Load() != nil }

// checkEviction reads Redis's policy and holds or releases the sends
// accordingly, saying so (outageLog). An unreachable Redis changes
// nothing (the other loops say it); a policy that cannot be read holds
// them, unless the environment declares it noeviction (said once).
func (w *Worker) checkEviction(ctx context.Context) {
	ev, err := evictionPolicy(ctx, w.cfg.Redis)
	switch {
	case ctx.Err() != nil || unreachable(err):
		return
	case err != nil && w.cfg.MaxmemoryPolicy == "noeviction":
		if w.evictUnknown.CompareAndSwap(false, true) {
			w.log.Info("cannot read Redis's maxmemory-policy (neither INFO memory nor CONFIG GET says it): the environment declares it noeviction (redis.maxmemory_policy), and this worker sends on that word",
				"redis", redisAddr(w.cfg.Redis), "err", err)
		}
		ev = nil
	case err != nil:
		ev = &EvictingError{Node: redisAddr(w.cfg.Redis), Err: err}
	}
	switch {
	case ev != nil:
		w.evicts.Store(ev)
		w.m.evictionHold.Set(1)
		w.outage.warn(evictionCheck, ev, "policy", cmp.Or(ev.Policy, "unknown"), "node", ev.Node, "next", "tidings doctor --env "+cmp.Or(w.cfg.Env, "ENV"))
	default:
		w.evicts.Store(nil)
		w.m.evictionHold.Set(0)
		w.outage.answered(evictionCheck)
	}
}

// evictionPolicy reads rdb's maxmemory-policy (of each master on a
// Cluster): an *EvictingError for the first that is not noeviction, nil
// when none is.
func evictionPolicy(ctx context.Context, rdb redis.UniversalClient) (*EvictingError, error) {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return nodePolicy(ctx, rdb, redisAddr(rdb))
	}
	var (
		mu    sync.Mutex // ForEachMaster calls its function concurrently
		found *EvictingError
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		ev, err := nodePolicy(ctx, c, c.Options().Addr)
		mu.Lock()
		defer mu.Unlock()
		if found == nil {
			found = ev
		}
		return err
	})
	if found != nil {
		return found, nil // whatever another master answered
	}
	return nil, err
}

// nodePolicy reads the maxmemory-policy of c (at addr): INFO memory, else
// CONFIG GET.
func nodePolicy(ctx context.Context, c redis.Cmdable, addr string) (*EvictingError, error) {
	policy := ""
	raw, ierr := c.Info(ctx, "memory").Result()
	if ierr == nil {
		policy = redisconn.ParseInfo(raw)["maxmemory_policy"]
	}
	if policy == "" && !unreachable(ierr) {
		m, cerr := c.ConfigGet(ctx, "maxmemory-policy").Result()
		if cerr != nil {
			return nil, fmt.Errorf("read maxmemory-policy at %s: INFO memory: %w; CONFIG GET: %w", addr, cmp.Or(ierr, errors.New("no maxmemory_policy")), cerr)
		}
		policy = m["maxmemory-policy"]
	}
	switch {
	case ierr != nil && policy == "":
		return nil, fmt.Errorf("read maxmemory-policy at %s: %w", addr, ierr)
	case policy == "":
		return nil, fmt.Errorf("read maxmemory-policy at %s: neither INFO memory nor CONFIG GET says it", addr)
	case policy == "noeviction":
		return nil, nil
	}
	return &EvictingError{Policy: policy, Node: addr}, nil
}
