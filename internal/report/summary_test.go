package report_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/report"
)

// TestSummarySaysClaimsWithoutOutcomeMayBeInFlight: `report --journal`
// read while a worker sends finds the window it claimed and has not
// journaled the outcomes of yet: those recipients are in doubt with code
// claimed-no-outcome, as a worker killed mid-window leaves them. The
// summary says they may still be in flight and how to tell (read again
// once the campaign is done or paused); before, it said only "in-doubt 2"
// and the rows' code, which reads as a crash. A journal whose every claim
// has its outcome has no such line.
func TestSummarySaysClaimsWithoutOutcomeMayBeInFlight(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	e := func(id, outcome string) journal.Entry {
		return journal.Entry{At: t0, Campaign: "alpha", Run: "r1", ID: id, Email: id + "@example.org", Lang: "de", Outcome: outcome, Attempt: 1}
	}
	claimed := journal.OutcomeClaimed
	for _, tc := range []struct {
		name    string
		entries []journal.Entry
	}{
		// A window of 3 claimed, a's outcome journaled, b and c's not yet.
		{"in-flight", []journal.Entry{e("a", claimed), e("b", claimed), e("c", claimed), e("a", "sent")}},
		{"all-resolved", []journal.Entry{e("a", claimed), e("b", claimed), e("a", "sent"), e("b", "failed")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			journaltest.Write(t, dir, "w1", tc.entries...)
			j, err := report.ReadJournal(dir, "alpha")
			if err != nil {
				t.Fatal(err)
			}
			j.Files = []string{"JOURNAL"} // the temporary directory's name varies
			golden.Check(t, filepath.Join("testdata", "summary-"+tc.name+".txt"), report.Summary(j))
		})
	}
}
