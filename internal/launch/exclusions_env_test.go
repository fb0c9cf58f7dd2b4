package launch_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestExclusionsRecordTheirEnvironment: the exclusions file a recovery
// keeps (<state_dir>/campaigns/C.excluded.csv, which --exclude-delivered
// reads by itself on that machine and takes when given) named no
// environment, so a staging recovery's file, copied to a production host
// or found in a state_dir both environments share, was read as
// production's: the recipients it lists, excluded in staging, would never
// be mailed in production. A recovery now writes its environment in every
// row (column env), and a send in another environment refuses the file,
// named or read by itself, as it refuses another environment's journal
// or report: naming the file, its line, the column, both environments
// and what to do. In its own environment it is read, and not named among
// the files that record no environment.
func TestExclusionsRecordTheirEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, _ := started(t) // in environment "test"
	if err := r.Wipe(ctx); err != nil { // Redis lost the campaign
		t.Fatal(err)
	}
	p := planExcluding(t, "line,id,email,outcome\n2,ada@x.example,ada@x.example,sent\n")
	if _, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir}); err != nil {
		t.Fatal(err)
	}
	file := launch.ExclusionsPath(state, "launch-test")
	body := fixture.Read(t, file)
	if head, row, _ := strings.Cut(body, "\n"); !strings.HasSuffix(head, ",env") || !strings.HasSuffix(strings.TrimSpace(row), ",test") {
		t.Fatalf("%s:\n%s\nwant a column env, and ada's row naming environment test", file, body)
	}

	prod := t.TempDir()
	writeEnv(t, prod, "w1", "production",
		journal.Entry{Campaign: "launch-test", Run: "r9", ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	for _, tt := range []exclusionsRead{
		{"named", "", []string{prod, file}},
		{"read by itself (one state_dir for both)", state, []string{prod}},
	} {
		_, err := launch.LoadDeliveredIn(tt.stateDir, "production", "launch-test", tt.paths)
		var ee *launch.EnvError
		if !errors.As(err, &ee) {
			t.Errorf("%s: the exclusions of environment test in a send of production: %v; want a *launch.EnvError", tt.name, err)
			continue
		}
		for _, w := range []string{file + ":2:", `column "env"`, `"test"`, "environment production", "exclusions", "--env test", "nothing was staged"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %s\nwant it to say %q", tt.name, err, w)
			}
		}
	}

	// In its own environment the file is read, and checked.
	same := t.TempDir()
	writeEnv(t, same, "w1", "test",
		journal.Entry{Campaign: "launch-test", Run: "r9", ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	d, err := launch.LoadDeliveredIn(state, "test", "launch-test", []string{same})
	if err != nil || d.Earlier != 1 || len(d.NoEnv) != 0 {
		t.Fatalf("the exclusions of environment test in a send of test: %+v, %v; want them read, none unchecked", d, err)
	}
}

// TestExclusionsWithoutEnvironmentAreNoted: an exclusions file written
// before it had the column env is read (refusing it would block the
// recovery of a campaign whose earlier recovery predates the upgrade),
// here or given by path, and the summary names it among the files that
// record no environment, as it names an old journal or report. Its rows
// stay without one when a recovery adds to the file: it does not vouch
// for rows it did not write.
func TestExclusionsWithoutEnvironmentAreNoted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, _ := started(t)
	file := launch.ExclusionsPath(state, "launch-test")
	fixture.Write(t, file, "id,email,outcome,code,response,campaign,run\n"+
		"ada@x.example,ada@x.example,skipped,already-delivered,sent according to old.csv,launch-test,r0\n")
	same := t.TempDir()
	writeEnv(t, same, "w1", "test",
		journal.Entry{Campaign: "launch-test", Run: "r1", ID: "bob@x.example", Email: "bob@x.example", Outcome: "sent"})
	for _, tt := range []exclusionsRead{
		{"read by itself", state, []string{same}},
		{"named", "", []string{same, file}},
	} {
		d, err := launch.LoadDeliveredIn(tt.stateDir, "test", "launch-test", tt.paths)
		if err != nil || d.Sent != 2 || !slices.Equal(d.NoEnv, []string{file}) {
			t.Errorf("%s: an exclusions file without env: %+v, %v; want it read and named unchecked", tt.name, d, err)
			continue
		}
		var out bytes.Buffer
		d.WriteSummary(&out)
		if !strings.Contains(out.String(), "1 file(s) record no environment") || !strings.Contains(out.String(), file) {
			t.Errorf("%s: summary:\n%s\nwant it to name %s as recording no environment", tt.name, out.String(), file)
		}
	}

	// A recovery adds zoe (env test) and keeps ada without an environment.
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "report.csv")
	if err := os.WriteFile(report, []byte("line,id,email,outcome\n4,zoe@x.example,zoe@x.example,sent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDeliveredIn(state, "test", "launch-test", []string{report})
	if err != nil {
		t.Fatal(err)
	}
	p, err := launch.Plan(ctx, input(t, d))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(fixture.Read(t, file))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	envOf := map[string]string{}
	for _, row := range rows[1:] {
		envOf[row[0]] = row[len(row)-1]
	}
	if len(rows) != 3 || rows[0][len(rows[0])-1] != "env" || envOf["ada@x.example"] != "" || envOf["zoe@x.example"] != "test" {
		t.Errorf("%s after a recovery in test: %q; want a column env, ada's row without one and zoe's naming test", file, rows)
	}
}

// exclusionsRead is how a send is given an exclusions file: among paths
// (stateDir "": none of this machine), or read by itself from stateDir.
type exclusionsRead struct {
	name     string
	stateDir string
	paths    []string
}
