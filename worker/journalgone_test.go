package worker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
			tc.lose(t, filepath.Join(dir, e.name))
			wait.For(t, 60*time.Second, "the campaign to pause (or finish)", func() bool {
				s := e.state(t)
				return s == store.StatePaused || s == store.StateDone
			})
			st, err := e.st.Status(context.Background(), e.name)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != store.StatePaused || st.Action != "journal" || !strings.Contains(st.Reason, "was deleted") {
				t.Fatalf("campaign %s (action %q, reason %q) after its journal file was lost mid-send; want paused by the journal, saying the file was deleted", st.State, st.Action, st.Reason)
			}
			// Nobody claimed after the loss was noticed is left in doubt:
			// the window whose claim line found the file gone is given back.
			if st.Counts[store.OutcomeInDoubt] != 0 {
				t.Errorf("%v in doubt, want none: the check comes before a window's claims are journaled", st.Counts)
			}
		})
	}
}
