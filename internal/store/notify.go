package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Notifications: the keys the notifier (internal/notify) needs so that each
// event of a campaign is delivered once, whatever the number of processes
// running a notifier. Everything lives in one HASH per campaign,
// tidings:{c}:notify, so every script below touches one Cluster slot:
//
//	cursor            first audit-log index not yet fully handled
//	e:<event>         one delivery of one event to one sink (see ClaimNotification)
//	progress          "<terminal outcomes>|<unix ms when that number last changed>"
//
// A delivery field is "done|<ms>" once delivered, "held|<owner>|<lease until
// ms>|<attempts>" while a process delivers it, or "retry|<attempts>|<not
// before ms>" after a failure.

// NotifyClaim is the answer of ClaimNotification.
type NotifyClaim int

// Claim results.
const (
	// NotifyAcquired: the caller holds the delivery until the lease ends and
	// must deliver, then EndNotification.
	NotifyAcquired NotifyClaim = 1
	// NotifyDelivered: the event was already delivered to this sink.
	NotifyDelivered NotifyClaim = 2
	// NotifyHeld: another process holds the delivery (its lease is running).
	NotifyHeld NotifyClaim = 3
	// NotifyBackoff: an earlier delivery failed and its retry is not due yet.
	NotifyBackoff NotifyClaim = 4
	// NotifyTooOld: Delivery.TooOld, and no process ever claimed the
	// delivery: not to be begun (nothing was written).
	NotifyTooOld NotifyClaim = 5
)

// claimNotifyScript claims one delivery.
// KEYS: 1 notify hash. ARGV: 1 field, 2 owner, 3 now ms, 4 lease until ms,
// 5 the event's audit-log index (-1: not an audit event), 6 "1" when the
// event is too old to begin (Delivery.TooOld).
// Returns {result code (NotifyClaim), attempts so far}. An audit event below
// the cursor was delivered (its record was deleted when the cursor passed).
var claimNotifyScript = loadScript("notify_claim")

// finishNotifyScript ends a delivery held by owner: done, or retry later.
// KEYS: 1 notify hash. ARGV: 1 field, 2 owner, 3 now ms, 4 retry due ms (0:
// delivered). Returns 1 when the caller still held the delivery, 0 when it
// had lost it (its lease ran out and another process claimed it).
var finishNotifyScript = loadScript("notify_finish")

// advanceCursorScript moves the cursor forward only, and deletes delivery
// fields of events below it. KEYS: 1 notify hash. ARGV: 1 new cursor, 2..
// fields to delete.
var advanceCursorScript = loadScript("notify_cursor")

func deliveryField(event string) string { return "e:" + event }

// Delivery is one delivery of one campaign event to one sink.
type Delivery struct {
	// Event is unique within the campaign: it names the event and the sink.
	Event string
	// Index is the event's audit-log index, or -1 for events not in the
	// audit log.
	Index int
	// Owner is the process claiming it; Lease how long it holds it.
	Owner string
	Lease time.Duration
	// TooOld: the event is too old to be announced by a notifier that sees
	// it first (internal/notify's MaxAge). Only a delivery no process has
	// claimed yet is refused for it (NotifyTooOld); one that was attempted
	// is claimed as usual, so a failed delivery is retried however long
	// its webhook fails.
	TooOld bool
}

// ClaimNotification claims delivery d of campaign c for d.Owner for
// d.Lease, in Redis's clock (now, the caller's clock, times only a failed
// delivery's retry). It returns the claim result and how many deliveries failed
// before.
func (s *Store) ClaimNotification(ctx context.Context, c string, d Delivery, now time.Time) (NotifyClaim, int, error) {
	res, err := claimNotifyScript.Run(ctx, s.rdb, []string{keysFor(c).notify}, deliveryField(d.Event), d.Owner, ms(now), ms(now.Add(d.Lease)), d.Index, d.TooOld).Int64Slice() // go-redis writes a bool as 1 or 0
	if err != nil {
		return 0, 0, fmt.Errorf("claim notification %s of %s: %w", d.Event, c, err)
	}
	return NotifyClaim(res[0]), int(res[1]), nil
}

// EndNotification ends owner's delivery of event at now: delivered when
// retryAt is zero, else failed, and any process may claim it again from
// retryAt on (its attempts grow by one). Nothing changes when owner no
// longer held it (its lease had run out and another process took it over).
func (s *Store) EndNotification(ctx context.Context, c, event, owner string, now, retryAt time.Time) error {
	err := finishNotifyScript.Run(ctx, s.rdb, []string{keysFor(c).notify}, deliveryField(event), owner, ms(now), ms(retryAt)).Err()
	return wrapf(err, "end notification %s of %s", event, c)
}

// NotifyCursor returns the first audit-log index of c whose events are not
// all delivered yet.
func (s *Store) NotifyCursor(ctx context.Context, c string) (int, error) {
	v, err := s.rdb.HGet(ctx, keysFor(c).notify, "cursor").Result()
	if err == redis.Nil {
		return 0, nil
	}
	return atoi(v), wrapf(err, "read notification cursor of %s", c)
}

// AdvanceNotifyCursor moves the cursor of c to to (never backwards) and
// forgets the delivery records of the events it passed.
func (s *Store) AdvanceNotifyCursor(ctx context.Context, c string, to int, passed []string) error {
	args := []any{to}
	for _, e := range passed {
		args = append(args, deliveryField(e))
	}
	return wrapf(advanceCursorScript.Run(ctx, s.rdb, []string{keysFor(c).notify}, args...).Err(), "advance notification cursor of %s", c)
}
