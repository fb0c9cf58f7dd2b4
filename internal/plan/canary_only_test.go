package plan

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/render"
)

// TestCanaryHoldingEveryoneWaitsForNoApproval: with approve_after_canary,
// a campaign waits for approval only when a batch comes after its canary
// (lua/tick.lua). A plan whose canary holds every recipient (a small
// campaign, or a recovery after state loss that stages only those not yet
// delivered) said "then wait until someone approves the canary" and "plus
// the wait for approval", and the campaign then went to done without
// waiting (red team: the locale rule on every path that sends, a recovery
// with --exclude-delivered). The plan says that nothing waits; with a
// regular batch after the canary it still says it waits.
func TestCanaryHoldingEveryoneWaitsForNoApproval(t *testing.T) {
	t.Parallel()
	const waits, approval = "then wait until someone approves the canary", "plus the wait for approval"
	for _, tt := range []struct {
		name, rows string
		wait       bool
	}{
		{"canary alone", "a@example.org,de\nb@example.org,en\n", false},
		{"a batch after it", "a@example.org,de\nb@example.org,en\nc@example.org,en\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testCampaign(t, "batches: {canary_per_locale: 1, size: 10, interval: 10s, approve_after_canary: true}\nrate: 2/s\n")
			s, err := Run(context.Background(), Input{Campaign: c, Engine: engine(t, render.Policy{}),
				Recipients: strings.NewReader("email,locale\n" + tt.rows), RecipientsName: "r.csv"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := s.WriteText(&text, 3); err != nil {
				t.Fatal(err)
			}
			out := text.String()
			if strings.Contains(out, waits) != tt.wait || strings.Contains(out, approval) != tt.wait || s.Batches.WaitsForApproval() != tt.wait {
				t.Errorf("plan says it waits for approval: %v, want %v (WaitsForApproval %v)\n%s", strings.Contains(out, waits), tt.wait, s.Batches.WaitsForApproval(), out)
			}
			if !tt.wait && !strings.Contains(out, "every recipient is in the canary: nothing is left to approve, so the campaign does not wait for approval") {
				t.Errorf("plan of a canary holding everyone does not say that it does not wait\n%s", out)
			}
		})
	}
}
