package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// controlProbe is what the fallback of controlAccess publishes on
// store.ControlChannel: no campaign's name (names are [a-z0-9-]), and a
// worker that hears it merely re-reads its campaigns' control states.
const controlProbe = "(doctor)"

// controlRule is the ACL rule that lets a Redis user announce and hear
// control changes.
const controlRule = "+publish +subscribe &" + store.ControlChannel

// controlAccess checks that Redis user user ("" is "default") may PUBLISH
// and SUBSCRIBE to store.ControlChannel on the node c talks to: with ACL
// DRYRUN (Redis 7 and later), else, when that is refused or unknown, by
// subscribing on a connection of its own (then closing it) and publishing
// controlProbe. A warning, not a failure, when it may not: sending stays
// correct, and pause and cancel reach the workers at their next control
// poll instead of at once.
func controlAccess(ctx context.Context, c redis.UniversalClient, user string) Check {
	user = cmp.Or(user, "default")
	var refused []string
	for _, cmd := range [][]any{{"PUBLISH", store.ControlChannel, controlProbe}, {"SUBSCRIBE", store.ControlChannel}} {
		verdict, err := c.ACLDryRun(ctx, user, cmd...).Result()
		if err != nil {
			return controlTried(ctx, c, user, err)
		}
		if verdict != "OK" {
			refused = append(refused, fmt.Sprintf("%s (%s)", cmd[0], verdict))
		}
	}
	if len(refused) > 0 {
		return controlWarn(user, "ACL DRYRUN: "+strings.Join(refused, "; "))
	}
	return pass("", "user "+user+" may publish and subscribe to "+store.ControlChannel+": pause and cancel reach the workers as they are made")
}

// controlTried is controlAccess without ACL DRYRUN (dry, why it failed):
// it subscribes and publishes.
func controlTried(ctx context.Context, c redis.UniversalClient, user string, dry error) Check {
	var re redis.Error
	if !errors.As(dry, &re) { // not Redis's answer: the node is away
		return warn("", fmt.Sprintf("cannot check whether user %s may publish and subscribe to %s (%s); check that its ACL allows %s", user, store.ControlChannel, oneLine(dry), controlRule))
	}
	var refused []string
	ps := c.Subscribe(ctx, store.ControlChannel)
	_, err := ps.Receive(ctx)
	_ = ps.Close()
	if err != nil {
		refused = append(refused, "SUBSCRIBE: "+oneLine(err))
	}
	if err := c.Publish(ctx, store.ControlChannel, controlProbe).Err(); err != nil {
		refused = append(refused, "PUBLISH: "+oneLine(err))
	}
	if len(refused) > 0 {
		return controlWarn(user, strings.Join(refused, "; "))
	}
	return pass("", "user "+user+" may publish and subscribe to "+store.ControlChannel+" (tried, ACL DRYRUN: "+oneLine(dry)+"): pause and cancel reach the workers as they are made")
}

// controlWarn is the warning for user, refused what why says.
func controlWarn(user, why string) Check {
	return warn("", fmt.Sprintf("user %s may not use %s (%s): commands' announcements of pause and cancel are skipped and workers cannot hear them, so they reach the workers at their next control poll (every 200 ms) instead of at once; add the ACL rule %s to user %s (e.g. ACL SETUSER %s %s, and in your ACL file)",
		user, store.ControlChannel, why, controlRule, user, user, controlRule))
}

// oneLine is err's text on one line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
