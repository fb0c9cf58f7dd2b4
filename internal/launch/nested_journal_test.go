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
)

// TestRedteam8ExcludeNestedHostJournalDir: the recovery message says "copy
// the journal files of every other worker host (<journal dir>/<campaign>/
// on each) into <journal dir>/<campaign>/". `cp -r host2/<campaign>
// journal/<campaign>/` (or scp -r) lands them one directory deeper:
// journal/<campaign>/<campaign>/ (or a per-host subdirectory). Files()
// globs one level only, so those deliveries are silently not excluded
// (nor counted, nor refused), and the worker's UnknownRuns check — which
// globs the same way — does not see them either: recipients host2
// delivered are sent again.
func TestExcludeRefusesANestedJournalDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	const c = "rt8"
	// host1's journal, in place.
	journaltest.Write(t, root, "host1-w1",
		journal.Entry{Campaign: c, Run: "run1", ID: "a", Email: "a@x.example", Outcome: "sent"})
	// host2's journal, copied with cp -r into the campaign's directory.
	journaltest.Write(t, filepath.Join(root, c, "host2"), "host2-w1",
		journal.Entry{Campaign: c, Run: "run1", ID: "b", Email: "b@x.example", Outcome: "sent"},
		journal.Entry{Campaign: c, Run: "run1", ID: "d", Email: "d@x.example", Outcome: "sent"})
	if _, err := os.Stat(filepath.Join(root, c, "host2", c, "run1.host2-w1.jsonl")); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered(c, []string{root})
	if err != nil {
		// Refused, naming the subdirectory and what to do: the operator
		// moves the files up, and nobody is missed.
		if !strings.Contains(err.Error(), filepath.Join(root, c, "host2")) || !strings.Contains(err.Error(), "move the files into") {
			t.Fatalf("refused without naming the subdirectory and what to do: %v", err)
		}
		return
	}
	if _, ok := d.Match("b", "b@x.example"); !ok || d.Len() != 3 {
		t.Fatalf("LoadDelivered(%s) excludes %d recipients (%d sent) from %v; b and d, whose journal is in %s, are not excluded and would be sent again, with no word about the subdirectory",
			root, d.Len(), d.Sent, d.Sources, filepath.Join(root, c, "host2"))
	}
}

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
	journaltest.Write(t, jdir, "w1",
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
