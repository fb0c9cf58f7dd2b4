package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ControlChannel is the Redis pub/sub channel on which every change of a
// campaign's control state that stops, holds or starts sending (pause,
// cancel, resume, approve, a gate's pause, the wait for approval, the
// auto-pause, a worker's pause for state loss or a broken journal, a
// staging) is announced, after it is made: the message is the campaign's
// name. Workers subscribe to it (WatchControl) to re-read the control
// states at once instead of at their next poll.
//
// A plain channel, not a sharded one: on Redis Cluster PUBLISH reaches the
// subscribers connected to every node (SPUBLISH only those of one shard).
// Pub/sub ignores the database number: workers of every database of a
// Redis hear the announcements of all, and merely re-read theirs.
const ControlChannel = "tidings:control"

// announce says on ControlChannel that campaign c's control state changed.
// Best effort: a worker that misses it reads the change at its next poll,
// so a failure is not the caller's (the change itself is made).
func (s *Store) announce(ctx context.Context, c string) {
	_ = s.rdb.Publish(context.WithoutCancel(ctx), ControlChannel, c).Err()
}

// WatchControl subscribes to ControlChannel and calls changed with the
// campaign named by each announcement, until ctx is done; subscribed, when
// not nil, is called once the subscription is confirmed. It returns an
// error only when the subscription cannot be made (Redis unreachable, or
// an ACL that forbids SUBSCRIBE): the caller relies on polling meanwhile.
//
// Once subscribed, go-redis keeps the subscription: it pings the
// connection every few seconds and, when that or a read fails (a restart,
// a failover), reconnects and subscribes again (to the master of the
// channel's slot on Cluster, to Sentinel's current master). Announcements
// made while it was away are lost, so changed is also called, with "",
// every time the subscription is made again: the caller re-reads
// everything.
func (s *Store) WatchControl(ctx context.Context, subscribed func(), changed func(campaign string)) error {
	ps := s.rdb.Subscribe(ctx, ControlChannel)
	defer ps.Close()
	// A read waits for Redis, not for ctx: closing ends it.
	defer context.AfterFunc(ctx, func() { _ = ps.Close() })()
	// The first reply is the subscription's confirmation, or why it failed.
	if _, err := ps.Receive(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("subscribe to %s: %w", ControlChannel, err)
	}
	if subscribed != nil {
		subscribed()
	}
	ch := ps.ChannelWithSubscriptions()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			switch m := m.(type) {
			case *redis.Message:
				changed(m.Payload)
			case *redis.Subscription: // subscribed again, after a reconnection
				changed("")
			}
			if !ok {
				return nil
			}
		}
	}
}
