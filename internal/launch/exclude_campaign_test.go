package launch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestExcludeRefusesAnotherCampaignsJournal: after Redis lost launch-test
// (ada and bob delivered), the operator gives by mistake the journal of
// another campaign (beta). Its lines were skipped as another campaign's,
// so it excluded nobody, and since any exclusion skipped the state-loss
// check, everyone was staged again in a new run: ada and bob mailed twice
// (red team 8). A journal file holding lines of other campaigns only is
// refused, naming the file, the campaigns it holds and what to give
// instead; nothing is staged.
func TestExcludeRefusesAnotherCampaignsJournal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, _, jdir, first := started(t)
	journaltest.Write(t, jdir, "w1",
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"},
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	other := t.TempDir()
	journaltest.Write(t, other, "w1",
		journal.Entry{Campaign: "beta", Run: "rb", ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"},
		journal.Entry{Campaign: "beta", Run: "rb", ID: "zz", Email: "zz@y.example", Outcome: "sent"})
	betaFile := filepath.Join(other, "beta", "rb.w1.jsonl")
	// beta's file copied into launch-test's own directory, beside its own.
	mixed := t.TempDir()
	if err := os.CopyFS(mixed, os.DirFS(jdir)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(betaFile)
	if err != nil {
		t.Fatal(err)
	}
	strayFile := filepath.Join(mixed, "launch-test", "rb.w9.jsonl")
	if err := os.WriteFile(strayFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, file string
	}{
		{"its journal file", betaFile, betaFile},
		{"its campaign directory", filepath.Join(other, "beta"), betaFile},
		{"its file among the campaign's own", mixed, strayFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := launch.LoadDelivered("launch-test", []string{tt.path})
			ce, ok := errors.AsType[*journal.CampaignError](err)
			if !ok || ce.Holds != "beta" || ce.Path != tt.file {
				t.Fatalf("LoadDelivered(%s) for launch-test: %v, excluding %+v; want a journal.CampaignError naming %s and beta", tt.path, err, d, tt.file)
			}
			for _, want := range []string{tt.file + " is a delivery journal of campaign beta, not of launch-test",
				"give the journal directory (journal.dir) of the workers that sent launch-test"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("refused with %q, want it to contain %q", err, want)
				}
			}
		})
	}
	if _, err := st.Meta(ctx, "launch-test", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the refusals: %v, want nothing staged", err)
	}
	// The campaign's own journal is still read as it was.
	if d, err := launch.LoadDelivered("launch-test", []string{jdir}); err != nil || d.Sent != 2 {
		t.Errorf("LoadDelivered of the campaign's own journal: %+v, %v; want 2 sent", d, err)
	}
}

// TestExcludeAcceptsAJournalOfTheCampaignWithNoDelivery: the journal of
// the campaign that holds lines of it but no delivery (a failure; claims
// given back unsent, in a file of their own) shows that it delivered
// nobody: it is read, excludes nobody, says how many records it read, and
// the campaign is staged again as a recovery.
func TestExcludeAcceptsAJournalOfTheCampaignWithNoDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, first := started(t)
	journaltest.Write(t, jdir, "w1",
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "failed"})
	journaltest.Write(t, jdir, "w2",
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "bob@x.example", Email: "bob@x.example", Outcome: journal.OutcomeClaimed},
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "bob@x.example", Email: "bob@x.example", Outcome: journal.OutcomeUnclaimed})
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("launch-test", []string{jdir})
	if err != nil {
		t.Fatalf("LoadDelivered of the campaign's journal with no delivery: %v", err)
	}
	if d.Len() != 0 || d.Records != 3 || len(d.Sources) != 2 {
		t.Fatalf("read %d deliveries, %d records from %v; want 0 and 3 (the failure, the claim and its give-back) from 2 files", d.Len(), d.Records, d.Sources)
	}
	p, err := launch.Plan(ctx, input(t, d))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir})
	if err != nil {
		t.Fatalf("stage excluding the journal with no delivery: %v", err)
	}
	if res.Staged != 6 || res.Run == first.Run {
		t.Errorf("staged %d in run %s (first %s), want all 6 in a new run", res.Staged, res.Run, first.Run)
	}
}

// TestExcludeOfNothingKeepsTheStateLossCheck: exclusions that hold
// nothing of the campaign (no delivery, no line of it) do not make a
// recovery: empty journal files are refused when read, and such an
// exclusion does not let a campaign Redis lost be staged as new.
func TestExcludeOfNothingKeepsTheStateLossCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, first := started(t)
	empty := filepath.Join(t.TempDir(), "launch-test", first.Run+".w1.jsonl")
	if err := os.MkdirAll(filepath.Dir(empty), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := launch.LoadDelivered("launch-test", []string{filepath.Dir(empty)})
	var ne *launch.NoRecordError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), empty+" record no delivery and no line of campaign launch-test") {
		t.Fatalf("LoadDelivered of an empty journal file: %v, want a NoRecordError naming it", err)
	}
	p, err := launch.Plan(ctx, input(t, &launch.Delivered{Campaign: "launch-test"}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir})
	var lost *launch.StateLostError
	if !errors.As(err, &lost) {
		t.Fatalf("stage excluding nothing of the campaign after Redis lost it: %v, want a StateLostError", err)
	}
}
