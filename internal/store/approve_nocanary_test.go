package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestApproveSaysWhetherACanaryIsRunning: an approval (not in advance)
// of a campaign whose canary is still being sent is refused as
// CanaryRunning; of one staged without a canary, as NoCanary: nothing to
// approve. Neither changes the campaign.
func TestApproveSaysWhetherACanaryIsRunning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		canary int
		want   string
	}{
		{"its canary is being sent", 2, store.CanaryRunning},
		{"staged without a canary", 0, store.NoCanary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := store.New(startRedis(t))
			ctx := context.Background()
			sum := stage(t, st, "c-ap", stageOpts{n: 12, canary: tc.canary, size: 6})
			tick(t, st, "c-ap", sum, store.TickParams{ApproveAfterCanary: true}) // releases batch 0
			ctl, err := st.Approve(ctx, "c-ap", sum.Stage, false, who, "looks fine")
			var te *store.TransitionError
			if !errors.As(err, &te) || te.PausedFor != tc.want || ctl != nil {
				t.Fatalf("Approve: %v (%+v), control %+v; want a *TransitionError PausedFor %s", err, te, ctl, tc.want)
			}
			if c, err := st.Control(ctx, "c-ap"); err != nil || c.State != store.StateRunning || c.Approved {
				t.Errorf("after the refused approval: %+v %v, want running, not approved", c, err)
			}
		})
	}
}
