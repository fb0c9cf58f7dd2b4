package store

import (
	"context"
	"testing"
	"time"
)

// TestIdleTimeIsRedisClock: the first claim after a batch's release ends
// its idle time (lua/step.lua: idle_ms, which the ETA between batches
// takes from the time the batch took) at Redis's now, as the release
// started it (lua/tick.lua, lua/transition.lua), not at the claiming
// worker's: before, a worker 3 hours ahead made the batch idle for 3
// hours (so sent at once, as far as its rate said), one 3 hours behind
// idle for none of the time it waited.
func TestIdleTimeIsRedisClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, skew := range []time.Duration{3 * time.Hour, -3 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			s, l := releasedTwoChunks(t, "skewidle")
			k := keysFor("skewidle").control
			// Released 10 s ago, in Redis's clock.
			if err := s.rdb.HSet(ctx, k, "idle_since", time.Now().Add(-10*time.Second).UnixMilli()).Err(); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Step(ctx, nil, []Claim{{ID: "r0", Lang: "de", Token: "a"}}, Policy{MaxAttempts: 3}, time.Now().Add(skew)); err != nil {
				t.Fatal(err)
			}
			idle, err := s.rdb.HGet(ctx, k, "idle_ms").Int64()
			if err != nil {
				t.Fatalf("idle_ms after the first claim: %v", err)
			}
			if d := time.Duration(idle) * time.Millisecond; d < 10*time.Second || d > time.Hour {
				t.Errorf("idle %v after a claim 10 s after the release by a worker %v off; want 10 s and more (Redis's clock), under an hour", d, skew)
			}
		})
	}
}
