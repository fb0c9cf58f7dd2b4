package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusETA: Status reads the ETA's settings from the staged
// definition. Nothing is sent, so the campaign's rate applies: 30 at 10/s,
// and two batches released 1m apart after batch 0; a canary to approve
// makes it wait for the approval.
func TestStatusETA(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	def := func(b campaign.Batches) []byte {
		t.Helper()
		c := campaign.Campaign{Name: "eta", Environment: "test", Template: "t", Recipients: "r.csv", From: "a@example.com",
			Batches: b, Rate: campaign.Rate{Count: 10, Per: time.Second}}.WithDefaults()
		d, err := c.Definition()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tt := range []struct {
		name     string
		o        stageOpts
		eta      float64
		waitsFor string
	}{
		{"eta-batches", stageOpts{n: 30, size: 10, def: def(campaign.Batches{Size: 10, Interval: time.Minute})}, 123, ""},
		{"eta-canary", stageOpts{n: 30, canary: 1, size: 10, def: def(campaign.Batches{CanaryPerLocale: 1, Size: 10, ApproveAfterCanary: true})},
			0, store.ETAWaitsForApproval},
	} {
		stage(t, st, tt.name, tt.o)
		s, err := st.Status(context.Background(), tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if s.ETASeconds != tt.eta || s.ETAWaitsFor != tt.waitsFor {
			t.Errorf("%s: eta %v, waits for %q; want %v, %q", tt.name, s.ETASeconds, s.ETAWaitsFor, tt.eta, tt.waitsFor)
		}
	}
}
