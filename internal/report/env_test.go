package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/report"
)

// refusedIn checks that a send in environment want refuses the report
// path of environment env as --exclude-delivered reads it, naming the
// file and line, what of it names the environment (where), both
// environments and what to run; and that a send in env reads it.
func refusedIn(t *testing.T, campaign, path, where, env, want string) {
	t.Helper()
	_, err := launch.LoadDeliveredIn("", want, campaign, []string{path})
	var ee *launch.EnvError
	if !errors.As(err, &ee) {
		t.Fatalf("exclude %s (of %s) in %s: %v, want a *launch.EnvError", path, env, want, err)
	}
	for _, w := range []string{path + ":" + where, `"` + env + `"`, "a report of environment " + env, "not of environment " + want,
		"tidings report " + campaign + " --env " + want, "run the send with --env " + env, "nothing was staged"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("exclude %s in %s: %s\nwant it to say %q", path, want, err, w)
		}
	}
	d, err := launch.LoadDeliveredIn("", env, campaign, []string{path})
	if err != nil || d.Sent == 0 || len(d.NoEnv) != 0 {
		t.Errorf("exclude %s in its own environment %s: %+v, %v; want it read, sent recipients excluded, its environment known", path, env, d, err)
	}
}

// TestReportRecordsItsEnvironment: a report written from Redis recorded
// no environment, so an operator merging staging's and production's
// reports could not tell them apart, and send --exclude-delivered took a
// staging report in production: the recipients mailed only in staging
// would never have been mailed in production (fx35d). The CSV report has
// a column env, the same on every row, and the JSON report a field env:
// the campaign's environment; a recovery in another environment refuses
// either, naming the file, its line, the column or field, and what to run.
func TestReportRecordsItsEnvironment(t *testing.T) {
	t.Parallel()
	_, s, name := outcomesCampaign(t) // staged in the rehearsal's environment
	const env = "rehearsal"
	dir := t.TempDir()

	var out bytes.Buffer
	if err := report.Write(t.Context(), s, name, &out, report.Options{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "env")
	if col < 0 || len(rows) < 3 {
		t.Fatalf("CSV report: header %v, %d rows; want a column env and rows", rows[0], len(rows)-1)
	}
	for i, row := range rows[1:] {
		if row[col] != env {
			t.Errorf("CSV report, line %d: env %q, want %q", i+2, row[col], env)
		}
	}
	csvPath := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(csvPath, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	refusedIn(t, name, csvPath, `2: column "env"`, env, "production")

	out.Reset()
	if err := report.Write(t.Context(), s, name, &out, report.Options{Format: report.FormatJSON}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Env *string `json:"env"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Env == nil || *got.Env != env {
		t.Fatalf("JSON report: env %v, %v; want %q\n%s", got.Env, err, env, out.String())
	}
	jsonPath := filepath.Join(dir, "report.json")
	if err := os.WriteFile(jsonPath, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	refusedIn(t, name, jsonPath, `1: field "env"`, env, "production")
}

// TestJournalReportRecordsItsEnvironment: the report written from the
// delivery journals (which name their environment in every line) records
// it too: a column env (CSV), a field env (JSON); a recovery in another
// environment refuses it as it refuses the journals themselves.
func TestJournalReportRecordsItsEnvironment(t *testing.T) {
	t.Parallel()
	jdir, dir := t.TempDir(), t.TempDir()
	w, err := journal.Open(journal.Config{Dir: jdir, Worker: "w1", Always: true, Env: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(journal.Entry{Campaign: "c", Run: "r1", ID: "ada", Email: "ada@x.example", Outcome: "sent"},
		journal.Entry{Campaign: "c", Run: "r1", ID: "bob", Email: "bob@x.example", Outcome: "failed"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	j, err := report.ReadJournal(jdir, "c")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ format, where string }{{report.FormatCSV, `2: column "env"`}, {report.FormatJSON, `1: field "env"`}} {
		var out bytes.Buffer
		if err := report.WriteJournal(j, &out, report.Options{Format: tt.format}); err != nil {
			t.Fatal(err)
		}
		switch tt.format {
		case report.FormatCSV:
			rows, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			col := slices.Index(rows[0], "env")
			if col < 0 || len(rows) != 3 || rows[1][col] != "staging" || rows[2][col] != "staging" {
				t.Fatalf("CSV journal report: want a column env of staging on every row:\n%s", out.String())
			}
		case report.FormatJSON:
			var got struct {
				Env *string `json:"env"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Env == nil || *got.Env != "staging" {
				t.Fatalf("JSON journal report: env %v, %v; want staging\n%s", got.Env, err, out.String())
			}
		}
		path := filepath.Join(dir, "journal-report."+tt.format)
		if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		refusedIn(t, "c", path, tt.where, "staging", "production")
	}
}
