package launch_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestARunRecoveredFromAReportContinuesTheRunsItStandsFor: a recovery
// from a full report alone (no journal) excludes what the report lists:
// written from Redis in marked run M, that is what M's recovery excluded
// (zoe, whom only a report recorded), so the new run continues M, and a
// full report written in the new run stands for M. Before, a run
// continued only the runs of the journal files its recovery read
// (store.Meta.ContinuedRuns), so a later recovery from the journals and
// that report was refused for M although the report lists zoe: on-call
// was blocked. Written before M, the report does not list zoe: the new
// run continues the run the report was written in, not M, and the later
// recovery is still refused (zoe would be mailed twice). Staging the new
// run again (--resume-existing) keeps what it continues.
func TestARunRecoveredFromAReportContinuesTheRunsItStandsFor(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		inMarked bool // the report the second recovery reads was written in M, or before it
	}{
		{"from a report written in the marked run", true},
		{"from a report written before the marked run", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r, st, _, jdir, first := started(t)
			dir := t.TempDir()
			early := fromRedis(t, st, filepath.Join(dir, "early.csv"), report.FormatCSV)
			journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
			if err := r.Wipe(ctx); err != nil { // the first loss
				t.Fatal(err)
			}
			zoe := filepath.Join(dir, "zoe.csv")
			if err := os.WriteFile(zoe, []byte("line,id,email,outcome\n4,zoe@x.example,zoe@x.example,sent\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := launch.LoadDelivered("launch-test", []string{jdir, zoe})
			if err != nil {
				t.Fatal(err)
			}
			_, m := stageRecovery(t, st, t.TempDir(), jdir, d)
			if !strings.HasSuffix(m.Run, store.RunExcludedMark) {
				t.Fatalf("first recovery's run %s: want it marked", m.Run)
			}
			rep := early
			if tt.inMarked {
				rep = fromRedis(t, st, filepath.Join(dir, "in-marked.csv"), report.FormatCSV)
			}
			if err := r.Wipe(ctx); err != nil { // the second loss
				t.Fatal(err)
			}
			if d, err = launch.LoadDelivered("launch-test", []string{rep}); err != nil {
				t.Fatal(err)
			}
			stateB := t.TempDir() // another machine, from the report alone
			_, n := stageRecovery(t, st, stateB, jdir, d)
			// Staged again (--resume-existing, the same run): it still
			// continues what it did.
			for _, again := range []bool{false, true} {
				if again {
					pauseForAFix(t, st)
					p, err := launch.Plan(ctx, input(t, nil))
					if err != nil {
						t.Fatal(err)
					}
					if _, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: stateB, JournalDir: jdir, ResumeExisting: true}); err != nil {
						t.Fatalf("run %s staged again: %v", n.Run, err)
					}
				}
				meta, err := st.Meta(ctx, "launch-test", false)
				if err != nil {
					t.Fatal(err)
				}
				if got := slices.Contains(meta.ContinuedRuns(), m.Run); got != tt.inMarked || meta.Run != n.Run {
					t.Errorf("second recovery's run %s (staged again: %v) is %s, continues %v: continues M (%s) %v, want %v", n.Run, again, meta.Run, meta.ContinuedRuns(), m.Run, got, tt.inMarked)
				}
			}
			later := fromRedis(t, st, filepath.Join(dir, "in-second.csv"), report.FormatCSV)
			if err := r.Wipe(ctx); err != nil { // the third loss
				t.Fatal(err)
			}
			d, err = launch.LoadDelivered("launch-test", []string{jdir, later})
			var me *launch.ExclusionsMissingError
			switch {
			case tt.inMarked && err != nil:
				t.Errorf("recovery from the journals and the report of run %s: %v; want them read (the report lists zoe)", n.Run, err)
			case tt.inMarked:
				for _, who := range []string{"ada", "zoe"} {
					if _, ok := d.Match(who+"@x.example", who+"@x.example"); !ok {
						t.Errorf("%s is not excluded", who)
					}
				}
			case !errors.As(err, &me) || !slices.Contains(me.Runs, m.Run):
				_, zoeOut := d.Match("zoe@x.example", "zoe@x.example")
				t.Errorf("recovery from the journals and the report of run %s: %v (zoe excluded: %v); want *launch.ExclusionsMissingError naming run %s", n.Run, err, zoeOut, m.Run)
			}
		})
	}
}

// fromRedis writes the full report of the test campaign, as Redis has it
// now, to path in format (report.FormatCSV or FormatJSON).
func fromRedis(t *testing.T, st *store.Store, path, format string) string {
	t.Helper()
	if err := report.WriteFile(t.Context(), path, func(w io.Writer) error {
		return report.Write(context.Background(), st, "launch-test", w, report.Options{Format: format})
	}); err != nil {
		t.Fatal(err)
	}
	return path
}
