package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRetryOfTheCanaryWithoutApproval (red team, following the README's
// on-call retry --permanent --code 5.7.1 on a real relay): a campaign
// with a canary but approve_after_canary: false never awaits approval,
// yet `tidings retry --permanent` of a canary recipient's 554 answered
// "1 of them are its canary's: approve is refused until they are sent",
// pointing on-call at an approval the campaign never asks for. Its
// canary's recipients re-queued are recipients like any other: the
// retry counts none of them as the canary's, and says nothing of
// approval.
func TestRetryOfTheCanaryWithoutApproval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	for _, tc := range []struct {
		approve bool
		canary  int // of the re-queued, the canary's
	}{{false, 0}, {true, 1}} {
		c := "c-retry-plain"
		if tc.approve {
			c = "c-retry-waits"
		}
		camp := campaign.Campaign{Name: c, Environment: "test", Template: "t", Recipients: "r.csv", From: "a@example.com",
			Batches: campaign.Batches{CanaryPerLocale: 1, Size: 3, ApproveAfterCanary: tc.approve}}.WithDefaults()
		def, err := camp.Definition()
		if err != nil {
			t.Fatal(err)
		}
		sum := stage(t, st, c, stageOpts{n: 6, canary: 3, size: 3, def: def})
		p := store.TickParams{ApproveAfterCanary: tc.approve}
		if r := tick(t, st, c, sum, p); r.Code != store.TickReleased {
			t.Fatalf("%s: first tick %+v", c, r)
		}
		l := st.Ledger(c, sum.Stage)
		pol := store.Policy{MaxAttempts: 1}
		for i, r := range canaryOf(t, st, c) {
			kind := store.KindSent
			if i == 0 {
				kind = store.KindFailed // 554 5.7.1: the relay's, fixed since
			}
			attempt(t, l, r, kind, pol, time.Now())
		}
		endCanary(t, st, c, sum)
		tick(t, st, c, sum, p)
		scope := store.RetryScope{Permanent: true}
		rt, err := st.Requeue(ctx, c, who, scope)
		if err != nil || rt.N != 1 || rt.Canary != tc.canary {
			t.Fatalf("%s: retry --permanent: %+v, %v; want 1 re-queued, %d of them the canary's", c, rt, err, tc.canary)
		}
		said := nextstep.Requeued(rt, scope, c, "test")
		if strings.Contains(said, "approv") != tc.approve {
			t.Errorf("%s (approve_after_canary %v): the retry says %q", c, tc.approve, said)
		}
	}
}
