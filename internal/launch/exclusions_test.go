package launch_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestLoadDeliveredNeedsTheExclusionsOfAMarkedRun: the journals of a run
// staged by a recovery from a report (its id ends in
// store.RunExcludedMark) do not hold the deliveries that report recorded,
// so reading them without the recovery's exclusions file (or a report) is
// refused, naming the run and the file to add; with that file, or
// LoadDeliveredFor finding it beside the record in the state dir, they are
// read, and the file's recipients are excluded too, counted as Earlier.
func TestLoadDeliveredNeedsTheExclusionsOfAMarkedRun(t *testing.T) {
	t.Parallel()
	run := "tphr6c-a72901c25304e4c0" + store.RunExcludedMark
	journals := filepath.Join(t.TempDir(), "journal")
	journaltest.Write(t, journals, "w1", journal.Entry{At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Campaign: "alpha", Run: run, ID: "c", Email: "c@example.org", Outcome: "sent"})
	state := t.TempDir()
	exclusions := launch.ExclusionsPath(state, "alpha")
	fixture.Write(t, exclusions, "id,email,outcome,code,response,campaign,run\n"+
		"a,a@example.org,skipped,already-delivered,sent according to before.csv,alpha,"+run+"\n"+
		"b,b@example.org,skipped,already-delivered,in-doubt according to before.csv,alpha,"+run+"\n")

	_, err := launch.LoadDelivered("alpha", []string{journals})
	var me *launch.ExclusionsMissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), run) || !strings.Contains(err.Error(), "alpha.excluded.csv") {
		t.Errorf("LoadDelivered(journals of %s) = %v; want it refused, naming the run and alpha.excluded.csv", run, err)
	}
	if _, err := launch.LoadDeliveredFor(t.TempDir(), "alpha", []string{journals}); !errors.As(err, &me) {
		t.Errorf("LoadDeliveredFor from another machine's state dir: %v; want *ExclusionsMissingError", err)
	}
	for _, tt := range []struct {
		name  string
		load  func() (*launch.Delivered, error)
		early int
	}{
		{"the file given", func() (*launch.Delivered, error) {
			return launch.LoadDelivered("alpha", []string{journals, exclusions})
		}, 0},
		{"the file found beside the record", func() (*launch.Delivered, error) { return launch.LoadDeliveredFor(state, "alpha", []string{journals}) }, 2},
		{"the file found and given", func() (*launch.Delivered, error) {
			return launch.LoadDeliveredFor(state, "alpha", []string{journals, exclusions})
		}, 0},
	} {
		d, err := tt.load()
		if err != nil || d.Sent != 2 || d.InDoubt != 1 || d.Earlier != tt.early {
			t.Errorf("%s: %+v, %v; want a and c sent, b in doubt, %d earlier", tt.name, d, err, tt.early)
			continue
		}
		for _, id := range []string{"a", "b", "c"} {
			if _, ok := d.Match(id, id+"@example.org"); !ok {
				t.Errorf("%s: %s not excluded", tt.name, id)
			}
		}
	}
}

// TestRecoveryKeepsItsExclusionsBesideTheRecord: a recovery from a report
// (ada sent) writes the rows it skips beside the record, which names the
// file and what the recovery read, and stages a run whose id says that it
// excluded deliveries no journal records; a re-staging without exclusions
// (--resume-existing) keeps the record naming them; a second recovery (zoe
// from a second report) adds to the file, keeping ada.
func TestRecoveryKeepsItsExclusionsBesideTheRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, _ := started(t)
	if err := r.Wipe(ctx); err != nil { // Redis lost the campaign
		t.Fatal(err)
	}
	p := planExcluding(t, "line,id,email,outcome\n2,ada@x.example,ada@x.example,sent\n")
	res, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir})
	if err != nil {
		t.Fatal(err)
	}
	file := launch.ExclusionsPath(state, "launch-test")
	check := func(when string, want ...string) {
		t.Helper()
		rec, err := launch.ReadRecord(state, "launch-test")
		if err != nil || rec == nil || rec.Excluded != file || len(rec.ExcludedFrom) == 0 {
			t.Errorf("%s: record %+v, %v; want it to name %s and what the recovery read", when, rec, err, file)
		}
		d, err := launch.LoadDelivered("launch-test", []string{file})
		if err != nil || d.Len() != len(want) {
			t.Fatalf("%s: %s read as %+v, %v; want %v", when, file, d, err, want)
		}
		for _, email := range want {
			if _, ok := d.Match(email, email); !ok {
				t.Errorf("%s: %s does not list %s", when, file, email)
			}
		}
	}
	check("after the recovery", "ada@x.example")
	if !strings.HasSuffix(res.Run, store.RunExcludedMark) {
		t.Errorf("run %s of a recovery from a report: want it to end in %s", res.Run, store.RunExcludedMark)
	}

	pauseForAFix(t, st)
	p2, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir, ResumeExisting: true}); err != nil {
		t.Fatal(err)
	}
	check("after a re-staging", "ada@x.example")

	if err := r.Wipe(ctx); err != nil { // lost again
		t.Fatal(err)
	}
	p3 := planExcluding(t, "line,id,email,outcome\n4,zoe@x.example,zoe@x.example,sent\n")
	if _, err := p3.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir}); err != nil {
		t.Fatal(err)
	}
	check("after a second recovery", "ada@x.example", "zoe@x.example")
}
