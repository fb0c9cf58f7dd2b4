package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxClockSkew is how far a worker's clock may be from its Redis server's
// when it starts. What tidings decides itself across processes is timed
// in Redis's clock (the batch interval, lua/tick.lua; workers' words that
// they are alive, lua/alive.lua; the rate limit), but asynq times with
// each worker's own: a server is alive while the score its heartbeat
// wrote, 10 s past its clock, is ahead of the reader's clock (so a worker
// 5 s or more off from the others makes live workers look dead to the
// reconciler, or looks dead itself, and their running chunks are run a
// second time: the ledger sends nobody twice, but the second run marks the
// first run's window of claims in doubt), and its recoverer takes back
// the tasks whose lease, 30 s past their worker's clock, is 30 s behind
// its own.
const MaxClockSkew = 5 * time.Second

// clockOffset measures how far now (this host's clock) is from Redis's
// TIME: the offset is between lo and hi (positive: this clock is ahead),
// the round trip's width apart.
func clockOffset(ctx context.Context, rdb redis.UniversalClient, now func() time.Time) (lo, hi time.Duration, err error) {
	before := now()
	r, err := rdb.Time(ctx).Result()
	after := now()
	if err != nil {
		return 0, 0, fmt.Errorf("read Redis's clock: %w", err)
	}
	return before.Sub(r), after.Sub(r), nil
}

// checkClock returns an error when this host's clock is surely more than
// MaxClockSkew ahead of Redis's, or behind it (the whole round trip's
// range is beyond it: a slow answer is not taken for skew).
func checkClock(ctx context.Context, rdb redis.UniversalClient, now func() time.Time) error {
	lo, hi, err := clockOffset(ctx, rdb, now)
	off, dir := lo, "ahead of"
	switch {
	case err != nil:
		return err
	case hi < -MaxClockSkew:
		off, dir = -hi, "behind"
	case lo <= MaxClockSkew:
		return nil
	}
	return fmt.Errorf("this host's clock is %v %s Redis's (at most %v): set the wrong one right (run NTP) before starting a worker; compare 'date -u' here with 'redis-cli TIME' at %s", off.Round(time.Second), dir, MaxClockSkew, redisAddr(rdb))
}

// clockCheckEvery is how often a running worker compares its clock with
// Redis's again (NTP may step it, a VM resumed from suspend is behind).
const clockCheckEvery = time.Minute

// now is this host's clock (w.clock in tests).
func (w *Worker) now() time.Time {
	if w.clock != nil {
		return w.clock()
	}
	return time.Now()
}

// watchClock logs an error when the clock of this running worker is more
// than MaxClockSkew from Redis's, and when it is right again: it goes on
// running (stopping would not undo what the skew does), and says what
// to fix.
func (w *Worker) watchClock(ctx context.Context) {
	lo, hi, err := clockOffset(ctx, w.cfg.Redis, w.now)
	if err != nil {
		return // Redis away: the other loops say so
	}
	off := lo > MaxClockSkew || hi < -MaxClockSkew
	switch {
	case off && !w.skewed:
		w.log.Error("this host's clock is far from Redis's: set it right (run NTP); meanwhile asynq may take this worker, or others, for dead and run their chunks a second time (nobody is sent twice; their claims in flight end in doubt)",
			"offset", ((lo + hi) / 2).Round(time.Millisecond), "max", MaxClockSkew)
	case !off && w.skewed:
		w.log.Info("this host's clock agrees with Redis's again", "offset", ((lo + hi) / 2).Round(time.Millisecond))
	}
	w.skewed = off
}
