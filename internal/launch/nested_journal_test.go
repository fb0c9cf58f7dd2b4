package launch_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
)

func writeJournal(t *testing.T, dir, worker string, es ...journal.Entry) {
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
func TestExcludeRefusesANestedJournalDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	const c = "rt8"
	// host1's journal, in place.
	writeJournal(t, root, "host1-w1",
		journal.Entry{Campaign: c, Run: "run1", ID: "a", Email: "a@x.example", Outcome: "sent"})
	// host2's journal, copied with cp -r into the campaign's directory.
	writeJournal(t, filepath.Join(root, c, "host2"), "host2-w1",
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
