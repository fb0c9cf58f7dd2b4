package worker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestJournalFailurePauses: a worker that cannot write its delivery journal
// pauses the campaign, saying why, instead of sending on with nothing
// outside Redis recording who was sent.
func TestJournalFailurePauses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.stage(t, opts{n: 400, size: 400, rate: "100/s"})
	dir := t.TempDir()
	// The campaign's journal directory cannot be created: a file is there.
	if err := os.WriteFile(filepath.Join(dir, e.name), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.startWorker(t, wopts{journal: dir})
	var st *store.Status
	wait.For(t, 30*time.Second, "the campaign to pause", func() bool {
		s, err := e.st.Status(context.Background(), e.name)
		st = s
		return err == nil && s.State == store.StatePaused
	})
	if !strings.Contains(st.Reason, "cannot write its delivery journal") {
		t.Errorf("paused with reason %q, want the journal failure", st.Reason)
	}
	// Messages other connections had in flight land (the worker keeps
	// running: it must remember its journal is broken): once no claim is
	// left, every message a claim let out has reached the server, and the
	// pause lets no other claim be made. (A two-second sleep stood for
	// that, and on a loaded machine a late message could land after it.)
	noClaims := func() bool { return e.claimed(t) == 0 }
	wait.For(t, 30*time.Second, "the claims made before the pause to end", noClaims)
	n := e.smtp.Count()
	t.Logf("%d messages sent before the pause took effect", n)
	if n != 0 {
		t.Errorf("%d messages sent, want none: a window's claims are journaled before any of it is sent", n)
	}
	// Claims its journal never took are given back, not left in doubt:
	// they are sent once the journal is fixed.
	if s, err := e.st.Status(context.Background(), e.name); err != nil || s.Counts[store.OutcomeInDoubt] != 0 {
		t.Errorf("after a journal that took no line: %v in doubt (%v), want none", s.Counts, err)
	}
	// Resumed without fixing and restarting the worker: it claims nobody.
	if _, err := e.st.Resume(context.Background(), e.name, store.Actor{Who: "tester"}, ""); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "the campaign to pause again", func() bool {
		s, err := e.st.Status(context.Background(), e.name)
		return err == nil && s.State == store.StatePaused
	})
	wait.For(t, 30*time.Second, "the claims made after the resume to end", noClaims)
	if got := e.smtp.Count(); got != n {
		t.Errorf("%d messages sent after a resume with the journal still broken, want none", got-n)
	}
}

// TestJournalFailureMetric: a worker that pauses a campaign because it
// cannot write its delivery journal says so on /metrics
// (tidings_journal_broken{campaign} 1, which TidingsJournalBroken pages
// on), for that campaign alone.
func TestJournalFailureMetric(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.stage(t, opts{n: 40, size: 40, rate: "100/s"})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, e.name), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	e.startWorker(t, wopts{journal: dir, metrics: reg})
	wait.For(t, 30*time.Second, "the campaign to pause", func() bool {
		s, err := e.st.Status(context.Background(), e.name)
		return err == nil && s.State == store.StatePaused
	})
	got := seriesBy(t, reg, "tidings_journal_broken", "campaign")
	if len(got) != 1 || got[e.name] != 1 {
		t.Errorf("tidings_journal_broken = %v, want {%s: 1}", got, e.name)
	}
}

// seriesBy returns the values of reg's counter or gauge name by the
// value of each series' label ("" when it has none).
func seriesBy(t *testing.T, reg *prometheus.Registry, name, label string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			key := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					key = l.GetValue()
				}
			}
			out[key] += v
		}
	}
	return out
}
