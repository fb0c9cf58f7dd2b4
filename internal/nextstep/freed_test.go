package nextstep_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/nextstep"
)

// TestFreedWording: what status, every command naming the campaign, the
// console (Lost, through LostIn) and send's refusal (StateLost) say of a
// campaign `tidings free` freed, whose start record notes it: freed, when
// and by whom, the ledger Redis keeps, and the send again that excludes
// the saved report; never that Redis lost it.
func TestFreedWording(t *testing.T) {
	t.Parallel()
	rec := &launch.Record{Campaign: "altea", Env: "production", Run: "r-1", CampaignFile: "/home/ops/campaigns/altea.yaml",
		Send: &launch.SendOptions{SkipRefused: true}, By: "alice", Host: "ops-1", Path: "/var/lib/tidings/production/campaigns/altea.json",
		Freed: &launch.Freed{At: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), By: "bob@ops-2", Ledger: 1200, Report: "/home/ops/altea.report.csv"}}
	lost := &launch.StateLostError{Campaign: "altea", Record: rec, Journals: 2, JournalDir: "/var/lib/tidings/production/journal"}
	got := "# status, commands naming it, the console\n" + nextstep.Lost("altea", "production", rec) +
		"\n\n# send\n" + nextstep.StateLost(lost, "/home/ops/campaigns/altea.yaml", "production") + "\n"
	golden.Check(t, filepath.Join("testdata", "freed.golden"), got)
}
