package launch_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
)

// writeEnv appends entries to worker's journal in dir as a worker of
// environment env writes them (journal.Config.Env), and returns the file.
func writeEnv(t *testing.T, dir, worker, env string, es ...journal.Entry) string {
	t.Helper()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: worker, Always: true, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(es...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return journal.FileName(dir, es[0].Campaign, es[0].Run, worker)
}

// TestExcludeRefusesAnotherEnvironmentsJournal: a staging run's journal
// given to a production recovery was read as production's: its lines
// named no environment, so the recipients only mailed in staging (the
// allowlisted testers, or everyone of a staging rehearsal) were excluded
// from production and never mailed there (red team fx34d). A worker now
// writes its environment in every line, and a recovery in another
// environment is refused, naming the file, its line, the field, both
// environments and what to do.
func TestExcludeRefusesAnotherEnvironmentsJournal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	jdir := t.TempDir()
	file := writeEnv(t, jdir, "w1", "staging",
		journal.Entry{Campaign: "launch-test", Run: "r-staging", ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
	d, err := launch.LoadDelivered("launch-test", []string{jdir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = launch.Plan(ctx, input(t, d)) // in environment "test"
	var ee *launch.EnvError
	if !errors.As(err, &ee) {
		t.Fatalf("Plan in environment test with a journal of staging: %v, want a *launch.EnvError", err)
	}
	for _, w := range []string{file + ":1:", `field "env"`, `"staging"`, "environment test", "--env staging", "journal.dir of environment test", "nothing was staged"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Plan: %s\nwant it to say %q", err, w)
		}
	}

	// The same environment's journal is read.
	same := t.TempDir()
	writeEnv(t, same, "w1", "test",
		journal.Entry{Campaign: "launch-test", Run: "r1", ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
	d, err = launch.LoadDelivered("launch-test", []string{same})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := launch.Plan(ctx, input(t, d)); err != nil {
		t.Errorf("Plan in environment test with a journal of test: %v", err)
	}
}

// TestExcludeSaysAJournalWithoutEnvironmentIsUnchecked: a journal written
// before tidings recorded the environment is read (refusing it would
// block every recovery of a campaign begun before the upgrade), and the
// summary says which files could not be checked, so the operator checks
// them.
func TestExcludeSaysAJournalWithoutEnvironmentIsUnchecked(t *testing.T) {
	t.Parallel()
	jdir := t.TempDir()
	old := writeEnv(t, jdir, "w1", "",
		journal.Entry{Campaign: "launch-test", Run: "r1", ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
	writeEnv(t, jdir, "w2", "test",
		journal.Entry{Campaign: "launch-test", Run: "r1", ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	d, err := launch.LoadDelivered("launch-test", []string{jdir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := launch.Plan(context.Background(), input(t, d)); err != nil {
		t.Fatalf("Plan: %v", err)
	}
	var out bytes.Buffer
	d.WriteSummary(&out)
	for _, w := range []string{"1 file(s) record no environment", filepath.Base(old), "make sure"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary:\n%s\nwant it to say %q", out.String(), w)
		}
	}
}

// TestExcludeSaysAReportWithoutEnvironmentIsUnchecked: a report written
// before reports recorded the environment (no column or field env) is
// read, as a journal of then is: refusing it would block the recovery of
// a campaign whose only record is a report saved before the upgrade. The
// summary names it among the files it could not check. A report that
// names this environment is not named there.
func TestExcludeSaysAReportWithoutEnvironmentIsUnchecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	before := "line,id,email,locale,lang,outcome,code,response,at,attempts,batch,campaign,run,continues\n" +
		"2,ada,ada@x.example,en,en,sent,250,ok,2026-12-01T02:00:00Z,1,0,launch-test,r1,\n"
	oldCSV := old("old.csv", before)
	oldJSON := old("old.json", `{"campaign":"launch-test","run":"r1","continues":[],"state":"done","audit":[],"recipients":[{"id":"bob","email":"bob@x.example","outcome":"sent"}],"counts":{"sent":1}}`+"\n")
	now := old("now.csv", "line,id,email,locale,lang,outcome,code,response,at,attempts,batch,campaign,run,continues,env\n"+
		"2,cy,cy@x.example,en,en,sent,250,ok,2026-12-01T02:00:00Z,1,0,launch-test,r1,,test\n")
	d, err := launch.LoadDeliveredIn("", "test", "launch-test", []string{oldCSV, oldJSON, now})
	if err != nil {
		t.Fatalf("exclude reports written before the env column: %v", err)
	}
	if d.Sent != 3 || !slices.Equal(d.NoEnv, []string{oldCSV, oldJSON}) {
		t.Errorf("read %d sent, unchecked %v; want 3 sent, unchecked %v", d.Sent, d.NoEnv, []string{oldCSV, oldJSON})
	}
	var out bytes.Buffer
	d.WriteSummary(&out)
	for _, w := range []string{"2 file(s) record no environment", oldCSV, oldJSON, "make sure"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary:\n%s\nwant it to say %q", out.String(), w)
		}
	}
}

// TestExcludeSaysAnotherMachinesExclusionsAreUnchecked: the exclusions of
// recoveries (ExclusionsPath) written before they had the column env name
// no environment. A copy given by path, another state_dir's, is named as
// unchecked, and so, now that a recovery writes the column (a state_dir
// two environments share would otherwise pass unseen), is this state_dir's
// own (TestExclusionsRecordTheirEnvironment: one that names its
// environment is not).
func TestExcludeSaysAnotherMachinesExclusionsAreUnchecked(t *testing.T) {
	t.Parallel()
	stateDir, jdir := t.TempDir(), t.TempDir()
	own := launch.ExclusionsPath(stateDir, "launch-test")
	body := "id,email,outcome,code,response,campaign,run\nada,ada@x.example,skipped,already-delivered,sent according to r.csv,launch-test,r1\n"
	if err := os.MkdirAll(filepath.Dir(own), 0o700); err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "launch-test.excluded.csv")
	for _, p := range []string{own, copied} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeEnv(t, jdir, "w1", "test",
		journal.Entry{Campaign: "launch-test", Run: "r2", ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	d, err := launch.LoadDeliveredIn(stateDir, "test", "launch-test", []string{jdir})
	if err != nil || d.Earlier != 1 || !slices.Equal(d.NoEnv, []string{own}) {
		t.Fatalf("exclude with this state_dir's exclusions written before the env column: %+v, %v; want them read and named unchecked", d, err)
	}
	d, err = launch.LoadDeliveredIn("", "test", "launch-test", []string{jdir, copied})
	if err != nil || d.Sent != 2 || !slices.Equal(d.NoEnv, []string{copied}) {
		t.Fatalf("exclude with a copy of another machine's exclusions: %+v, %v; want it read and named unchecked", d, err)
	}
}
