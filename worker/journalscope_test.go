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

// TestJournalFileGonePausesItsCampaignOnly: two campaigns run on one
// worker; the journal directory of one of them is deleted (a clean-up
// that picked the wrong directory). That campaign's delivery record is
// gone, so it is paused; the other's file is whole and on the same disk,
// and it sends on to the end: a failure of one campaign's file is not the
// disk's. Before, the worker's journal kept one error for every file, and
// paused the other campaign too, at its next window.
func TestJournalFileGonePausesItsCampaignOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const n = 300
	e.stage(t, opts{name: "gone-one", n: n, size: n, rate: "30/s"})
	e.stage(t, opts{name: "whole-one", n: n, size: n, rate: "30/s"})
	dir := t.TempDir()
	e.startWorker(t, wopts{journal: dir})
	wait.For(t, 60*time.Second, "both campaigns to send", func() bool {
		return len(e.receivedOf("gone-one")) >= 10 && len(e.receivedOf("whole-one")) >= 10
	})
	if err := os.RemoveAll(filepath.Join(dir, "gone-one")); err != nil {
		t.Fatal(err)
	}
	stateOf := func(c string) *store.Status {
		st, err := e.st.Status(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	wait.For(t, 60*time.Second, "the campaign whose journal went to pause", func() bool {
		s := stateOf("gone-one").State
		return s == store.StatePaused || s == store.StateDone
	})
	if st := stateOf("gone-one"); st.State != store.StatePaused || st.Action != "journal" || !strings.Contains(st.Reason, "was deleted") {
		t.Fatalf("gone-one %s (action %q, reason %q) after its journal directory was deleted; want paused by the journal", st.State, st.Action, st.Reason)
	}
	wait.For(t, 120*time.Second, "the other campaign to finish (or pause)", func() bool {
		s := stateOf("whole-one").State
		return s == store.StatePaused || s == store.StateDone
	})
	st := stateOf("whole-one")
	if st.State != store.StateDone {
		t.Fatalf("whole-one %s (action %q, reason %q) after another campaign's journal directory was deleted; want it sent to the end: its own journal file is whole", st.State, st.Action, st.Reason)
	}
	if got := len(e.receivedOf("whole-one")); got != n {
		t.Errorf("whole-one: %d recipients received it, want %d", got, n)
	}
	// Its journal holds every delivery: nothing was sent without its line.
	files, err := filepath.Glob(filepath.Join(dir, "whole-one", "*.jsonl"))
	if err != nil || len(files) != 1 {
		t.Fatalf("whole-one's journal files: %v (%v), want one", files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), `"outcome":"sent"`); got != n {
		t.Errorf("whole-one's journal holds %d sent lines, want %d", got, n)
	}
}
