package launch_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestNoneDeliveredRefusedWhenARecoveryExcludedAnyone: --none-delivered
// (no worker ever sent the campaign) is refused on a host whose earlier
// recovery excluded recipients as delivered, even when that list of
// exclusions can no longer be read and this host's journal holds nothing
// of the campaign: read as "none excluded", it let the campaign be staged
// as new and everyone that recovery excluded be mailed twice.
func TestNoneDeliveredRefusedWhenARecoveryExcludedAnyone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, first := started(t)
	journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"})
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	// The recovery: Ada excluded, recorded in this host's exclusions.
	d, err := launch.LoadDelivered("launch-test", []string{jdir})
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
	excl := launch.ExclusionsPath(state, "launch-test")
	if _, err := os.Stat(excl); err != nil {
		t.Fatalf("the recovery left no exclusions file: %v", err)
	}
	// Lost again; this host's journal is gone (a new disk), and so is
	// what its exclusions file held.
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(excl, []byte("\x00not a list\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err = launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: t.TempDir(), NoneDelivered: true})
	var lost *launch.StateLostError
	if !errors.As(err, &lost) || !lost.NoneDelivered {
		t.Fatalf("--none-delivered after a recovery that excluded Ada, its exclusions unreadable: %v, want the state-loss refusal saying --none-delivered is refused", err)
	}
}
