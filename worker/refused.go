package worker

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/store"
)

// refusedPoll is how often the worker tries again a command Redis refused
// for the environment's settings (kindRefused): no pass helps until the
// user's rights or password are fixed, and none spins hot meanwhile.
const refusedPoll = 2 * time.Second

// allowedAgain is what the worker says once Redis runs a command it
// refused (outageLog.answered).
const allowedAgain = "Redis allows this worker again the command it refused: sending goes on"

// refused reports whether err is Redis refusing cmd for the environment's
// settings (NOPERM, NOAUTH, WRONGPASS: redisconn.IsSettings), a setting
// to fix, not a failover to wait out; if so it is an outage of cmd
// (kindRefused, warn): the first refusal since cmd last ran is logged at
// ERROR, naming the command, the environment, the Redis, the rights
// tidings needs and doctor, its repeats at DEBUG, a reminder at ERROR
// each outageRepeat, and tidings_worker_redis_refused is 1 while any
// command is refused. answered(cmd) ends it.
func (o *outageLog) refused(cmd string, err error) bool {
	if !settings(err) {
		return false
	}
	o.warn(cmd, err)
	return true
}

// sayRefused logs the refusal of cmd (outage s, o.mu held): its start, or
// a reminder at now that it lasts.
func (o *outageLog) sayRefused(cmd string, s *outage, now time.Time, args []any) {
	args = append([]any{"command", cmd, "env", o.env, "redis", o.redis}, args...)
	if s.held > 1 {
		args = append(args, "refused_for", now.Sub(s.since).Round(time.Second), "errors_held_back", s.held-1)
	}
	args = append(args, "err", s.err, "rights", redisconn.MinimalACL, "next", "tidings doctor --env "+cmp.Or(o.env, "ENV"))
	said := "Redis refuses this worker a command for the environment's settings (its Redis user's rights or password): "
	if s.held > 1 {
		said = "Redis still refuses this worker a command for the environment's settings (its Redis user's rights or password): "
	}
	o.log.Error(said+refusedEffect(cmd)+"; the worker tries again every "+refusedPoll.String()+" or at its next pass and goes on by itself once allowed. Give the user the rights tidings needs (rights; README, Redis user and ACL), then run the command in next: it names every right missing", args...)
}

// refusedEffect is what waits while Redis refuses cmd.
func refusedEffect(cmd string) string {
	if cmd == watchingControl {
		return "sending goes on, and pause and cancel reach this worker at its next control poll; allow this worker's Redis user to subscribe to the channel (ACL rule: +subscribe &" + store.ControlChannel + ")"
	}
	return "nothing is sent while it does"
}

// refusing sets tidings_worker_redis_refused to whether Redis refuses a
// command now (o.mu held).
func (o *outageLog) refusing() {
	if o.gauge == nil {
		return
	}
	n := 0
	for _, s := range o.sites {
		if s.kind == kindRefused {
			n++
		}
	}
	o.gauge.Set(float64(min(n, 1)))
}

// refusals says each command Redis refuses now, one a line, with the
// rights to grant, and a maxmemory-policy that holds the sends
// (evicting.go) (none: ""): what /healthz answers then.
func (o *outageLog) refusals() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var lines []string
	for cmd, s := range o.sites {
		// A refused subscription stops no send (control changes reach the
		// worker at its next poll): a 503 for it would have a liveness
		// probe restart a working worker, its claims in flight then in
		// doubt. The gauge and the ERROR still say it.
		if s.kind == kindEvicting { // evicting.go: nothing is sent meanwhile
			lines = append(lines, "redis may evict keys tidings relies on: "+s.err.Error()+" (for "+time.Since(s.since).Round(time.Second).String()+
				"); nothing is sent until its maxmemory-policy is noeviction: set it, then run tidings doctor --env "+cmp.Or(o.env, "ENV")+"\n")
		}
		if s.kind == kindPolicyUnknown { // evicting.go: nothing is sent meanwhile
			lines = append(lines, "redis may evict keys tidings relies on: "+s.err.Error()+" (for "+time.Since(s.since).Round(time.Second).String()+
				"); nothing is sent until it can be read: allow the Redis user INFO or CONFIG GET, or, where Redis hides it, declare redis.maxmemory_policy: noeviction\n")
		}
		if s.kind == kindRefused && cmd != watchingControl {
			lines = append(lines, "redis refuses this worker: "+cmd+": "+s.err.Error()+" (for "+time.Since(s.since).Round(time.Second).String()+
				"); grant its Redis user the rights tidings needs ("+redisconn.MinimalACL+"), then run tidings doctor --env "+cmp.Or(o.env, "ENV")+"\n")
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// settings reports whether err is Redis refusing a command for the
// environment's settings (NOPERM, NOAUTH, WRONGPASS: redisconn.IsSettings).
func settings(err error) bool {
	return err != nil && redisconn.IsSettings(redisconn.Explain(err))
}
