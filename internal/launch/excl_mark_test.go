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
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRunMarkedOnlyWhenAReportAloneExcludedSomeone: a recovery from the
// journals and a report marks its run (store.RunExcludedMark: a later
// recovery from journals alone is refused) only when it skipped someone on
// the strength of the report alone. A report that records no more than the
// journals (ada in both), or no delivery at all, leaves the run unmarked:
// marked, a later recovery from the journals, which hold every recipient
// it excluded, would be refused for nothing.
func TestRunMarkedOnlyWhenAReportAloneExcludedSomeone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, report string
		marked       bool
	}{
		{"the report records what the journals do", "line,id,email,outcome\n2,ada@x.example,ada@x.example,sent\n", false},
		{"the report records no delivery", "line,id,email,outcome\n3,bob@x.example,bob@x.example,failed\n", false},
		{"the report records one the journals do not", "line,id,email,outcome\n2,ada@x.example,ada@x.example,sent\n4,zoe@x.example,zoe@x.example,sent\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r, st, state, jdir, first := started(t)
			journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
			if err := r.Wipe(ctx); err != nil { // Redis lost the campaign
				t.Fatal(err)
			}
			rep := filepath.Join(t.TempDir(), "report.csv")
			if err := os.WriteFile(rep, []byte(tt.report), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := launch.LoadDelivered("launch-test", []string{jdir, rep})
			if err != nil {
				t.Fatal(err)
			}
			p, res := stageRecovery(t, st, state, jdir, d)
			if got := strings.HasSuffix(res.Run, store.RunExcludedMark); got != tt.marked {
				t.Errorf("run %s (skipped %d): marked %v, want %v", res.Run, p.Summary.Skipped, got, tt.marked)
			}
		})
	}
}

// stageRecovery plans the test campaign excluding d and stages it, with
// state and jdir as this machine's state and journal directories.
func stageRecovery(t *testing.T, st *store.Store, state, jdir string, d *launch.Delivered) (*launch.Planned, *launch.Result) {
	t.Helper()
	ctx := context.Background()
	p, err := launch.Plan(ctx, input(t, d))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir})
	if err != nil {
		t.Fatal(err)
	}
	return p, res
}

// recoveredFromAReport stages the test campaign, journals ada as sent in
// its first run, loses it, and recovers it from the journals and a report
// that records zoe (in no journal) as sent: the recovery's run is marked.
// It returns what started did and the recovery's run and plan.
func recoveredFromAReport(t *testing.T) (st *store.Store, state, jdir string, rd *redistest.Redis, run string, p *launch.Planned) {
	t.Helper()
	r, st, state, jdir, p := plannedFromAReport(t)
	res, err := p.Stage(context.Background(), st, launch.Options{Start: true, StateDir: state, JournalDir: jdir})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.Run, store.RunExcludedMark) {
		t.Fatalf("recovery run %s: want it marked", res.Run)
	}
	return st, state, jdir, r, res.Run, p
}

// plannedFromAReport is recoveredFromAReport up to the recovery's plan,
// not staged.
func plannedFromAReport(t *testing.T) (r *redistest.Redis, st *store.Store, state, jdir string, p *launch.Planned) {
	t.Helper()
	ctx := context.Background()
	r, st, state, jdir, first := started(t)
	journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(t.TempDir(), "before.csv")
	if err := os.WriteFile(rep, []byte("line,id,email,outcome\n4,zoe@x.example,zoe@x.example,sent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("launch-test", []string{jdir, rep})
	if err != nil {
		t.Fatal(err)
	}
	if p, err = launch.Plan(ctx, input(t, d)); err != nil {
		t.Fatal(err)
	}
	return r, st, state, jdir, p
}

// bobSentThenLost journals bob as sent in the test campaign's run, then
// Redis loses it (again).
func bobSentThenLost(t *testing.T, jdir string, rd *redistest.Redis, run string) {
	t.Helper()
	journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: run, ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	if err := rd.Wipe(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRestagingAMarkedRunElsewhereNeedsItsExclusions: a marked run staged
// again (--resume-existing) from a machine whose state directory lacks the
// recovery's exclusions file is refused (*launch.ExclusionsElsewhereError),
// naming the run, the file, who staged it and where to copy it: staged from
// there, the record would name no exclusions, and a later recovery there
// would miss the recipients only the report recorded. With the file
// copied there, it is staged, and the record names it.
func TestRestagingAMarkedRunElsewhereNeedsItsExclusions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, state, jdir, _, run, _ := recoveredFromAReport(t)
	pauseForAFix(t, st)
	other := t.TempDir() // machine B's state directory
	p, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	opts := launch.Options{Start: true, StateDir: other, JournalDir: jdir, ResumeExisting: true}
	res, err := p.Stage(ctx, st, opts)
	var ee *launch.ExclusionsElsewhereError
	here := launch.ExclusionsPath(other, "launch-test")
	if !errors.As(err, &ee) {
		t.Fatalf("re-staging run %s from a machine without its exclusions: %+v, %v; want *launch.ExclusionsElsewhereError", run, res, err)
	}
	for _, want := range []string{run, "launch-test.excluded.csv", "tester@box", here} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not name %s", err, want)
		}
	}
	// A file of another run's recovery copied there (no record) does not
	// list this run's exclusions.
	other2 := "id,email,outcome,code,response,campaign,run\nzoe@x.example,zoe@x.example,skipped,already-delivered,sent,launch-test,tpj7k9-0a1b2c3d00ab990e3ffccc18-excl\n"
	if err := os.MkdirAll(filepath.Dir(here), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(here, []byte(other2), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := p.Stage(ctx, st, opts); !errors.As(err, &ee) {
		t.Errorf("re-staging run %s with another run's exclusions copied: %+v, %v; want *launch.ExclusionsElsewhereError", run, res, err)
	}
	copyFile(t, launch.ExclusionsPath(state, "launch-test"), here)
	if res, err = p.Stage(ctx, st, opts); err != nil || res.Run != run {
		t.Fatalf("re-staging with the exclusions copied: %+v, %v; want run %s staged", res, err, run)
	}
	if rec, err := launch.ReadRecord(other, "launch-test"); err != nil || rec == nil || rec.Excluded != here {
		t.Errorf("record on the other machine: %+v, %v; want it to name %s", rec, err, here)
	}
}

// TestOnlyAFullReportOrTheExclusionsStandForAMarkedRun: after a second
// loss, the journals of a marked run lack the recipients its recovery
// excluded from a report (zoe). Only a file that lists them may lift the
// refusal: the recovery's exclusions file, or a full report written from
// Redis (CSV or JSON). A report written from the journals (CSV or JSON)
// holds no more than they do, and the rejects file of a send lists the
// rows it left out, not every delivery: given with the journals, the
// recovery is refused, naming the file.
func TestOnlyAFullReportOrTheExclusionsStandForAMarkedRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, state, jdir, rd, run, p := recoveredFromAReport(t)
	journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: run, ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	dir := t.TempDir()
	write := func(name string, fn func(w io.Writer) error) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := report.WriteFile(t.Context(), path, fn); err != nil {
			t.Fatal(err)
		}
		return path
	}
	redisReport := func(format string) func(io.Writer) error {
		return func(w io.Writer) error {
			return report.Write(ctx, st, "launch-test", w, report.Options{Format: format})
		}
	}
	journalReport := func(format string) func(io.Writer) error {
		return func(w io.Writer) error {
			j, err := report.ReadJournal(jdir, "launch-test")
			if err != nil {
				return err
			}
			return report.WriteJournal(j, w, report.Options{Format: format})
		}
	}
	rejects, err := p.Summary.WriteRejectsFile(t.Context(), filepath.Join(dir, "rejects.csv"))
	if err != nil || rejects == "" {
		t.Fatalf("rejects file: %q, %v", rejects, err)
	}
	tests := []struct {
		name, path string
		lifts      bool
	}{
		{"the exclusions file", launch.ExclusionsPath(state, "launch-test"), true},
		{"a CSV report from Redis", write("redis.csv", redisReport(report.FormatCSV)), true},
		{"a JSON report from Redis", write("redis.json", redisReport(report.FormatJSON)), true},
		{"a CSV report from the journals", write("journal.csv", journalReport(report.FormatCSV)), false},
		{"a JSON report from the journals", write("journal.json", journalReport(report.FormatJSON)), false},
		{"the rejects file of the recovery", rejects, false},
	}
	if err := rd.Wipe(ctx); err != nil { // the second loss
		t.Fatal(err)
	}
	for _, tt := range tests {
		wantStandsFor(t, tt.name, jdir, tt.path, tt.lifts, tt.path)
	}
}

// wantStandsFor checks a recovery of the test campaign from the journals
// in jdir and path after its marked run was lost: read, zoe (whom only the
// marked run's exclusions record) excluded, when lifts; else refused
// (*launch.ExclusionsMissingError), the refusal saying each of says and
// naming the exclusions file to give.
func wantStandsFor(t *testing.T, name, jdir, path string, lifts bool, says ...string) {
	t.Helper()
	d, err := launch.LoadDelivered("launch-test", []string{jdir, path})
	_, zoe := d.Match("zoe@x.example", "zoe@x.example")
	var me *launch.ExclusionsMissingError
	switch {
	case lifts && (err != nil || !zoe):
		t.Errorf("%s: %v (zoe excluded: %v); want the journals and it read, zoe excluded", name, err, zoe)
	case lifts:
	case !errors.As(err, &me):
		t.Errorf("%s: %v (zoe excluded: %v); want *launch.ExclusionsMissingError", name, err, zoe)
	default:
		for _, want := range append(says, "launch-test.excluded.csv") {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: refusal %q does not say %q", name, err, want)
			}
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRestagingAMarkedRunWhoseExclusionsAreLost: the machine that staged
// a marked run is gone with its exclusions file, and the run must be
// staged again from another (a template fix): the refusal must say how
// to get out without that file (before, it only said to copy it), and
// the way it names must work: a full report written from Redis now lists
// everyone the recovery excluded (zoe, skipped as delivered), so the
// staging goes on with her still excluded, and the record there names
// the exclusions it keeps.
func TestRestagingAMarkedRunWhoseExclusionsAreLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _, jdir, _, run, _ := recoveredFromAReport(t)
	pauseForAFix(t, st)
	other := t.TempDir() // machine B's state directory; machine A is gone
	opts := launch.Options{Start: true, StateDir: other, JournalDir: jdir, ResumeExisting: true}
	p, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Stage(ctx, st, opts)
	var ee *launch.ExclusionsElsewhereError
	if !errors.As(err, &ee) {
		t.Fatalf("re-staging run %s from a machine without its exclusions: %v; want *launch.ExclusionsElsewhereError", run, err)
	}
	if want := "if that file is lost (that machine is gone), stage again giving as deliveries to exclude a full report of launch-test written from Redis now"; !strings.Contains(err.Error(), want) {
		t.Fatalf("refusal %q gives no way out when the file is lost; want it to say %q", err, want)
	}
	full := filepath.Join(t.TempDir(), "full.csv")
	if err := report.WriteFile(t.Context(), full, func(w io.Writer) error {
		return report.Write(ctx, st, "launch-test", w, report.Options{Format: report.FormatCSV})
	}); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("launch-test", []string{jdir, full})
	if err != nil {
		t.Fatal(err)
	}
	if p, err = launch.Plan(ctx, input(t, d)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stage(ctx, st, opts); err != nil {
		t.Fatalf("re-staging with a full report from Redis, as the refusal says: %v", err)
	}
	if !slices.ContainsFunc(p.Summary.Rejects, func(r plan.Reject) bool {
		return r.ID == "zoe@x.example" && r.Code == plan.CodeAlreadyDelivered
	}) {
		t.Errorf("zoe, whom the first recovery excluded from a report, is not skipped as delivered: %+v", p.Summary.Rejects)
	}
	if rec, err := launch.ReadRecord(other, "launch-test"); err != nil || rec == nil || rec.Excluded != launch.ExclusionsPath(other, "launch-test") {
		t.Errorf("record on machine B: %+v, %v; want it to name its exclusions", rec, err)
	}
}

// TestAJournalReportOfAMarkedRunNeedsItsExclusions: after a second loss,
// a report written from the journals (report --journal, CSV or JSON) of a
// marked run, given instead of the journals themselves, holds no more than
// they do: zoe, whom the first recovery excluded on the strength of a
// report alone, is in neither. Read alone it must be refused as the
// journals are (*launch.ExclusionsMissingError), not read as the whole
// truth (before, only journal files were checked for the mark, and zoe
// was mailed again).
func TestAJournalReportOfAMarkedRunNeedsItsExclusions(t *testing.T) {
	t.Parallel()
	_, _, jdir, rd, run, _ := recoveredFromAReport(t)
	bobSentThenLost(t, jdir, rd, run)
	j, err := report.ReadJournal(jdir, "launch-test")
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{report.FormatCSV, report.FormatJSON} {
		path := filepath.Join(t.TempDir(), "journal."+format)
		if err := report.WriteFile(t.Context(), path, func(w io.Writer) error { return report.WriteJournal(j, w, report.Options{Format: format}) }); err != nil {
			t.Fatal(err)
		}
		d, err := launch.LoadDelivered("launch-test", []string{path})
		var me *launch.ExclusionsMissingError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), run) {
			t.Errorf("%s report from the journals of marked run %s, alone: %+v, %v; want *launch.ExclusionsMissingError naming the run", format, run, d, err)
		}
	}
}

// TestAJournalReportOfAMarkedRunNobodyClaimedInNeedsItsExclusions: Redis
// lost a marked run again before any worker claimed in it; the journals
// hold only the empty file its recovery left. A JSON report written from
// them (report --journal --format json), given alone in place of the
// journals, must carry the run in its runs as they do, and be refused
// alike (before, its runs named only those of entries, the run was not
// seen, and zoe, whom only the marked run's exclusions record, was mailed
// again). (A CSV one names runs in its rows only: it cannot.)
func TestAJournalReportOfAMarkedRunNobodyClaimedInNeedsItsExclusions(t *testing.T) {
	t.Parallel()
	_, _, jdir, rd, run, _ := recoveredFromAReport(t)
	if err := rd.Wipe(context.Background()); err != nil { // the second loss
		t.Fatal(err)
	}
	j, err := report.ReadJournal(jdir, "launch-test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "journal.json")
	if err := report.WriteFile(t.Context(), path, func(w io.Writer) error { return report.WriteJournal(j, w, report.Options{Format: report.FormatJSON}) }); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("launch-test", []string{path})
	var me *launch.ExclusionsMissingError
	if !errors.As(err, &me) || !slices.Contains(me.Runs, run) {
		_, zoe := d.Match("zoe@x.example", "zoe@x.example")
		t.Errorf("JSON report from the journals of marked run %s, alone: %v (zoe excluded: %v); want *launch.ExclusionsMissingError naming the run", run, err, zoe)
	}
}

// TestThisMachinesExclusionsStandOnlyForTheRunsStagedHere: machine B made
// the first recovery (zoe excluded from a report: run 2 marked), machine A
// the second (eve excluded from another report: run 3 marked). After a
// third loss, a recovery on B from the journals reads B's exclusions by
// itself; they list zoe, not eve, whom no journal records. They must not
// stand for run 3 (before, any exclusions file lifted the refusal, and eve
// was mailed again): refused, naming run 3; with A's exclusions given, eve
// is excluded. Nor may they let run 3 be staged again from B.
func TestThisMachinesExclusionsStandOnlyForTheRunsStagedHere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, stateB, jdir, first := started(t)
	stateA := t.TempDir()
	recover := func(state string, run string, paths ...string) string {
		t.Helper()
		d, err := launch.LoadDeliveredFor(state, "launch-test", paths)
		if err != nil {
			t.Fatal(err)
		}
		_, res := stageRecovery(t, st, state, jdir, d)
		if !strings.HasSuffix(res.Run, store.RunExcludedMark) {
			t.Fatalf("recovery %s: run %s not marked", run, res.Run)
		}
		return res.Run
	}
	reportOf := func(email string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "before.csv")
		if err := os.WriteFile(path, []byte("line,id,email,outcome\n4,"+email+","+email+",sent\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sent := func(run, email string) {
		t.Helper()
		journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: run, ID: email, Email: email, Outcome: "sent"})
	}
	sent(first.Run, "ada@x.example")
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	run2 := recover(stateB, "on B", jdir, reportOf("zoe@x.example"))
	sent(run2, "bob@x.example")
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	run3 := recover(stateA, "on A", jdir, launch.ExclusionsPath(stateB, "launch-test"), reportOf("eve@x.example"))
	sent(run3, "uli@x.example")
	// Run 3 staged again from B (a template fix): B's exclusions are not
	// run 3's, so B's record would name a file without eve.
	pauseForAFix(t, st)
	p, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	// The operator on B must learn what B's file lists, what is missing,
	// where it is, and to copy it beside B's file, never over it.
	var ee *launch.ExclusionsElsewhereError
	hereB := launch.ExclusionsPath(stateB, "launch-test")
	_, err = p.Stage(ctx, st, launch.Options{Start: true, StateDir: stateB, JournalDir: jdir, ResumeExisting: true})
	if !errors.As(err, &ee) {
		t.Errorf("run %s staged again from B, whose exclusions are run %s's: %v; want *launch.ExclusionsElsewhereError saying what to give", run3, run2, err)
	}
	for _, want := range []string{
		"this machine's " + hereB + " lists the exclusions of the recoveries of run(s) " + run2 + " only (made here, or copied here), not those of run " + run3,
		"copy launch-test.excluded.csv of the machine that staged run " + run3 + " to this machine under another name, say " + filepath.Join(filepath.Dir(hereB), "launch-test.excluded."+run3+".csv"),
		"never over " + hereB, "then stage again giving that copy and the delivery journals of every worker host as deliveries to exclude", "last staged by tester@box",
	} {
		if err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if err := r.Wipe(ctx); err != nil { // the third loss
		t.Fatal(err)
	}
	d, err := launch.LoadDeliveredFor(stateB, "launch-test", []string{jdir})
	var me *launch.ExclusionsMissingError
	if !errors.As(err, &me) || !slices.Equal(me.Runs, []string{run3}) {
		_, eve := d.Match("eve@x.example", "eve@x.example")
		t.Fatalf("recovery on B from the journals (B's exclusions read by themselves, of run %s only): %v (eve excluded: %v); want *launch.ExclusionsMissingError naming run %s only", run2, err, eve, run3)
	}
	// With A's exclusions given, everyone delivered is excluded; staged,
	// B's exclusions then list run 3's too, and stand for it by themselves
	// after a fourth loss.
	d, err = launch.LoadDeliveredFor(stateB, "launch-test", []string{jdir, launch.ExclusionsPath(stateA, "launch-test")})
	if err != nil {
		t.Fatalf("with A's exclusions given: %v", err)
	}
	stageRecovery(t, st, stateB, jdir, d)
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err = launch.LoadDeliveredFor(stateB, "launch-test", []string{jdir}); err != nil {
		t.Fatalf("recovery on B from the journals after B's recovery read A's exclusions: %v", err)
	}
	for _, who := range []string{"ada", "zoe", "bob", "eve", "uli"} {
		if _, ok := d.Match(who+"@x.example", who+"@x.example"); !ok {
			t.Errorf("B's exclusions, having read A's: %s is not excluded", who)
		}
	}
}

// TestAFullReportWrittenBeforeAMarkedRunDoesNotStandForIt: a full report
// written from Redis before a recovery staged a marked run lacks what that
// recovery excluded on the strength of another report (zoe, delivered by a
// worker whose journal is lost, after the stale report was written). Given
// with the journals after a second loss, it must not lift the refusal
// (before, any full report from Redis did, and zoe was mailed again): the
// refusal names the file (a CSV, with the line of its run) and the run, and
// says what to give instead. A full report written from Redis in the marked
// run lists zoe as skipped and stands for it; so it does to stage that run
// again (--resume-existing) from a machine without the exclusions, where a
// stale one is refused alike.
func TestAFullReportWrittenBeforeAMarkedRunDoesNotStandForIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, _, jdir, first := started(t)
	dir := t.TempDir()
	// Run 1: full reports saved early; then ada is sent (journaled) and zoe
	// (by a worker whose journal is lost; a later report records her).
	staleCSV, staleJSON := fromRedis(t, st, filepath.Join(dir, "early.csv"), report.FormatCSV), fromRedis(t, st, filepath.Join(dir, "early.json"), report.FormatJSON)
	journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
	if err := r.Wipe(ctx); err != nil { // the first loss
		t.Fatal(err)
	}
	later := filepath.Join(dir, "later.csv")
	if err := os.WriteFile(later, []byte("line,id,email,outcome\n4,zoe@x.example,zoe@x.example,sent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("launch-test", []string{jdir, later})
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir() // machine A, which makes the recovery
	_, res := stageRecovery(t, st, state, jdir, d)
	marked := res.Run
	if !strings.HasSuffix(marked, store.RunExcludedMark) {
		t.Fatalf("recovery run %s: want it marked", marked)
	}
	journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: marked, ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	freshCSV, freshJSON := fromRedis(t, st, filepath.Join(dir, "fresh.csv"), report.FormatCSV), fromRedis(t, st, filepath.Join(dir, "fresh.json"), report.FormatJSON)

	// The marked run staged again from machine B, without A's exclusions.
	pauseForAFix(t, st)
	other := t.TempDir()
	for _, tt := range []struct {
		name, path string
		lifts      bool
	}{
		{"a CSV report written before the run", staleCSV, false},
		{"a JSON report written before the run", staleJSON, false},
		{"a CSV report written in the run", freshCSV, true},
	} {
		d, err := launch.LoadDelivered("launch-test", []string{tt.path})
		if err != nil {
			t.Fatalf("re-staging from B, %s: %v", tt.name, err)
		}
		p, err := launch.Plan(ctx, input(t, d))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Stage(ctx, st, launch.Options{Start: false, StateDir: other, JournalDir: t.TempDir(), ResumeExisting: true}) // B's own journal
		var ee *launch.ExclusionsElsewhereError
		switch {
		case tt.lifts && err != nil:
			t.Errorf("run %s staged again from B with %s: %v; want it staged", marked, tt.name, err)
		case !tt.lifts && (!errors.As(err, &ee) || !strings.Contains(err.Error(), tt.path)):
			t.Errorf("run %s staged again from B with %s: %v; want *launch.ExclusionsElsewhereError naming %s", marked, tt.name, err, tt.path)
		}
	}

	if err := r.Wipe(ctx); err != nil { // the second loss
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path, names string // names: where the refusal says the run is
		lifts             bool
	}{
		{"a CSV report written before the run", staleCSV, staleCSV + ":2", false},
		{"a JSON report written before the run", staleJSON, staleJSON, false},
		{"a CSV report written in the run", freshCSV, "", true},
		{"a JSON report written in the run", freshJSON, "", true},
	} {
		wantStandsFor(t, tt.name, jdir, tt.path, tt.lifts, tt.names, marked, "written from Redis in run "+first.Run)
	}
}

// TestAMarkedRunNobodyClaimedInIsSeenAfterASecondLoss: Redis lost the
// campaign again before any worker picked up a chunk of the run a recovery
// marked (its workers were still stopped for the recovery, say), so no
// worker's journal holds a file of that run. A second recovery from the
// journals alone must still see it and refuse, naming it and the
// exclusions to give (before, it saw only the first run's journals and
// excluded ada, not zoe, whom only a report recorded: zoe was mailed
// again). The recovery that staged it leaves an empty journal file of
// the run in its own journal directory. On the machine that staged it,
// its exclusions are read by themselves; given on another machine, they
// stand for it too.
func TestAMarkedRunNobodyClaimedInIsSeenAfterASecondLoss(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, stateA, jdir, rd, run, _ := recoveredFromAReport(t)
	if err := rd.Wipe(ctx); err != nil { // the second loss, before any worker ran
		t.Fatal(err)
	}
	_, err := launch.LoadDeliveredFor(t.TempDir(), "launch-test", []string{jdir}) // machine B
	var me *launch.ExclusionsMissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), run) || !strings.Contains(err.Error(), "launch-test.excluded.csv") {
		t.Errorf("recovery on another machine from the journals alone: %v; want *launch.ExclusionsMissingError naming run %s and launch-test.excluded.csv", err, run)
	}
	for _, tt := range []struct {
		name  string
		state string
		paths []string
	}{
		{"on the machine that staged it", stateA, []string{jdir}},
		{"on another, given its exclusions", t.TempDir(), []string{jdir, launch.ExclusionsPath(stateA, "launch-test")}},
	} {
		d, err := launch.LoadDeliveredFor(tt.state, "launch-test", tt.paths)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		for _, who := range []string{"ada", "zoe"} {
			if _, ok := d.Match(who+"@x.example", who+"@x.example"); !ok {
				t.Errorf("%s: %s is not excluded", tt.name, who)
			}
		}
	}
}

// TestAReportWrittenInALaterRunStandsForAMarkedRun: a full report written
// from Redis in a run whose staging continued a marked one (here a second
// recovery, made on the machine that holds the first one's exclusions,
// which excluded them again) stands for the marked run: the report says
// so (its continues column or field names the marked run, whose journal
// file the second recovery read), whatever the two ids say of the order
// (before, the ids were compared, and they come from the stagings'
// clocks: TestRunOrderIsNotTakenFromClocks).
func TestAReportWrittenInALaterRunStandsForAMarkedRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, state, jdir, r, first, _ := recoveredFromAReport(t)
	bobSentThenLost(t, jdir, r, first)
	d, err := launch.LoadDeliveredFor(state, "launch-test", []string{jdir}) // this machine's exclusions, read by themselves
	if err != nil {
		t.Fatal(err)
	}
	_, res := stageRecovery(t, st, state, jdir, d)
	if res.Run == first || !strings.HasSuffix(res.Run, store.RunExcludedMark) {
		t.Fatalf("second recovery's run %s (first %s): want a new marked run", res.Run, first)
	}
	dir := t.TempDir()
	var reports []string
	for _, format := range []string{report.FormatCSV, report.FormatJSON} {
		reports = append(reports, fromRedis(t, st, filepath.Join(dir, "in-second."+format), format))
	}
	if err := r.Wipe(ctx); err != nil { // the third loss
		t.Fatal(err)
	}
	for _, path := range reports {
		wantStandsFor(t, "a report written in run "+res.Run+" for run "+first, jdir, path, true)
	}
}

// TestRunOrderIsNotTakenFromClocks: a full report written from Redis in
// another run than a marked one stands for it only when its run's
// staging continued the marked run (it read its journal files: the
// report's continues column or field names it), never by the order of
// the two ids, which come from the clocks of the machines that staged
// them. With a machine's clock an hour ahead, a report written in a run
// staged before the marked one has an id that says after it: taken by
// the ids, it stood for the marked run and zoe, whom only that run's
// exclusions record, was mailed again. With a clock behind, a report of
// a run that did continue the marked one was refused as written before
// it. A report that does not say which runs its run continued (written
// before it did) stands for its own run only.
func TestRunOrderIsNotTakenFromClocks(t *testing.T) {
	t.Parallel()
	const marked = "tpj9c0-0f0000000123456789abcdef-excl"
	const head = "line,id,email,locale,lang,outcome,code,response,at,attempts,batch,campaign,run"
	tests := []struct {
		name, head, written, continues string
		lifts                          bool
		says                           string
	}{
		{"written in a run staged before it on a machine whose clock ran ahead", head + ",continues", "tpjan0-0f000000fedcba9876543210", "", false,
			"is a report written from Redis in run tpjan0-0f000000fedcba9876543210, whose staging did not continue run " + marked},
		{"written in a run that continued it, staged on a machine whose clock is behind", head + ",continues", "tpj8c0-0f000000fedcba9876543210", marked, true, ""},
		{"written in the marked run itself", head + ",continues", marked, "", true, ""},
		{"written by a version that did not say which runs its run continued", head, "tpjan0-0f000000fedcba9876543210", "", false,
			"by a version of tidings that did not say which runs its run continued"},
	}
	for _, tt := range tests {
		jdir, dir := t.TempDir(), t.TempDir()
		journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: marked, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
		path := filepath.Join(dir, "report.csv")
		// What the report records: zoe when its run's staging excluded
		// her again, else bob only (written before her exclusion).
		row := "5,bob@x.example,bob@x.example,en,en,sent,250 ok,,2026-12-04T18:00:00Z,1,1,launch-test," + tt.written
		if tt.lifts {
			row = "4,zoe@x.example,zoe@x.example,fr,fr,skipped,already-delivered,sent according to before.csv,,0,1,launch-test," + tt.written
		}
		if strings.HasSuffix(tt.head, ",continues") {
			row += "," + tt.continues
		}
		if err := os.WriteFile(path, []byte(tt.head+"\n"+row+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := launch.LoadDelivered("launch-test", []string{jdir, path})
		var me *launch.ExclusionsMissingError
		switch {
		case tt.lifts && err != nil:
			t.Errorf("%s: %v; want the journals and the report read", tt.name, err)
		case tt.lifts:
			if _, ok := d.Match("zoe@x.example", "zoe@x.example"); !ok {
				t.Errorf("%s: zoe, whom the report records, is not excluded", tt.name)
			}
		case !errors.As(err, &me) || !strings.Contains(err.Error(), path+":2") || !strings.Contains(err.Error(), tt.says):
			_, zoe := d.Match("zoe@x.example", "zoe@x.example")
			t.Errorf("%s: %v (zoe excluded: %v); want *launch.ExclusionsMissingError naming %s:2 and saying %q", tt.name, err, zoe, path, tt.says)
		}
	}
}

// TestThisMachinesExclusionsNamedStandOnlyForTheRunsStagedHere: this
// machine's exclusions file stands for the marked runs staged here only,
// whether the recovery reads it by itself or it is named among the
// deliveries to exclude (as the state-loss message says to on another
// machine). Here machine A made the first recovery (zoe, from a report),
// machine B the second (eve, from another report); after a third loss, a
// recovery on A from the journals and A's file, named, must be refused
// for B's run, as it is when A reads its file by itself (before, naming
// it skipped the check, and eve was mailed again).
func TestThisMachinesExclusionsNamedStandOnlyForTheRunsStagedHere(t *testing.T) {
	t.Parallel()
	_, stateA, _, jdir, _, res := recoveredOnAThenB(t)
	fileA := launch.ExclusionsPath(stateA, "launch-test")
	for _, tt := range []struct {
		name  string
		paths []string
	}{
		{"read by itself", []string{jdir}},
		{"named", []string{jdir, fileA}},
	} {
		d, err := launch.LoadDeliveredFor(stateA, "launch-test", tt.paths)
		var me *launch.ExclusionsMissingError
		if !errors.As(err, &me) || !slices.Contains(me.Runs, res.Run) {
			_, eveOut := d.Match("eve@x.example", "eve@x.example")
			t.Errorf("recovery on A, its exclusions %s: %v (eve excluded: %v); want *launch.ExclusionsMissingError naming B's run %s", tt.name, err, eveOut, res.Run)
		}
	}
}

// recoveredOnAThenB is recoveredFromAReport on machine A (run A, zoe from
// a report), bob sent in run A, a second loss, a recovery on machine B
// from the journals, A's file and a report of eve (run B, marked), and a
// third loss. It returns both machines' state directories and B's result.
func recoveredOnAThenB(t *testing.T) (st *store.Store, stateA, stateB, jdir, runA string, b *launch.Result) {
	t.Helper()
	st, stateA, jdir, rd, runA, _ := recoveredFromAReport(t)
	bobSentThenLost(t, jdir, rd, runA)
	eve := filepath.Join(t.TempDir(), "eve.csv")
	if err := os.WriteFile(eve, []byte("line,id,email,outcome\n7,eve@x.example,eve@x.example,sent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stateB = t.TempDir()
	d, err := launch.LoadDeliveredFor(stateB, "launch-test", []string{jdir, launch.ExclusionsPath(stateA, "launch-test"), eve})
	if err != nil {
		t.Fatal(err)
	}
	_, b = stageRecovery(t, st, stateB, jdir, d)
	if b.Run == runA || !strings.HasSuffix(b.Run, store.RunExcludedMark) {
		t.Fatalf("B's recovery run %s: want a new marked run", b.Run)
	}
	if err := rd.Wipe(context.Background()); err != nil { // the third loss
		t.Fatal(err)
	}
	return st, stateA, stateB, jdir, runA, b
}

// TestACopiedExclusionsFileStandsOnlyForTheRunsItNames: machine A's
// recovery marked run A (zoe, from a report); machine B's, reading A's
// file and a report of eve, marked run B. After a third loss, A's file
// given on a third machine C (named, or copied into C's state directory
// without a record) must not stand for run B: eve, whom only B's
// exclusions list, would be mailed again (before, an exclusions file
// stood for every marked run wherever it was read but on A). B's file
// names both runs and stands for them.
func TestACopiedExclusionsFileStandsOnlyForTheRunsItNames(t *testing.T) {
	t.Parallel()
	_, stateA, stateB, jdir, runA, res := recoveredOnAThenB(t)
	runB, fileA := res.Run, launch.ExclusionsPath(stateA, "launch-test")
	copied := t.TempDir()
	copyFile(t, fileA, launch.ExclusionsPath(copied, "launch-test"))
	for _, tt := range []struct {
		name, state string
		paths       []string
	}{
		{"A's file named on C", t.TempDir(), []string{jdir, fileA}},
		{"A's file named, read as files alone", "", []string{jdir, fileA}},
		{"A's file copied into C's state directory", copied, []string{jdir}},
	} {
		d, err := launch.LoadDeliveredFor(tt.state, "launch-test", tt.paths)
		var me *launch.ExclusionsMissingError
		if !errors.As(err, &me) || !slices.Equal(me.Runs, []string{runB}) || !strings.Contains(err.Error(), "lists the exclusions of the recoveries of run(s) "+runA+" only, not of run "+runB) {
			_, eveOut := d.Match("eve@x.example", "eve@x.example")
			t.Errorf("%s: %v (eve excluded: %v); want *launch.ExclusionsMissingError naming B's run %s only, saying A's file lists run %s's", tt.name, err, eveOut, runB, runA)
		}
	}
	d, err := launch.LoadDeliveredFor(t.TempDir(), "launch-test", []string{jdir, launch.ExclusionsPath(stateB, "launch-test")})
	if err != nil {
		t.Fatalf("B's file named on C: %v", err)
	}
	for _, who := range []string{"ada", "zoe", "bob", "eve"} {
		if _, ok := d.Match(who+"@x.example", who+"@x.example"); !ok {
			t.Errorf("B's file named on C: %s is not excluded", who)
		}
	}
}

// TestAnExclusionsFileOfAnEarlierVersion: a file written before the run
// column cannot say which runs' recoveries it lists. Given for a marked
// run elsewhere it is refused, naming it and saying why; on the machine
// that wrote it, whose record names the run, it stands for it (read by
// itself); with no marked run read it is read as before.
func TestAnExclusionsFileOfAnEarlierVersion(t *testing.T) {
	t.Parallel()
	_, stateA, jdir, rd, runA, _ := recoveredFromAReport(t)
	if err := rd.Wipe(context.Background()); err != nil {
		t.Fatal(err)
	}
	fileA := launch.ExclusionsPath(stateA, "launch-test")
	old := "id,email,outcome,code,response,campaign\nzoe@x.example,zoe@x.example,skipped,already-delivered,sent,launch-test\n"
	if err := os.WriteFile(fileA, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := launch.LoadDeliveredFor(t.TempDir(), "launch-test", []string{jdir, fileA})
	var me *launch.ExclusionsMissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), fileA+" is an exclusions file written by a version of tidings that did not say which runs' recoveries it lists") {
		t.Errorf("an earlier version's file named on another machine: %v; want *launch.ExclusionsMissingError naming %s and why", err, fileA)
	}
	for _, tt := range []struct {
		name  string
		paths []string
	}{
		{"read by itself on A", []string{jdir}},
		{"named on A", []string{jdir, fileA}},
	} {
		d, err := launch.LoadDeliveredFor(stateA, "launch-test", tt.paths)
		if err != nil {
			t.Errorf("%s (the record names run %s): %v", tt.name, runA, err)
			continue
		}
		if _, ok := d.Match("zoe@x.example", "zoe@x.example"); !ok {
			t.Errorf("%s: zoe is not excluded", tt.name)
		}
	}
	unmarked := t.TempDir()
	journaltest.Write(t, unmarked, "w1", journalEntry("tpj7k9-0a1b2c3d00ab990e3ffccc18", "ada"))
	d, err := launch.LoadDelivered("launch-test", []string{unmarked, fileA})
	if err != nil {
		t.Fatalf("an earlier version's file with journals of no marked run: %v", err)
	}
	if _, ok := d.Match("zoe@x.example", "zoe@x.example"); !ok {
		t.Error("an earlier version's file with journals of no marked run: zoe is not excluded")
	}
}

// TestAReportWithoutItsLineColumnIsNoExclusionsFile: a report from Redis
// whose line column was deleted (in a spreadsheet) is still a report, not
// the exclusions of recoveries: one that cannot say its run may predate a
// marked run and does not stand for it, and the refusal says it is such a
// report.
func TestAReportWithoutItsLineColumnIsNoExclusionsFile(t *testing.T) {
	t.Parallel()
	_, _, jdir, rd, runA, _ := recoveredFromAReport(t)
	if err := rd.Wipe(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(t.TempDir(), "noline.csv")
	if err := os.WriteFile(rep, []byte("id,email,locale,lang,outcome,code,response,at,attempts,batch,campaign\nada@x.example,ada@x.example,en,en,sent,,250 ok,,1,0,launch-test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := launch.LoadDelivered("launch-test", []string{jdir, rep})
	var me *launch.ExclusionsMissingError
	if !errors.As(err, &me) || !slices.Equal(me.Runs, []string{runA}) || !strings.Contains(err.Error(), rep+" is a report written from Redis by a version of tidings that did not say in which run") {
		t.Errorf("a report without its line column for marked run %s: %v; want *launch.ExclusionsMissingError saying %s is a report that may predate it", runA, err, rep)
	}
}

// TestAMarkedRunIsJournaledBeforeItStarts: the empty journal file of a
// marked run is written before the run can start; when it cannot be,
// nothing is started (a crash in between, then a loss before any worker
// claimed, would hide the run), and the error names the directory to fix.
func TestAMarkedRunIsJournaledBeforeItStarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, st, state, _, p := plannedFromAReport(t)
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "launch-test"), nil, 0o644); err != nil { // not a directory
		t.Fatal(err)
	}
	_, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: bad})
	if err == nil || !strings.Contains(err.Error(), "nothing was started: make "+filepath.Join(bad, "launch-test")+" writable") {
		t.Errorf("Stage with a journal directory that cannot be written: %v; want an error naming %s", err, filepath.Join(bad, "launch-test"))
	}
	if _, err := st.Meta(ctx, "launch-test", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the refusal, Meta: %v; want store.ErrNotFound (nothing started)", err)
	}
}

// journalEntry is who's delivery as sent in run of the test campaign.
func journalEntry(run, who string) journal.Entry {
	return journal.Entry{Campaign: "launch-test", Run: run, ID: who + "@x.example", Email: who + "@x.example", Outcome: "sent"}
}

// TestAnEarlierVersionsExclusionsRewrittenNameTheRunsStagedHere: the next
// recovery on the machine that wrote a file of an earlier version (no run
// column) rewrites it with the column, its old rows naming the runs the
// record there names: copied to another machine, it then stands for them.
func TestAnEarlierVersionsExclusionsRewrittenNameTheRunsStagedHere(t *testing.T) {
	t.Parallel()
	st, stateA, jdir, rd, runA, _ := recoveredFromAReport(t)
	fileA := launch.ExclusionsPath(stateA, "launch-test")
	old := "id,email,outcome,code,response,campaign\nzoe@x.example,zoe@x.example,skipped,already-delivered,sent,launch-test\n"
	if err := os.WriteFile(fileA, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rd.Wipe(context.Background()); err != nil {
		t.Fatal(err)
	}
	eve := filepath.Join(t.TempDir(), "eve.csv")
	if err := os.WriteFile(eve, []byte("line,id,email,outcome\n7,eve@x.example,eve@x.example,sent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// From a report alone (no journal, so no marked run read): the old
	// rows name run A only as the record here does.
	d, err := launch.LoadDeliveredFor(stateA, "launch-test", []string{eve})
	if err != nil {
		t.Fatal(err)
	}
	_, res := stageRecovery(t, st, stateA, jdir, d)
	if err := rd.Wipe(context.Background()); err != nil {
		t.Fatal(err)
	}
	d, err = launch.LoadDeliveredFor(t.TempDir(), "launch-test", []string{jdir, fileA}) // on another machine
	if err != nil {
		t.Fatalf("A's file, rewritten by its recovery of run %s, given on another machine for run %s: %v", res.Run, runA, err)
	}
	for _, who := range []string{"ada", "zoe", "eve"} {
		if _, ok := d.Match(who+"@x.example", who+"@x.example"); !ok {
			t.Errorf("A's file rewritten: %s is not excluded", who)
		}
	}
}
