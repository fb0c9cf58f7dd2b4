package store_test

import (
	"context"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestCanaryRowsSkippedAsDeliveredHideNoRetry: a re-staging that keeps a
// canary row skipped as already delivered counts it skipped but not
// attempted (Stager.count), so "attempted less every outcome" with skipped
// among the outcomes let that row cancel out a canary recipient waiting
// for a retry: the tick awaited approval and approve was accepted with r1
// undelivered (found in review of edc31f0).
func TestCanaryRowsSkippedAsDeliveredHideNoRetry(t *testing.T) {
	st := store.New(startRedis(t))
	ctx := context.Background()
	c := "c-skipped-canary"
	// r0 kept skipped as delivered, r1 deferred (its retry waits), r2 sent.
	sum, p := restagedCanary(t, st, c, []store.Kind{store.KindSkipped, store.KindTemp, store.KindSent})
	r := tick(t, st, c, sum, p)
	t.Logf("tick after the canary's first pass, r1 deferred: %+v", r)
	if r.Code == store.TickAwaiting {
		t.Errorf("awaiting approval while r1 (canary) waits for a retry")
	}
	if _, err := st.Pause(ctx, c, who, "x"); err != nil {
		t.Logf("pause: %v", err)
	}
	_, err := st.Approve(ctx, c, "", false, who, "ok")
	t.Logf("approve: %v", err)
	if err == nil {
		t.Errorf("approve accepted while r1 (canary) waits for a retry")
	}
}
