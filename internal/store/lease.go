package store

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// stagingLease is how long a staging (or the cancel giving up a first
// staging) holds its campaign without renewing.
const stagingLease = 30 * time.Second

// lease is a campaign's staging lease (tidings:{c}:staging, "<id>|<who>"),
// as a staging or the cancel giving up a first staging holds it: taken,
// renewed every d/3 while its holder works (lua/lease.lua), checked before
// each write, let go at the end. A holder that dies lets go when it runs
// out.
type lease struct {
	rdb     redis.UniversalClient
	key, id string
	d       time.Duration
	lost    atomic.Bool // renew found it lost
	stop    func()      // ends renew; nil before hold
}

// take takes the lease for who, reporting false when another holds it.
func (l *lease) take(ctx context.Context, who string) (bool, error) {
	return l.rdb.SetNX(ctx, l.key, l.id+"|"+who, l.d).Result()
}

// hold renews the lease every d/3 until release (or stop): when it finds
// the lease lost (it ran out: the process was suspended, or Redis did not
// answer for that long, and another may hold it now), it sets lost and
// stops.
func (l *lease) hold(ctx context.Context) {
	ctx, l.stop = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		t := time.NewTicker(l.d / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if n, err := leaseScript.Run(ctx, l.rdb, []string{l.key}, l.id, l.d.Milliseconds()).Int(); err == nil && n == 0 {
				l.lost.Store(true)
				return
			}
		}
	}()
}

// held renews the lease once more and reports whether it is still this
// holder's (false: it ran out, whether renew found it so or this call does;
// also false with an error of Redis).
func (l *lease) held(ctx context.Context) (bool, error) {
	n, err := leaseScript.Run(ctx, l.rdb, []string{l.key}, l.id, l.d.Milliseconds()).Int()
	return err == nil && n == 1 && !l.lost.Load(), err
}

// release stops renewing and lets go of the lease if it is still this
// holder's.
func (l *lease) release(ctx context.Context) {
	if l.stop != nil {
		l.stop()
	}
	_ = leaseScript.Run(context.WithoutCancel(ctx), l.rdb, []string{l.key}, l.id, 0).Err()
}
