package launch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRestagingAMarkedRunIsNotVouchedForByAnotherEnvironmentsExclusions:
// a marked run staged again (--resume-existing) is let through when this
// machine's state_dir holds its exclusions (the record there names the
// run as staged there, or the file's run column names it). In a state_dir
// two environments share, that was decided without asking whose the
// record and the file are: environment test recovered run R here (file
// and record of test); as the refusal of test's file in a staging
// recovery told them, on-call moved it out of there, and staging
// recovered the same campaign here, writing its own file and a record
// that kept test's marked runs. Staging R again in test was then let
// through on staging's record and file, which do not list R's
// exclusions (zoe's): the record here would name a file that does not
// hold them. It is refused, saying the file is staging's, and nothing is
// staged.
func TestRestagingAMarkedRunIsNotVouchedForByAnotherEnvironmentsExclusions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, state, jdir, _, run, _ := recoveredFromAReport(t) // environment test
	pauseForAFix(t, st)
	file := launch.ExclusionsPath(state, "launch-test")
	if err := os.Rename(file, filepath.Join(t.TempDir(), "test.excluded.csv")); err != nil { // moved out, as told
		t.Fatal(err)
	}

	// Staging, with its own Redis and journals, recovers the campaign from
	// a report in the same state_dir.
	stagingSt := store.New(redistest.Start(t).Client())
	rep := filepath.Join(t.TempDir(), "staging.csv")
	if err := os.WriteFile(rep, []byte("line,id,email,outcome,env\n6,uli@x.example,uli@x.example,sent,staging\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDeliveredIn(state, "staging", "launch-test", []string{rep})
	if err != nil {
		t.Fatal(err)
	}
	in := input(t, d)
	in.EnvName = "staging"
	sp, err := launch.Plan(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	sres, err := sp.Stage(ctx, stagingSt, launch.Options{Start: true, StateDir: state, JournalDir: t.TempDir()})
	if err != nil || !strings.HasSuffix(sres.Run, store.RunExcludedMark) {
		t.Fatalf("staging's recovery: %+v, %v; want a marked run", sres, err)
	}
	// Staging's record names staging's runs alone: test's marked run R,
	// whose exclusions are not in staging's file, is not copied into it.
	if rec, err := launch.ReadRecord(state, "launch-test"); err != nil || rec.Env != "staging" || slices.Contains(rec.MarkedRuns, run) {
		t.Errorf("staging's record after its recovery: %+v, %v; want environment staging, without test's run %s", rec, err, run)
	}

	// Test stages run R again from this state_dir.
	before, err := st.Meta(ctx, "launch-test", false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir, ResumeExisting: true})
	if err == nil {
		t.Fatalf("run %s of environment test staged again on staging's exclusions file and record: %+v; want it refused", run, res)
	}
	for _, want := range []string{file, `"staging"`, "environment test", "nothing was staged"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q; want it to say %q", err, want)
		}
	}
	if m, err := st.Meta(ctx, "launch-test", false); err != nil || m.Stage != before.Stage {
		t.Errorf("after the refusal: staging %+v, %v; want %s as it was (nothing staged)", m, err, before.Stage)
	}
	var ee *launch.EnvError
	if !errors.As(err, &ee) || !ee.Exclusions {
		t.Errorf("refusal %v; want a *launch.EnvError of an exclusions file", err)
	}

	// Staging's file moved out in turn, and a file of test's recoveries
	// of another run copied there: it is test's, but it does not list R's
	// exclusions, and staging's record (which kept R among its marked
	// runs) does not vouch for them either.
	other := "id,email,outcome,code,response,campaign,run,env\nzoe@x.example,zoe@x.example,skipped,already-delivered,sent,launch-test,tpj7k9-0a1b2c3d00ab990e3ffccc18-excl,test\n"
	if err := os.WriteFile(file, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	var xe *launch.ExclusionsElsewhereError
	if res, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir, ResumeExisting: true}); !errors.As(err, &xe) || xe.Run != run {
		t.Errorf("run %s staged again with staging's record and a file of test's other run: %+v, %v; want *launch.ExclusionsElsewhereError", run, res, err)
	}
}
