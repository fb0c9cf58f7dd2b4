package worker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestJournalDeletedMidSendPauses: the journal's files vanish under a
// running worker (the directory deleted by a clean-up, the file replaced).
// Writes into a file it holds open still succeed, into an inode no path
// names: the delivery record outside Redis is gone while the worker sends
// on. It must notice before it sends another window, and pause the
// campaign saying what happened, as it does for a full disk.
func TestJournalDeletedMidSendPauses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		lose func(t *testing.T, campDir string)
	}{
		{"directory deleted", func(t *testing.T, campDir string) {
			if err := os.RemoveAll(campDir); err != nil {
				t.Fatal(err)
			}
		}},
		{"file replaced", func(t *testing.T, campDir string) {
			files, err := filepath.Glob(filepath.Join(campDir, "*.jsonl"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no journal file in %s (%v)", campDir, err)
			}
			for _, f := range files {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f, nil, 0o640); err != nil {
					t.Fatal(err)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.stage(t, opts{n: 400, size: 400, rate: "40/s"})
			dir := t.TempDir()
			e.startWorker(t, wopts{journal: dir})
			wait.For(t, 30*time.Second, "the first messages", func() bool { return e.smtp.Count() >= 20 })
			campDir := filepath.Join(dir, e.name)
			lost := holdJournal(t, campDir) // the files the worker writes, as they were before the loss
			tc.lose(t, campDir)
			// Paused (or done), and every claim ended: a window of another
			// connection stopped by the pause is recorded after it (given
			// back, or in doubt), and the counts read before that would
			// not match the report read after.
			e.waitStopped(t)
			st, err := e.st.Status(context.Background(), e.name)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != store.StatePaused || st.Action != "journal" || !strings.Contains(st.Reason, "was deleted") {
				t.Fatalf("campaign %s (action %q, reason %q) after its journal file was lost mid-send; want paused by the journal, saying the file was deleted", st.State, st.Action, st.Reason)
			}
			// Nobody is mailed twice, every row is accounted for, and each
			// recipient sent is sent in the ledger.
			e.checkReconcile(t)
			// In doubt are only claims the lost file holds unresolved (no
			// outcome or unclaimed line after them), none of them sent:
			// windows of other connections that were journaled before the
			// loss and stopped when the campaign paused, whose unclaimed
			// lines could not be written (run.abandoned; given back in
			// Redis, they would read to the journal check as deliveries
			// Redis lost once the file is copied back, as its error says
			// to do). A window whose claim line found the file gone is
			// given back, so nobody claimed after the loss was noticed is
			// in doubt.
			open := unresolvedClaims(t, lost)
			got := e.received()
			err = e.st.Report(context.Background(), e.name, func(r store.Row) error {
				if r.Outcome == store.OutcomeInDoubt && (!open[r.ID] || r.Code != journal.ClaimedCode || got[r.Email] != 0) {
					t.Errorf("%s in doubt (code %q, %d messages received, claim unresolved in the lost journal: %v): want in doubt only a claim the lost journal holds unresolved, code %s, never sent",
						r.ID, r.Code, got[r.Email], open[r.ID], journal.ClaimedCode)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v; %d claims unresolved in the lost journal", st.Counts, len(open))
		})
	}
}

// holdJournal opens the journal files in campDir, so that the test can
// read them after they are deleted or replaced (the worker still writes
// into them, and so may say there what it claimed before it noticed).
func holdJournal(t *testing.T, campDir string) []*os.File {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(campDir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no journal file in %s (%v)", campDir, err)
	}
	var held []*os.File
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		held = append(held, f)
	}
	return held
}

// unresolvedClaims returns the recipients whose last line in files is
// claimed: a claim no later line (an outcome, unclaimed) resolves, which
// journal readers take as in doubt.
func unresolvedClaims(t *testing.T, files []*os.File) map[string]bool {
	t.Helper()
	open := map[string]bool{}
	for _, f := range files {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e journal.Entry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("%s: %v: %s", f.Name(), err, sc.Bytes())
			}
			open[e.ID] = e.Outcome == journal.OutcomeClaimed
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	for id, claimed := range open {
		if !claimed {
			delete(open, id)
		}
	}
	return open
}
