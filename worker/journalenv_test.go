package worker_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestJournalLinesNameTheWorkersEnvironment: a worker writes its
// environment in every journal line (real Redis, the in-process SMTP
// server), so that a recovery in another environment refuses its journal
// (launch.Delivered.CheckEnv): lines that named none let a staging run's
// journal be read for a production recovery, and the recipients only
// mailed in staging were never mailed in production (red team fx34d).
func TestJournalLinesNameTheWorkersEnvironment(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.stage(t, opts{n: 20, size: 20})
	dir := t.TempDir()
	e.startWorker(t, wopts{journal: dir}) // environment "test"
	e.waitState(t, 30*time.Second, store.StateDone)
	files, err := journal.Files(dir, e.name)
	if err != nil || len(files) != 1 {
		t.Fatalf("journal files %v, %v", files, err)
	}
	b, err := os.ReadFile(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, line := range lines {
		if !strings.HasSuffix(line, `,"env":"test"}`) {
			t.Errorf("%s:%d: %s\nwant it to end with the worker's environment, \"env\":\"test\"", files[0].Path, i+1, line)
		}
	}
	d, err := launch.LoadDelivered(e.name, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if d.Sent != 20 || len(d.NoEnv) != 0 {
		t.Errorf("%d sent, files without an environment %v; want 20 and none", d.Sent, d.NoEnv)
	}
	if err := d.CheckEnv("test"); err != nil {
		t.Errorf("CheckEnv(test) of test's journal: %v", err)
	}
	var ee *launch.EnvError
	if err := d.CheckEnv("production"); !errors.As(err, &ee) || ee.Env != "test" || ee.Line != 1 || ee.Path != files[0].Path {
		t.Errorf("CheckEnv(production) of test's journal: %v, want an *launch.EnvError of %s:1, environment test", err, files[0].Path)
	}
}
