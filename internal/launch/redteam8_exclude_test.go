package launch_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
)

func rt8Journal(t *testing.T, dir, worker string, es ...journal.Entry) {
	t.Helper()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: worker, Always: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if err := w.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRedteam8ExcludeNestedHostJournalDir: the recovery message says "copy
// the journal files of every other worker host (<journal dir>/<campaign>/
// on each) into <journal dir>/<campaign>/". `cp -r host2/<campaign>
// journal/<campaign>/` (or scp -r) lands them one directory deeper:
// journal/<campaign>/<campaign>/ (or a per-host subdirectory). Files()
// globs one level only, so those deliveries are silently not excluded
// (nor counted, nor refused), and the worker's UnknownRuns check — which
// globs the same way — does not see them either: recipients host2
// delivered are sent again.
func TestRedteam8ExcludeNestedHostJournalDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	const c = "rt8"
	// host1's journal, in place.
	rt8Journal(t, root, "host1-w1",
		journal.Entry{Campaign: c, Run: "run1", ID: "a", Email: "a@x.example", Outcome: "sent"})
	// host2's journal, copied with cp -r into the campaign's directory.
	rt8Journal(t, filepath.Join(root, c, "host2"), "host2-w1",
		journal.Entry{Campaign: c, Run: "run1", ID: "b", Email: "b@x.example", Outcome: "sent"},
		journal.Entry{Campaign: c, Run: "run1", ID: "d", Email: "d@x.example", Outcome: "sent"})
	if _, err := os.Stat(filepath.Join(root, c, "host2", c, "run1.host2-w1.jsonl")); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered(c, []string{root})
	if err != nil {
		t.Logf("refused (acceptable): %v", err)
		return
	}
	if _, ok := d.Match("b", "b@x.example"); !ok || d.Len() != 3 {
		t.Fatalf("LoadDelivered(%s) excludes %d recipients (%d sent) from %v; b and d, whose journal is in %s, are not excluded and would be sent again, with no word about the subdirectory",
			root, d.Len(), d.Sent, d.Sources, filepath.Join(root, c, "host2"))
	}
}

// TestRedteam8ExcludeJournalReportCSVWithBOM: a journal report (tidings
// report --journal, header "id,email,...") opened and saved by Excel as
// "CSV UTF-8" starts with a byte order mark. readCSV keys the header by
// its text as written, so the first column becomes "\ufeffid": the id
// column is silently dropped and recipients are matched by address only.
// A recipient delivered in the lost run whose address was corrected since
// (same id) is not excluded and is sent again.
func TestRedteam8ExcludeJournalReportCSVWithBOM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "journal-report.csv")
	body := "\ufeffid,email,lang,outcome,code,at,attempts,run,worker,campaign\r\n" +
		"u7,old@x.example,en,sent,,2026-01-01T00:00:00Z,1,run1,w1,rt8\r\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("rt8", []string{p})
	if err != nil {
		t.Logf("refused (acceptable if it names the BOM): %v", err)
		return
	}
	// The same report without the BOM matches id u7 under its new address.
	if _, ok := d.Match("u7", "new@x.example"); !ok {
		t.Fatalf("recipient u7 (sent in the lost run, per the report) is not excluded when the report starts with a BOM: matched by address only; excluded %d", d.Len())
	}
}

// TestRedteam8ExcludeOtherCampaignReportWithBOM: README: "a report of
// another campaign (... a CSV report ... with its campaign column) is
// refused, a CSV with its line". A report whose columns were reordered by
// hand to put campaign first and saved by Excel (BOM, CRLF) has the header
// "\ufeffcampaign": the campaign column is not found, and the report of
// another campaign is accepted, excluding its recipients from this one.
func TestRedteam8ExcludeOtherCampaignReportWithBOM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "other.csv")
	body := "\ufeffcampaign,outcome,id,email\r\n" +
		"someone-else,sent,a,a@x.example\r\n" +
		"someone-else,sent,b,b@x.example\r\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("rt8", []string{p})
	if err == nil {
		t.Fatalf("the report of campaign someone-else (BOM, campaign column first) was accepted for rt8: it excludes %d recipients", d.Len())
	}
}

// TestRedteam8ExcludeReportUnknownOutcomeIgnored: a report edited by hand
// (a row's outcome typed "Sent", or padded "sent ", as a spreadsheet or an
// editor leaves it) is read without an error: delivered() knows only the
// exact lower-case words, so the row counts as "cannot have received the
// message" and is sent again. An outcome that is no outcome should be an
// error naming the file, the line and the field.
func TestRedteam8ExcludeReportUnknownOutcomeIgnored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "edited.csv")
	body := "id,email,outcome,campaign\r\n" +
		"a,a@x.example,sent,rt8\r\n" +
		"b,b@x.example,Sent,rt8\r\n" +
		"c,c@x.example,sent ,rt8\r\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("rt8", []string{p})
	if err != nil {
		t.Logf("refused (fine if it names the line and the outcome): %v", err)
		return
	}
	for _, id := range []string{"b", "c"} {
		if _, ok := d.Match(id, id+"@x.example"); !ok {
			t.Errorf("%s, whose outcome in %s reads as sent (edited), is neither excluded nor reported as a bad row: excluded %d", id, p, d.Len())
		}
	}
}
