package launch_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/plan"
)

// TestExcludeRefusesAnotherEnvironmentsRejects: the rejects file a
// recovery's send writes lists the rows it skipped as already delivered,
// and --exclude-delivered reads them as deliveries; it named no
// environment, so a staging recovery's rejects file given to a production
// recovery excluded its rows there, never to be mailed. The file now names
// the environment of the send or plan that wrote it (column env), and one
// of another environment is refused as another environment's report is,
// naming the file, its line, the column, both environments and what to do;
// in its own environment it is read and checked. One written before the
// column is read and named among the files that record no environment.
func TestExcludeRefusesAnotherEnvironmentsRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	skipped := []plan.Reject{{Line: 2, ID: "ada@x.example", Email: "ada@x.example", Outcome: plan.OutcomeSkipped, Code: plan.CodeAlreadyDelivered,
		Reason: "sent according to the delivery journal r1.w1.jsonl"}}
	staging := filepath.Join(dir, "staging.rejects.csv")
	s := &plan.Summary{Campaign: "launch-test", Environment: "staging", Rejects: skipped}
	if _, err := s.WriteRejectsFile(t.Context(), staging); err != nil {
		t.Fatal(err)
	}
	_, err := launch.LoadDeliveredIn("", "production", "launch-test", []string{staging})
	var ee *launch.EnvError
	if !errors.As(err, &ee) {
		t.Fatalf("a staging send's rejects in a recovery of production: %v; want a *launch.EnvError", err)
	}
	for _, w := range []string{staging + ":2:", `column "env"`, `"staging"`, "environment production", "rejects file", "--env staging", "nothing was staged"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s\nwant it to say %q", err, w)
		}
	}

	d, err := launch.LoadDeliveredIn("", "staging", "launch-test", []string{staging})
	if err != nil || d.Sent != 1 || len(d.NoEnv) != 0 {
		t.Errorf("a staging send's rejects in a recovery of staging: %+v, %v; want ada read, none unchecked", d, err)
	}

	old := filepath.Join(dir, "old.rejects.csv")
	fixture.Write(t, old, "line,id,email,locale,outcome,code,field,reason,campaign\n"+
		"2,ada@x.example,ada@x.example,en,skipped,already-delivered,,sent according to r1.w1.jsonl,launch-test\n")
	d, err = launch.LoadDeliveredIn("", "production", "launch-test", []string{old})
	if err != nil || d.Sent != 1 || !slices.Equal(d.NoEnv, []string{old}) {
		t.Fatalf("a rejects file written before the env column: %+v, %v; want it read and named unchecked", d, err)
	}
	var out bytes.Buffer
	d.WriteSummary(&out)
	if !strings.Contains(out.String(), "1 file(s) record no environment") || !strings.Contains(out.String(), old) {
		t.Errorf("summary:\n%s\nwant it to name %s as recording no environment", out.String(), old)
	}
}
