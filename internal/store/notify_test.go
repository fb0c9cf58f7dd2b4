package store_test

import (
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestClaimTooOldOnlyBeforeTheFirstAttempt: a delivery of an event too old
// to announce (Delivery.TooOld) is refused only when no process ever
// claimed it, and then nothing is written; one that was attempted (held,
// failed and due for retry, delivered) is answered as it would be however
// old the event, so a failed delivery is retried until it succeeds.
func TestClaimTooOldOnlyBeforeTheFirstAttempt(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := t.Context()
	now := time.Now()
	lease := time.Minute
	tests := []struct {
		name string
		// before runs the earlier deliveries (not too old) of the event
		before       func(t *testing.T, c, ev string)
		want         store.NotifyClaim
		wantAttempts int
	}{
		{"never attempted", func(*testing.T, string, string) {}, store.NotifyTooOld, 0},
		{"held by another process", func(t *testing.T, c, ev string) {
			claim(t, st, c, ev, "other", now, false, store.NotifyAcquired)
		}, store.NotifyHeld, 0},
		{"failed, retry due", func(t *testing.T, c, ev string) {
			claim(t, st, c, ev, "other", now, false, store.NotifyAcquired)
			if err := st.EndNotification(ctx, c, ev, "other", now, now.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}, store.NotifyAcquired, 1},
		{"failed, retry not due", func(t *testing.T, c, ev string) {
			claim(t, st, c, ev, "other", now, false, store.NotifyAcquired)
			if err := st.EndNotification(ctx, c, ev, "other", now, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, store.NotifyBackoff, 1},
		{"delivered", func(t *testing.T, c, ev string) {
			claim(t, st, c, ev, "other", now, false, store.NotifyAcquired)
			if err := st.EndNotification(ctx, c, ev, "other", now, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}, store.NotifyDelivered, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ev := "old"+string(rune('a'+i)), "a1:webhook"
			tt.before(t, c, ev)
			later := now.Add(10 * time.Second) // past the retry due, within the lease
			res, attempts, err := st.ClaimNotification(ctx, c, store.Delivery{Event: ev, Index: 1, Owner: "me", Lease: lease, TooOld: true}, later)
			if err != nil {
				t.Fatal(err)
			}
			if res != tt.want || attempts != tt.wantAttempts {
				t.Fatalf("claim of a too old event: %v with %d attempts, want %v with %d", res, attempts, tt.want, tt.wantAttempts)
			}
			if res == store.NotifyTooOld {
				// Nothing written: a claim that is not too old acquires it.
				claim(t, st, c, ev, "me", later, false, store.NotifyAcquired)
			}
		})
	}
}

func claim(t *testing.T, st *store.Store, c, ev, owner string, now time.Time, tooOld bool, want store.NotifyClaim) {
	t.Helper()
	res, _, err := st.ClaimNotification(t.Context(), c, store.Delivery{Event: ev, Index: 1, Owner: owner, Lease: time.Minute, TooOld: tooOld}, now)
	if err != nil {
		t.Fatal(err)
	}
	if res != want {
		t.Fatalf("claim of %s by %s: %v, want %v", ev, owner, res, want)
	}
}

// TestNotificationLeaseIsRedisClock: notifiers run in several processes
// on hosts whose clocks disagree. A delivery held by one (its lease a
// minute long) is not taken by another whose clock is 10 minutes ahead, nor
// is one claimed by a notifier 3 hours behind taken at once by a right one:
// the lease is timed in Redis's clock, so the sink is not sent the event
// twice. Before, both claims were acquired (the lease was the holder's
// clock, compared with the claimer's).
func TestNotificationLeaseIsRedisClock(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	for i, tt := range []struct {
		name           string
		holder, second time.Duration // the skews of the holder's clock and of the next claimer's
	}{
		{"a notifier 10 minutes ahead", 0, 10 * time.Minute},
		{"a holder 3 hours behind", -3 * time.Hour, 0},
	} {
		c, ev := "skew"+string(rune('a'+i)), "a1:webhook"
		claim(t, st, c, ev, "holder", time.Now().Add(tt.holder), false, store.NotifyAcquired)
		res, _, err := st.ClaimNotification(t.Context(), c, store.Delivery{Event: ev, Index: 1, Owner: "second", Lease: time.Minute}, time.Now().Add(tt.second))
		if err != nil {
			t.Fatal(err)
		}
		if res != store.NotifyHeld {
			t.Errorf("%s: the second claim: %v, want held (the holder's minute has not run out)", tt.name, res)
		}
	}
}
