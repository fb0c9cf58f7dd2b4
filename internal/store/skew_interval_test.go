package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestBatchIntervalIsRedisClock: every worker ticks every running campaign
// with the time of its own host (store.Tick's now), and hosts' clocks
// disagree (NTP steps them; a VM resumed from suspend is hours behind). The
// batch interval is waited in Redis's clock: a worker whose clock is 10
// minutes ahead does not release the next batch the moment the batch
// before has passed, nor does a worker whose clock is 3 hours behind,
// having seen that batch pass first, let another release it at once.
// Before batch_done_at and the release were taken from Redis's TIME, both
// released batch 1 at the first tick after batch 0 passed.
func TestBatchIntervalIsRedisClock(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name          string
		first, second time.Duration // the skew of the worker that sees batch 0 pass, of the next to tick
	}{
		{"a worker 10 minutes ahead ticks after a right one", 0, 10 * time.Minute},
		{"a right worker ticks after one 3 hours behind", -3 * time.Hour, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := store.New(startRedis(t))
			ctx := context.Background()
			c := "skew"
			sum := stage(t, st, c, stageOpts{n: 14, size: 7})
			tp := store.TickParams{Stage: sum.Stage, Interval: 5 * time.Minute}
			if r, err := st.Tick(ctx, c, tp, time.Now()); err != nil || r.Code != store.TickReleased || r.Batch != 0 {
				t.Fatalf("release batch 0: %+v, %v", r, err)
			}
			l := st.Ledger(c, sum.Stage)
			pol := store.Policy{MaxAttempts: 3}
			langs := []string{"de", "fr", "en"}
			for i := range 7 {
				id, lang := fmt.Sprint("r", i), langs[i%3]
				if _, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: lang, Token: id}}, pol, time.Now()); err != nil {
					t.Fatal(err)
				}
				if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: lang, Kind: store.KindSent, Code: "250", Response: "ok", Token: id}}, nil, pol, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.EndChunk(ctx, c, sum.Stage, 0, 0, true); err != nil {
				t.Fatal(err)
			}
			if r, err := st.Tick(ctx, c, tp, time.Now().Add(tt.first)); err != nil || r.Code != store.TickNoop || r.Batch != 0 {
				t.Fatalf("tick that sees batch 0 pass: %+v, %v; want a no-op (the interval starts)", r, err)
			}
			r, err := st.Tick(ctx, c, tp, time.Now().Add(tt.second))
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != store.TickNoop || r.Batch != 0 {
				t.Errorf("the next tick: %+v; want batch 1 held for the interval (5 minutes)", r)
			}
		})
	}
}
