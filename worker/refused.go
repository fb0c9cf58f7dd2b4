package worker

import (
	"cmp"
	"time"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// refusedPoll is how often the worker tries again a command Redis refused
// for the environment's settings (refused): no pass helps until the
// user's rights or password are fixed, and none spins hot meanwhile.
const refusedPoll = 2 * time.Second

// refused reports whether err is Redis refusing cmd for the environment's
// settings (NOPERM, NOAUTH, WRONGPASS: redisconn.IsSettings), a setting
// to fix, not a failover to wait out. The first refusal since the worker
// was last allowed is logged at ERROR, naming the command, the
// environment, the Redis, the rights tidings needs and doctor, and sets
// tidings_worker_redis_refused; the others are not logged again (before,
// each pass logged a WARN forever while nothing was sent).
func (w *Worker) refused(cmd string, err error) bool {
	if !redisconn.IsSettings(redisconn.Explain(err)) {
		return false
	}
	if w.refusal.CompareAndSwap(false, true) {
		w.m.refused.Set(1)
		w.log.Error("Redis refuses this worker a command for the environment's settings (its Redis user's rights or password): nothing is sent while it does; the worker tries again every "+refusedPoll.String()+" and goes on by itself once allowed. Give the user the rights tidings needs (rights; README, Redis user and ACL), then run the command in next: it names every right missing",
			"command", cmd, "env", w.cfg.Env, "redis", redisAddr(w.cfg.Redis), "err", err, "rights", redisconn.MinimalACL, "next", "tidings doctor --env "+cmp.Or(w.cfg.Env, "ENV"))
	}
	return true
}

// allowed records that Redis ran a command refused before (refused):
// logged once, and tidings_worker_redis_refused back to 0.
func (w *Worker) allowed() {
	if w.refusal.Load() && w.refusal.CompareAndSwap(true, false) {
		w.m.refused.Set(0)
		w.log.Info("Redis allows this worker again the command it refused: sending goes on", "env", w.cfg.Env, "redis", redisAddr(w.cfg.Redis))
	}
}
