package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestAutoPauseTimeIsRedisClock: an auto-pause (lua/step.lua) writes its
// control's `at` and its audit entry's in Redis's clock, as a tick, a
// control and the end of a staging write theirs, not in the clock of the
// worker whose record crossed the threshold: status compares the
// control's `at` with Redis's now, and the audit log is read in order.
// Before, a worker 3 hours behind paused the campaign 3 hours ago (the
// audit entry before the start it paused), one ahead in the future.
func TestAutoPauseTimeIsRedisClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := Policy{MaxAttempts: 3, Window: 10, ErrorRate: 0.5, MinAttempts: 1}
	for _, skew := range []time.Duration{3 * time.Hour, -3 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			s, l := releasedTwoChunks(t, "skewpause")
			redisNow := func() time.Time {
				t.Helper()
				now, err := s.rdb.Time(ctx).Result()
				if err != nil {
					t.Fatal(err)
				}
				return now.Truncate(time.Millisecond) // the scripts' unix ms
			}
			if _, err := l.Step(ctx, nil, []Claim{{ID: "r0", Lang: "de", Token: "a"}}, p, time.Now().Add(skew)); err != nil {
				t.Fatal(err)
			}
			before := redisNow()
			// r0 fails for good: 1 of 1 attempt failed, r1 still to send.
			res, err := l.Step(ctx, []Record{{ID: "r0", Lang: "de", Kind: KindFailed, Code: "550", Response: "no", Token: "a"}}, nil, p, time.Now().Add(skew))
			if err != nil {
				t.Fatal(err)
			}
			after := redisNow()
			if res.AutoPaused == "" || res.State != StatePaused {
				t.Fatalf("the failure: %+v; want the campaign auto-paused", res)
			}
			within := func(what string, at time.Time) {
				t.Helper()
				if at.Before(before) || at.After(after) {
					t.Errorf("%s %v, %v from Redis's now; want Redis's clock, between %v and %v (the worker's is %v off)", what, at, at.Sub(before).Round(time.Second), before, after, skew)
				}
			}
			ctl, err := s.Control(ctx, "skewpause")
			if err != nil {
				t.Fatal(err)
			}
			if ctl.By != "auto-pause" {
				t.Fatalf("control %+v; want by auto-pause", ctl)
			}
			within("the control's at", ctl.At)
			raw, err := s.rdb.LIndex(ctx, keysFor("skewpause").audit, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			var e AuditEntry
			if err := json.Unmarshal([]byte(raw), &e); err != nil || e.Action != "auto-pause" {
				t.Fatalf("last audit entry %s (%v): want the auto-pause", raw, err)
			}
			within("the audit's auto-pause at", e.At)
		})
	}
}
