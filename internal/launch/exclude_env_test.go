package launch_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
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
