package worker

import (
	"cmp"
	"sync"
	"time"

	"github.com/tidings-mail/tidings/internal/redisconn"
)

// refusedPoll is how often the worker tries again a command Redis refused
// for the environment's settings (refused): no pass helps until the
// user's rights or password are fixed, and none spins hot meanwhile.
const refusedPoll = 2 * time.Second

// refusals are the commands (by what the worker logs for them: a loop's
// message, the take of a campaign's rate tokens) Redis refuses the worker
// for the environment's settings, until it runs each again.
type refusals struct {
	mu  sync.Mutex
	cmd map[string]bool
}

// refused reports whether err is Redis refusing cmd for the environment's
// settings (NOPERM, NOAUTH, WRONGPASS: redisconn.IsSettings), a setting
// to fix, not a failover to wait out. The first refusal of cmd since it
// was last allowed is logged at ERROR, naming the command, the
// environment, the Redis, the rights tidings needs and doctor;
// tidings_worker_redis_refused is 1 while any command is refused; the
// repeats are not logged (before, each pass or loop logged a WARN forever
// while nothing was sent).
func (w *Worker) refused(cmd string, err error) bool {
	if !settings(err) {
		return false
	}
	w.refusal.mu.Lock()
	first := !w.refusal.cmd[cmd]
	if first {
		if w.refusal.cmd == nil {
			w.refusal.cmd = map[string]bool{}
		}
		w.refusal.cmd[cmd] = true
		w.m.refused.Set(1)
	}
	w.refusal.mu.Unlock()
	if first {
		w.log.Error("Redis refuses this worker a command for the environment's settings (its Redis user's rights or password): nothing is sent while it does; the worker tries again every "+refusedPoll.String()+" or at its next pass and goes on by itself once allowed. Give the user the rights tidings needs (rights; README, Redis user and ACL), then run the command in next: it names every right missing",
			"command", cmd, "env", w.cfg.Env, "redis", redisAddr(w.cfg.Redis), "err", err, "rights", redisconn.MinimalACL, "next", "tidings doctor --env "+cmp.Or(w.cfg.Env, "ENV"))
	}
	return true
}

// allowed records that Redis ran cmd, refused before (refused): logged
// once, and tidings_worker_redis_refused back to 0 once Redis refuses
// no command.
func (w *Worker) allowed(cmd string) {
	w.refusal.mu.Lock()
	was := w.refusal.cmd[cmd]
	if was {
		delete(w.refusal.cmd, cmd)
		if len(w.refusal.cmd) == 0 {
			w.m.refused.Set(0)
		}
	}
	w.refusal.mu.Unlock()
	if was {
		w.log.Info("Redis allows this worker again the command it refused: sending goes on", "command", cmd, "env", w.cfg.Env, "redis", redisAddr(w.cfg.Redis))
	}
}

// settings reports whether err is Redis refusing a command for the
// environment's settings (NOPERM, NOAUTH, WRONGPASS: redisconn.IsSettings).
func settings(err error) bool {
	return err != nil && redisconn.IsSettings(redisconn.Explain(err))
}
