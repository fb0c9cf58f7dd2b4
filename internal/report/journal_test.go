package report_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/report"
)

// TestCutOutcomeLineKeepsTheClaimsEmail: a worker journals b as claimed
// (with its address), sends to b, and is killed while writing b's outcome
// line, which the kernel cut after the id. The salvaged fragment resolves
// the claim line and names no address: the report must still list b as
// in-doubt with the address its claim line names, since the README tells
// the operator to check the SMTP server's log for every in-doubt
// recipient (red team 8: the email was empty).
func TestCutOutcomeLineKeepsTheClaimsEmail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	e := func(id, outcome string) journal.Entry {
		return journal.Entry{At: t0, Campaign: "alpha", Run: "r1", ID: id, Email: id + "@example.org", Lang: "de", Outcome: outcome, Attempt: 1}
	}
	p := journaltest.Write(t, dir, "w1", e("a", journal.OutcomeClaimed), e("b", journal.OutcomeClaimed), e("a", "sent"), e("b", "sent"))
	// Cut the last line (b's outcome) right after its id, as a kill
	// mid-write leaves it.
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.LastIndex(string(b), `,"email":"b@`)
	if err := os.WriteFile(p, b[:cut], 0o640); err != nil {
		t.Fatal(err)
	}
	j, err := report.ReadJournal(dir, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range j.Rows {
		if r.ID == "b" {
			if r.Outcome != "in-doubt" {
				t.Errorf("b: outcome %q, want in-doubt", r.Outcome)
			}
			if r.Email != "b@example.org" {
				t.Fatalf("b (in doubt): email %q in the report, want b@example.org (its claimed line in %s names it)", r.Email, p)
			}
			return
		}
	}
	t.Fatalf("b is not in the report: %+v", j.Rows)
}

// TestReportOfAnotherCampaignsJournalIsRefused: `tidings report alpha
// --journal <journal dir>/beta` (the directory of another campaign, a
// slip of the tab key) or one of beta's .jsonl files must be an error
// naming the campaign the files hold and the path to give instead: read
// as alpha's, every line is dropped (another campaign) and the report of
// the lost campaign reads as "nobody was delivered" (red team 8: it was
// empty, exit 0).
func TestReportOfAnotherCampaignsJournalIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []string{"alpha", "beta"} {
		journaltest.Write(t, dir, "w1", journal.Entry{At: time.Now(), Campaign: c, Run: "r" + c, ID: "a", Email: "a@example.org", Outcome: "sent"})
	}
	for _, tt := range []struct{ campaign, path, advice string }{
		{"alpha", filepath.Join(dir, "beta"), "give the journal directory " + dir + " (which holds alpha/) or " + filepath.Join(dir, "alpha")},
		{"alpha", filepath.Join(dir, "beta", "rbeta.w1.jsonl"), "give the journal directory " + dir + " (which holds alpha/)"},
		{"gamma", filepath.Join(dir, "beta"), "the journal directory it is in (" + dir + ") holds no gamma/: give the journal directory (journal.dir) of the workers that sent gamma"},
	} {
		j, err := report.ReadJournal(tt.path, tt.campaign)
		if err == nil {
			t.Errorf("ReadJournal(%s, %s): no error, %d files read, %d rows, runs %q: an empty report of %s from beta's journal", tt.path, tt.campaign, len(j.Files), len(j.Rows), j.Runs, tt.campaign)
			continue
		}
		ce, ok := errors.AsType[*journal.CampaignError](err)
		msg := err.Error()
		if !ok || ce.Holds != "beta" || !strings.Contains(msg, "is a delivery journal of campaign beta, not of "+tt.campaign) || !strings.Contains(msg, tt.advice) {
			t.Errorf("ReadJournal(%s, %s): %v\nwant a *journal.CampaignError naming beta and saying %q", tt.path, tt.campaign, err, tt.advice)
		}
	}
}

// TestJournalReportOneRowPerMailbox: a recipient is their mailbox, so the
// report of the journals lists one row per mailbox whatever ids the runs
// gave it (an id column added to the file between runs, an address
// spelled otherwise), a delivery winning over any other line; a mailbox is
// never merged into another one because a later run gave both the same
// id. A temp line (a temporary failure the ledger deferred, or any written
// by an older worker) is pending; the worker journals one on its last
// attempt as failed.
func TestJournalReportOneRowPerMailbox(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	type line struct{ run, id, email, outcome string }
	type row struct {
		id, email, outcome string
		attempts           int
	}
	for _, tc := range []struct {
		name  string
		lines []line
		want  []row
	}{
		{"an id added between runs", []line{
			{"r1", "a@example.org", "a@example.org", "failed"},
			{"r2", "user-1", "a@example.org", "sent"},
		}, []row{{"user-1", "a@example.org", "sent", 2}}},
		{"a delivery wins over a later line under another id", []line{
			{"r1", "a@example.org", "a@example.org", "sent"},
			{"r2", "user-1", "a@example.org", "failed"},
		}, []row{{"a@example.org", "a@example.org", "sent", 2}}},
		{"the mailbox spelled otherwise", []line{
			{"r1", "josé@xn--bcher-kva.test", "José@XN--BCHER-KVA.test", "temp"},
			{"r2", "u9", "josé@bücher.test", "sent"},
		}, []row{{"u9", "josé@bücher.test", "sent", 2}}},
		{"one id, two mailboxes", []line{
			{"r1", "u1", "a@example.org", "sent"},
			{"r2", "u1", "b@example.org", "sent"},
		}, []row{{"u1", "a@example.org", "sent", 1}, {"u1", "b@example.org", "sent", 1}}},
		{"temp is pending, failed is failed", []line{
			{"r1", "a", "a@example.org", "temp"},
			{"r1", "b", "b@example.org", "temp"},
			{"r1", "b", "b@example.org", "failed"},
			{"r1", "c", "c@example.org", "cancelled"},
		}, []row{{"a", "a@example.org", "pending", 1}, {"b", "b@example.org", "failed", 2}, {"c", "c@example.org", "cancelled", 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var es []journal.Entry
			for i, l := range tc.lines {
				es = append(es, journal.Entry{At: t0.Add(time.Duration(i) * time.Second), Campaign: "alpha", Run: l.run, ID: l.id, Email: l.email, Lang: "de", Outcome: l.outcome})
			}
			journaltest.Write(t, dir, "w1", es...)
			j, err := report.ReadJournal(dir, "alpha")
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, r := range j.Rows {
				got = append(got, row{r.ID, r.Email, r.Outcome, r.Attempts})
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rows %+v, want %+v", got, tc.want)
			}
		})
	}
}
