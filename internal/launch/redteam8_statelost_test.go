package launch_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestRedteam8ExcludeOtherCampaignJournalAccepted: README: "Files that
// record deliveries none of which is a recipient of the campaign are
// refused and nothing is staged, since they would exclude nobody; a
// report of another campaign ... is refused". After Redis lost
// launch-test (ada and bob delivered), the operator passes by mistake the
// journal file of another campaign (beta). LoadDelivered drops beta's
// lines, so it holds 0 deliveries and no error; Check refuses only when
// d.Len() > 0; Preflight skips the state-loss check whenever Exclude is
// non-nil. The staging goes through with nobody excluded: ada and bob are
// staged to be sent again.
func TestRedteam8ExcludeOtherCampaignJournalAccepted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, first := started(t)
	journalOf(t, jdir,
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"},
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	other := t.TempDir()
	journalOf(t, other,
		journal.Entry{Campaign: "beta", Run: "rb", ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"},
		journal.Entry{Campaign: "beta", Run: "rb", ID: "zz", Email: "zz@y.example", Outcome: "sent"})
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	betaFile := filepath.Join(other, "beta", "rb.w1.jsonl")
	d, err := launch.LoadDelivered("launch-test", []string{betaFile})
	if err != nil {
		t.Logf("refused at load (fine): %v", err)
		return
	}
	p, err := launch.Plan(ctx, input(t, d))
	if err != nil {
		t.Logf("refused at plan (fine): %v", err)
		return
	}
	res, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir})
	if err != nil {
		t.Logf("refused at stage (fine): %v", err)
		return
	}
	t.Fatalf("--exclude-delivered %s (campaign beta's journal) for launch-test: excluded %d, staged %d recipients in new run %s with %d skipped: ada and bob, sent in run %s, are staged again",
		betaFile, d.Len(), res.Staged, res.Run, p.Summary.Skipped, first.Run)
}
