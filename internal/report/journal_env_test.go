package report_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/report"
)

// TestJournalReportRefusesTwoEnvironments: report --journal given the
// journal directories of two environments (production's and staging's)
// read them as one campaign: its rows listed the recipients mailed only
// in staging as delivered, and a production recovery from that report
// (--exclude-delivered report.csv, which records no environment) would
// never mail them (red team fx34d). It is refused, naming each file, its
// line, the field and both environments, and what to give.
func TestJournalReportRefusesTwoEnvironments(t *testing.T) {
	t.Parallel()
	prod, staging := t.TempDir(), t.TempDir()
	write := func(dir, env, id string) string {
		w, err := journal.Open(journal.Config{Dir: dir, Worker: "w1", Always: true, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Append(journal.Entry{Campaign: "c", Run: "r-" + env, ID: id, Email: id + "@x.example", Outcome: "sent"}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return journal.FileName(dir, "c", "r-"+env, "w1")
	}
	pf, sf := write(prod, "production", "ada"), write(staging, "staging", "bob")
	if _, err := report.ReadJournals([]string{prod}, "c"); err != nil {
		t.Fatalf("one environment's journal: %v", err)
	}
	j, err := report.ReadJournals([]string{prod, staging}, "c")
	var ee *report.EnvsError
	if !errors.As(err, &ee) {
		t.Fatalf("ReadJournals of production's and staging's journals: %v (rows %v), want a *report.EnvsError", err, j)
	}
	for _, w := range []string{pf + ":1:", sf + ":1:", `field "env"`, "production", "staging", "one environment"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("ReadJournals: %s\nwant it to say %q", err, w)
		}
	}
}
