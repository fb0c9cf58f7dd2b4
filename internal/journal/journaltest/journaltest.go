// Package journaltest writes delivery journals for tests the way a worker
// does: through journal.Writer, so a test reads the format the worker
// writes. A test that needs a malformed line (a cut write, a stray byte)
// writes that line itself, next to a call to Write, where a reader sees
// it is deliberate.
package journaltest

import (
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
)

// Write appends entries, one Append each, to the delivery journal of worker
// in journal directory dir, closes the writer, and returns the file the
// last entry went to (journal.FileName of its campaign and run), or "" for
// no entries. Any error fails the test.
func Write(t testing.TB, dir, worker string, entries ...journal.Entry) string {
	t.Helper()
	w, err := journal.Open(journal.Config{Dir: dir, Worker: worker, Always: true})
	if err != nil {
		t.Fatalf("open the journal of %s in %s: %v", worker, dir, err)
	}
	for _, e := range entries {
		if err := w.Append(e); err != nil {
			_ = w.Close()
			t.Fatalf("append %s's %s to the journal of %s in %s: %v", e.ID, e.Outcome, worker, dir, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close the journal of %s in %s: %v", worker, dir, err)
	}
	if len(entries) == 0 {
		return ""
	}
	last := entries[len(entries)-1]
	return journal.FileName(dir, last.Campaign, last.Run, worker)
}
