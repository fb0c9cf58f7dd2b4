package store_test

import (
	"fmt"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestAwaitingApprovalSaysWhatTheCanarySent: the reason a campaign awaits
// approval says how many of its canary were sent when not all were. A
// relay answered 451 then, after a resume, 550 to every canary recipient:
// the campaign awaited approval saying "canary sent (8 recipients): check
// it, then approve" with none of them sent (found by a red team walking
// the night; approve warns only once it has approved). A canary sent
// whole keeps its words.
func TestAwaitingApprovalSaysWhatTheCanarySent(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	sent, failed, doubt := store.KindSent, store.KindFailed, store.KindInDoubt
	for i, tc := range []struct {
		name  string
		kinds []store.Kind // the canary's attempts, in order
		want  string
	}{
		{"every one sent", []store.Kind{sent, sent, sent, sent, sent, sent, sent, sent, sent}, "canary sent (9 recipients): check it, then approve"},
		{"none sent", []store.Kind{failed, failed, failed, failed, failed, failed, failed, failed, failed},
			"canary done (9 recipients), none of them sent: see why in its errors before you approve"},
		{"some sent", []store.Kind{sent, failed, doubt, sent, sent, failed, sent, sent, sent},
			"canary done (9 recipients), 6 of them sent: check them, and why not the others (its errors), then approve"},
	} {
		c := fmt.Sprintf("c-canary-reason-%d", i)
		t.Run(tc.name, func(t *testing.T) {
			p := store.TickParams{ApproveAfterCanary: true}
			sum := attemptCanary(t, st, c, p, tc.kinds)
			r := tick(t, st, c, sum, p)
			if r.Code != store.TickAwaiting || r.Reason != tc.want {
				t.Fatalf("tick after the canary: %+v; want awaiting approval, %q", r, tc.want)
			}
			ctl, err := st.Control(t.Context(), c)
			if err != nil || ctl.Reason != tc.want {
				t.Errorf("control %+v, %v; want reason %q", ctl, err, tc.want)
			}
		})
	}
}
