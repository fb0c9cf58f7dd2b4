package worker

import (
	"cmp"
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/launch"
)

// warnLost logs once, at start, the campaigns whose deliveries this
// worker's delivery journal holds but that Redis has no trace of
// (launch.Journaled, as tidings status and doctor name them): Redis lost
// their state (flushed, evicted, a new empty instance after a move, an
// older backup), or this worker was pointed at another Redis than theirs
// (a wrong --env or address). The worker goes on: other campaigns may be
// fine, and it cannot send these anyway (Redis has nothing of them to
// send). Before, it said nothing, and on-call learned of the loss only
// from a send refused later, or never.
func (w *Worker) warnLost(ctx context.Context) {
	dir := w.cfg.Journal.Dir
	if dir == "" {
		return
	}
	env := cmp.Or(w.cfg.Env, "ENV")
	listed, err := w.st.List(ctx, "") // any environment's: Redis has heard of it
	if err != nil {
		w.log.Warn("could not list the campaigns Redis has, to check the delivery journal's against them: campaigns whose state Redis lost go unnoticed here until then; check that this worker reaches the environment's Redis and may read it (its redis address, password and ACL, and that nothing else writes tidings:campaigns), then run the command in next: it checks Redis and names the campaigns it lost",
			"journal", dir, "redis", redisAddr(w.cfg.Redis), "env", w.cfg.Env, "next", "tidings doctor --env "+env, "err", err)
		return
	}
	lost := launch.Journaled(dir, "", listed) // no state dir: a start record here does not make it less lost
	if len(lost) == 0 {
		return
	}
	w.log.Warn("Redis has no trace of campaigns whose deliveries this worker's delivery journal holds: Redis lost their state (flushed, evicted, a new empty instance, or restored from an older backup), or this worker is pointed at the wrong Redis (check its --env and the environment's redis address); nothing of them is sent until they are staged again, and this worker goes on with the campaigns Redis has. Run the command in next: it names them and says how to stage each again without mailing anyone twice",
		"campaigns", lost, "journal", dir, "redis", redisAddr(w.cfg.Redis), "env", w.cfg.Env, "next", "tidings doctor --env "+env)
}

// redisAddr describes where rdb connects, for messages.
func redisAddr(rdb redis.UniversalClient) string {
	switch c := rdb.(type) {
	case *redis.Client:
		if o := c.Options(); o.Addr != "FailoverClient" {
			return o.Addr
		}
		return "a Sentinel master"
	case *redis.ClusterClient:
		return fmt.Sprint(c.Options().Addrs)
	}
	return fmt.Sprintf("%T", rdb)
}
