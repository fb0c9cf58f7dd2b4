package launch_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRecipientsFileRemovedBeforeTheStaging: send plans, then reads the
// recipients file again to stage it. A file removed (or renamed) between
// the two is a file that changed (*launch.ChangedError: nothing was
// started, run send again once the files no longer change), as one
// appended to is. Found by a red team: rm of the file during the plan of a
// million rows ended the send with only "open recipients file: open
// c/del.csv: no such file or directory", leaving the campaign
// STAGING-INTERRUPTED without saying that nothing was started.
func TestRecipientsFileRemovedBeforeTheStaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(redistest.Start(t).Client())
	in := input(t, nil)
	p, err := launch.Plan(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(in.Recipients); err != nil {
		t.Fatal(err)
	}
	_, err = p.Stage(ctx, st, launch.Options{Start: true, StateDir: t.TempDir()})
	var changed *launch.ChangedError
	if !errors.As(err, &changed) || changed.File != in.Recipients {
		t.Fatalf("staging after the file was removed: %v, want a *launch.ChangedError naming %s", err, in.Recipients)
	}
	if s, err := st.Status(ctx, "launch-test"); err == nil && s.State != store.StateStagingInterrupted {
		t.Errorf("state %s after the failed staging, want staging-interrupted (nothing started)", s.State)
	}
}
