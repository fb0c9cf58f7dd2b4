package launch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// everyoneSent is a report that records every recipient of recipientsCSV
// as sent.
func everyoneSent() string {
	var b strings.Builder
	b.WriteString("email,outcome\n")
	for _, l := range strings.Split(strings.TrimSpace(recipientsCSV), "\n")[1:] {
		b.WriteString(strings.Split(l, ",")[0] + ",sent\n")
	}
	return b.String()
}

// TestEveryRecipientAlreadyDelivered: a campaign that had finished (every
// recipient sent) and that Redis lost cannot be sent again, since nobody
// is left to send to; before, the recovery the README gives refused with
// "no recipient to send to", and the campaign stayed lost on this host
// for ever (status, doctor and the workers named it, with that recovery
// as the only next step). The recovery now closes it: staged with every
// row recorded as skipped (already-delivered), done at once, nothing to
// send, and Redis lists it again, so that it is no longer named as lost.
func TestEveryRecipientAlreadyDelivered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := redistest.Start(t)
	st := store.New(r.Client())
	state, jdir := t.TempDir(), t.TempDir()
	first, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir}); err != nil {
		t.Fatal(err)
	}
	if _, err := journal.Touch(jdir, "launch-test", "run1", "w1"); err != nil { // a worker delivered it
		t.Fatal(err)
	}
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	listed, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if lost := launch.Journaled(jdir, "", listed); !slices.Contains(lost, "launch-test") {
		t.Fatalf("after the loss: journaled %v, want launch-test named as lost", lost)
	}
	if gone := launch.Gone(state, "test", listed); !slices.Contains(gone, "launch-test") {
		t.Fatalf("after the loss: gone %v, want launch-test named as lost", gone)
	}

	p := planExcluding(t, everyoneSent())
	o := launch.Options{Start: true, StateDir: state, JournalDir: jdir}
	if err := p.Check(o); err != nil {
		t.Fatalf("check: %v, want the recovery allowed (it closes the campaign)", err)
	}
	res, err := p.Stage(ctx, st, o)
	if err != nil {
		t.Fatalf("stage: %v", err)
	}
	if res.State != store.StateDone || res.Staged != 0 || res.Chunks != 0 {
		t.Errorf("stage: state %s, %d staged in %d chunks; want done, nothing staged", res.State, res.Staged, res.Chunks)
	}
	if !strings.Contains(res.Closed, "Every one of the 6 recipients was already delivered according to ") ||
		!strings.Contains(res.Closed, "report.csv") || !strings.Contains(res.Closed, "campaign recorded as done; nothing sent") {
		t.Errorf("closed: %q", res.Closed)
	}
	s, err := st.Status(ctx, "launch-test")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != store.StateDone || s.Total != 6 || s.Counts[store.OutcomeSkipped] != 6 || s.Counts[store.OutcomeSent] != 0 {
		t.Errorf("status: %s, total %d, counts %v; want done with 6 skipped", s.State, s.Total, s.Counts)
	}
	var rows []store.Row
	if err := st.Report(ctx, "launch-test", func(row store.Row) error { rows = append(rows, row); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Errorf("report: %d rows, want 6", len(rows))
	}
	for _, row := range rows {
		if row.Outcome != store.OutcomeSkipped || row.Code != plan.CodeAlreadyDelivered {
			t.Errorf("report row %+v: want skipped, %s", row, plan.CodeAlreadyDelivered)
		}
	}
	active, err := st.Active(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(active, "launch-test") {
		t.Errorf("active campaigns %v: a done campaign is not one workers look at", active)
	}
	// What status --env, doctor and the workers name as lost.
	if listed, err = st.List(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if lost := launch.Journaled(jdir, "", listed); slices.Contains(lost, "launch-test") {
		t.Errorf("after the recovery: journaled %v still names launch-test as lost", lost)
	}
	if gone := launch.Gone(state, "test", listed); slices.Contains(gone, "launch-test") {
		t.Errorf("after the recovery: gone %v still names launch-test (started here) as lost", gone)
	}
	// Nothing is left to send: a second recovery says so, as of any done
	// campaign.
	again := planExcluding(t, everyoneSent())
	if _, err := again.Stage(ctx, st, launch.Options{Start: true, ResumeExisting: true, StateDir: state, JournalDir: jdir}); err == nil || !strings.Contains(err.Error(), "nothing") {
		t.Errorf("stage the closed campaign again: %v, want nothing to send", err)
	}
}

// TestEveryRowLeftOutInARecovery: a recovery in which every row is either
// already delivered or left out as the options allow (refused, invalid:
// the first send skipped them too) has nobody to send to either: it closes
// the campaign, recording each row's outcome, and says how many of each.
// Without --skip-invalid the invalid row still refuses it.
func TestEveryRowLeftOutInARecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(redistest.Start(t).Client())
	path := filepath.Join(t.TempDir(), "report.csv")
	if err := os.WriteFile(path, []byte(everyoneSent()), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("launch-test", []string{path})
	if err != nil {
		t.Fatal(err)
	}
	in := input(t, d)
	if err := os.WriteFile(in.Recipients, []byte(recipientsCSV+"not-an-address,Eve,en,7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := launch.Plan(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(launch.Options{}); !errors.As(err, new(*launch.RejectedError)) {
		t.Errorf("check without --skip-invalid: %v, want the invalid row to refuse it", err)
	}
	res, err := p.Stage(ctx, st, launch.Options{Start: true, SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != store.StateDone || !strings.Contains(res.Closed, "Nobody is left to send to: 6 recipients were already delivered according to "+path+", and 1 left out (0 refused, 1 invalid); campaign recorded as done; nothing sent") {
		t.Errorf("stage: %s, %q", res.State, res.Closed)
	}
	s, err := st.Status(ctx, "launch-test")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != store.StateDone || s.Counts[store.OutcomeSkipped] != 6 || s.Counts[store.OutcomeInvalid] != 1 {
		t.Errorf("status: %s, counts %v; want done, 6 skipped, 1 invalid", s.State, s.Counts)
	}
}
