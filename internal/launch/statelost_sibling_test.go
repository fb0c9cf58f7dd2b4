package launch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestSiblingJournalDoesNotHideTheStateLoss: a worker host whose
// journal directory holds the campaign's own journal (<jdir>/launch-test/)
// refuses to stage the campaign as new after Redis lost it (StateLostError),
// even when this machine holds no record of it. When another host's journal
// was copied beside it (<jdir>/launch-test-hostA/, which journal.Files now
// refuses), staging must refuse too, naming the journal, not take the
// refusal for "no journal" and stage the campaign as a brand-new run that
// mails again every recipient the journals record as sent (found by a
// review).
func TestSiblingJournalDoesNotHideTheStateLoss(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, _, jdir, first := started(t)
	journalOf(t, jdir,
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
	// Another host's journal of the same campaign, copied in beside it.
	own := filepath.Join(jdir, "launch-test")
	files, err := os.ReadDir(own)
	if err != nil || len(files) == 0 {
		t.Fatalf("own journal: %v %v", files, err)
	}
	if err := os.MkdirAll(filepath.Join(jdir, "launch-test-hostA"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(own, files[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(jdir, "launch-test-hostA", files[0].Name()), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	// This machine has the journals but not the record (another machine ran send).
	res, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: t.TempDir(), JournalDir: jdir})
	if err == nil {
		t.Fatalf("staged campaign launch-test as a new run %s after Redis lost it, though %s holds its journal (ada sent): ada is mailed again; want a refusal", res.Run, own)
	}
	var lost *launch.StateLostError
	if !errors.As(err, &lost) && !strings.Contains(err.Error(), "launch-test-hostA") {
		t.Fatalf("refused with %q: want a StateLostError or the journal's refusal naming launch-test-hostA", err)
	}
}
