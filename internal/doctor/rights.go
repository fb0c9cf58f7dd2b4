package doctor

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// rightsProbes are keys of the shapes tidings' commands and workers use
// beyond its own (tidings:*): the queue's (asynq:*) and the rate
// limiter's (rate:tidings:*), read with EXISTS, which changes nothing.
var rightsProbes = []struct{ key, pattern, what string }{
	{"tidings:{doctor}:rights", "tidings:*", "tidings' own keys"},
	{"asynq:{doctor}:rights", "asynq:*", "the queue's keys: workers cannot take work"},
	{"rate:tidings:{doctor}:rate", "rate:tidings:*", "the rate limiter's keys: workers cannot take rate tokens and send nothing"},
}

// cancelChannel is the queue's (asynq's) channel its workers hear a task's
// cancellation on.
const cancelChannel = "asynq:cancel"

// rights checks that Redis user user ("" is "default") may use the keys
// and channels a worker needs besides tidings:control (controlAccess):
// a user refused them is not refused when it connects, and its workers
// then log NOPERM while nothing is sent (a failure); one refused the
// cancel channel only fills its logs with asynq's errors (a warning).
// Either names what was refused and the rules to give
// (redisconn.MinimalACL).
func rights(ctx context.Context, c redis.UniversalClient, user string) Check {
	user = cmp.Or(user, "default")
	var refused []string
	for _, p := range rightsProbes {
		if err := c.Exists(ctx, p.key).Err(); isNoPerm(err) {
			refused = append(refused, fmt.Sprintf("keys %s, %s (EXISTS %s: %s)", p.pattern, p.what, p.key, oneLine(err)))
		}
	}
	keys := len(refused)
	ps := c.Subscribe(ctx, cancelChannel)
	_, err := ps.Receive(ctx)
	_ = ps.Close()
	if isNoPerm(err) {
		refused = append(refused, fmt.Sprintf("channel %s, which the queue's workers subscribe to (SUBSCRIBE: %s; tidings cancels through its own keys, but each worker logs this refusal at ERROR every few seconds)", cancelChannel, oneLine(err)))
	}
	if len(refused) == 0 {
		return pass("redis rights", "user "+user+" may use the keys and channels workers need")
	}
	msg := fmt.Sprintf("user %s may not use %s; give it the rules tidings needs: ACL SETUSER %s %s (README, Redis user and ACL)",
		user, strings.Join(refused, "; "), user, redisconn.MinimalACL)
	if keys == 0 {
		return warn("redis rights", msg)
	}
	return fail("redis rights", msg)
}

// isNoPerm reports whether err is Redis's ACL refusal.
func isNoPerm(err error) bool {
	return err != nil && strings.Contains(err.Error(), "NOPERM")
}
