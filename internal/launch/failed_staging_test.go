package launch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestAFailedRecoveryLeavesNoTraceOfItsRun: a recovery whose staging
// fails after its early writes (the exclusions file, the marked run's
// empty journal file, both written before the run can start) and before
// the run could start must leave both as they were: the run never
// started. Before, the exclusions file kept the rows that staging skipped
// (eve, from a report the operator may then find wrong) naming a run that
// never started, and every later recovery on the machine read them by
// itself: eve was never mailed; and the run's empty journal file made a
// recovery elsewhere demand the exclusions of a run that never started.
// The failure: Redis goes away mid-staging, the journal directory cannot
// be written, the recipients file changes under the staging. The
// exclusions file keeps its permission too (a file put back 0600, the
// mode of a file the staging writes, is not as it was).
func TestAFailedRecoveryLeavesNoTraceOfItsRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fail makes the staging fail: it may change the options, and
		// returns the store to stage with.
		fail func(t *testing.T, st *store.Store, opts *launch.Options, rd redisOpts, recipients string, interrupt func()) *store.Store
	}{
		{"Redis goes away mid-staging", func(t *testing.T, _ *store.Store, opts *launch.Options, rd redisOpts, _ string, _ func()) *store.Store {
			c := redis.NewClient(rd.Options())
			opts.Progress = func() { _ = c.Close() } // at the first row staged
			return store.New(c)
		}},
		{"the journal cannot be written", func(t *testing.T, st *store.Store, opts *launch.Options, _ redisOpts, _ string, _ func()) *store.Store {
			opts.JournalDir = filepath.Join(t.TempDir(), "a-file")
			if err := os.WriteFile(opts.JournalDir, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return st
		}},
		{"the recipients file changes", func(t *testing.T, st *store.Store, opts *launch.Options, _ redisOpts, recipients string, _ func()) *store.Store {
			changeRecipients(t, recipients)
			return st
		}},
		// Ctrl-C: the error says the staging was interrupted and, still,
		// what became of the early writes.
		{"interrupted", func(t *testing.T, st *store.Store, opts *launch.Options, _ redisOpts, _ string, interrupt func()) *store.Store {
			opts.Progress = interrupt // at the first row staged
			return st
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, interrupt := context.WithCancel(context.Background())
			defer interrupt()
			st, state, jdir, rd, run, _ := recoveredFromAReport(t) // zoe excluded from a report
			bobSentThenLost(t, jdir, rd, run)
			file := launch.ExclusionsPath(state, "launch-test")
			before, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			// The operator let a group read it: it stays so.
			if err := os.Chmod(file, 0o640); err != nil {
				t.Fatal(err)
			}
			journals := journalNames(t, jdir)
			eve := filepath.Join(t.TempDir(), "eve.csv")
			if err := os.WriteFile(eve, []byte("line,id,email,outcome\n7,eve@x.example,eve@x.example,sent\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := launch.LoadDeliveredFor(state, "launch-test", []string{jdir, eve})
			if err != nil {
				t.Fatal(err)
			}
			in := input(t, d)
			p, err := launch.Plan(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			opts := launch.Options{Start: true, StateDir: state, JournalDir: jdir}
			res, err := p.Stage(ctx, tt.fail(t, st, &opts, rd, in.Recipients, interrupt), opts)
			if err == nil {
				t.Fatalf("staging: %+v; want it to fail", res)
			}
			if tt.name == "interrupted" && !errors.As(err, new(*launch.InterruptedError)) {
				t.Errorf("interrupted staging: %v, want a *launch.InterruptedError", err)
			}
			if !strings.Contains(err.Error(), "was not started") || !strings.Contains(err.Error(), file) {
				t.Errorf("refusal %q does not say the run was not started and that %s is as it was", err, file)
			}
			if after, _ := os.ReadFile(file); string(after) != string(before) {
				t.Errorf("%s after the failed staging:\n%s\nwant it as before:\n%s", file, after, before)
			}
			if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o640 {
				t.Errorf("%s after the failed staging: %v, %v; want its permission as before, 0640", file, fi.Mode(), err)
			}
			if got := journalNames(t, jdir); !slices.Equal(got, journals) {
				t.Errorf("journal files after the failed staging: %v, want those before: %v", got, journals)
			}
			// The operator finds the report of eve wrong and recovers from
			// the journals alone: eve must be mailed.
			d, err = launch.LoadDeliveredFor(state, "launch-test", []string{jdir})
			if err != nil {
				t.Fatalf("a recovery from the journals after the failed staging: %v", err)
			}
			if how, ok := d.Match("eve@x.example", "eve@x.example"); ok {
				t.Errorf("eve excluded by the failed staging's exclusions (%s): she would never be mailed", how)
			}
		})
	}
}

// redisOpts is what the failed-staging cases need of a test's Redis.
type redisOpts interface{ Options() *redis.Options }

// journalNames lists the test campaign's journal files in jdir.
func journalNames(t *testing.T, jdir string) []string {
	t.Helper()
	return fixture.Names(t, filepath.Join(jdir, "launch-test"))
}

// TestAFailedRestagingKeepsTheJournalFileOfItsRun: a re-staging of a
// marked run (--resume-existing, the same run) that fails takes back only
// what it wrote: the empty journal file the recovery that staged the run
// left (the same name, on the same machine) is the run's, which started,
// and must stay, or a recovery from this machine's journal would no
// longer see the run.
func TestAFailedRestagingKeepsTheJournalFileOfItsRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, state, jdir, _, run, _ := recoveredFromAReport(t)
	pauseForAFix(t, st)
	journals := journalNames(t, jdir)
	in := input(t, nil)
	p, err := launch.Plan(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	changeRecipients(t, in.Recipients)
	res, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir, ResumeExisting: true})
	if err == nil || res != nil {
		t.Fatalf("re-staging run %s with its recipients changed: %+v, %v; want it to fail", run, res, err)
	}
	if got := journalNames(t, jdir); !slices.Equal(got, journals) {
		t.Errorf("journal files after the failed re-staging of run %s: %v, want those before: %v", run, got, journals)
	}
}

// changeRecipients adds a row to the recipients file at path, after the
// plan read it.
func changeRecipients(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(recipientsCSV+"new@x.example,New,en,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pauseForAFix pauses the test campaign, as on-call does before staging
// it again (--resume-existing) with a fix.
func pauseForAFix(t *testing.T, st *store.Store) {
	t.Helper()
	if _, err := st.Pause(context.Background(), "launch-test", store.Actor{Who: "oncall"}, "fix the template"); err != nil {
		t.Fatal(err)
	}
}

// TestAFailedRecoveryThatCannotTakeBackItsWritesSaysWhatToDo: a recovery
// whose staging fails before its run can start, and which then cannot
// take back its early writes (here the marked run's empty journal file,
// which something replaced with a directory holding a file), says which
// file it could not put back, that the run it names never started, and
// what to do with it before anything else: remove it. Before, it said
// only that a later recovery may ask for that run's exclusions, and
// nothing to do.
func TestAFailedRecoveryThatCannotTakeBackItsWritesSaysWhatToDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	state, jdir, rd, journals, p := plannedAfterASecondLoss(t)
	c := redis.NewClient(rd.Options())
	var stuck string // the new run's journal file, replaced by a directory
	opts := launch.Options{Start: true, StateDir: state, JournalDir: jdir, Progress: func() {
		if stuck != "" {
			return
		}
		for _, name := range journalNames(t, jdir) {
			if !slices.Contains(journals, name) {
				stuck = filepath.Join(jdir, "launch-test", name)
			}
		}
		if stuck == "" {
			t.Error("the staging left no journal file of its run before staging rows")
			return
		}
		if err := os.Remove(stuck); err != nil {
			t.Error(err)
		}
		if err := os.MkdirAll(filepath.Join(stuck, "x"), 0o750); err != nil {
			t.Error(err)
		}
		_ = c.Close() // the staging fails
	}}
	_, err := p.Stage(ctx, store.New(c), opts)
	if err == nil || stuck == "" {
		t.Fatalf("staging: %v (journal file %q); want it to fail", err, stuck)
	}
	newRun, _, _ := strings.Cut(filepath.Base(stuck), ".")
	for _, want := range []string{"run " + newRun + " was not started", "the empty journal file of run " + newRun, "remove " + stuck + " by hand before any other recovery"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestARecoveryFailingOnceItsRunMayHaveStartedKeepsItsWrites: a recovery
// whose staging fails once Finish began writing what starts its run
// (store.Stager.MayHaveStarted) keeps its early writes, the exclusions
// file and the marked run's empty journal file, which name that run:
// workers may be sending in it, and taken back, a later recovery would
// miss what it excluded. Its error names the run and says to see, by
// tidings status, whether Redis has the campaign in it before anything
// else. Redis refuses the writes of the staging's connection at that
// point (its ACL user loses write permission as Finish's pipeline goes
// out): a real refusal, the moment chosen by the pipeline itself.
func TestARecoveryFailingOnceItsRunMayHaveStartedKeepsItsWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	state, jdir, rd, journals, p := plannedAfterASecondLoss(t)
	if rd.Embedded {
		t.Skip("the embedded Redis has no ACL; CI runs this on redis-server")
	}
	// The staging's own user, denied writes at Finish's pipeline (the one
	// that writes the campaign's meta).
	admin := rd.Client()
	user := "stager-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if err := admin.Do(ctx, "ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Do(context.Background(), "ACL", "DELUSER", user).Err() })
	o := rd.Options()
	o.Username, o.Password = user, "pw"
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	var denied bool
	c.AddHook(finishHook{before: func(cmds []redis.Cmder) {
		for _, cmd := range cmds {
			if a := cmd.Args(); !denied && len(a) > 1 && cmd.Name() == "hset" && a[1] == "tidings:{launch-test}:meta" {
				denied = true
				if err := admin.Do(ctx, "ACL", "SETUSER", user, "resetkeys", "%R~*").Err(); err != nil {
					t.Error(err)
				}
			}
		}
	}})
	_, err := p.Stage(ctx, store.New(c), launch.Options{Start: true, StateDir: state, JournalDir: jdir})
	if err == nil || !denied {
		t.Fatalf("staging: %v (writes denied at Finish: %v); want it to fail there", err, denied)
	}
	file := launch.ExclusionsPath(state, "launch-test")
	after := journalNames(t, jdir)
	var newRun string
	for _, name := range after {
		if !slices.Contains(journals, name) {
			newRun, _, _ = strings.Cut(name, ".")
		}
	}
	if newRun == "" || len(after) != len(journals)+1 {
		t.Fatalf("journal files after the failed staging: %v (before: %v); want the new run's empty file kept", after, journals)
	}
	for _, want := range []string{"run " + newRun + " may have started", file, "are kept", "by tidings status, before anything else"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if b, rerr := os.ReadFile(file); rerr != nil || !strings.Contains(string(b), newRun) {
		t.Errorf("%s after the failed staging: %v\n%s\nwant it kept, naming run %s", file, rerr, b, newRun)
	}
}

// finishHook calls before with the commands of every pipeline, before it
// goes out.
type finishHook struct{ before func([]redis.Cmder) }

func (finishHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (finishHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h finishHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.before(cmds)
		return next(ctx, cmds)
	}
}

// plannedAfterASecondLoss is recoveredFromAReport, then bob sent in the
// recovery's run and Redis lost it again, and a second recovery planned
// from the journals (and this machine's exclusions, read by themselves):
// this machine's state and journal directories, the test's Redis, the
// journal files there, and the plan.
func plannedAfterASecondLoss(t *testing.T) (state, jdir string, rd *redistest.Redis, journals []string, p *launch.Planned) {
	t.Helper()
	_, state, jdir, rd, run, _ := recoveredFromAReport(t)
	bobSentThenLost(t, jdir, rd, run)
	journals = journalNames(t, jdir)
	d, err := launch.LoadDeliveredFor(state, "launch-test", []string{jdir})
	if err != nil {
		t.Fatal(err)
	}
	if p, err = launch.Plan(context.Background(), input(t, d)); err != nil {
		t.Fatal(err)
	}
	return state, jdir, rd, journals, p
}
