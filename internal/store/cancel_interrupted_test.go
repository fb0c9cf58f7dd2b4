package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestInterruptedCancelSaysToRunItAgain: a cancel moves the campaign to
// cancelled, then sweeps its chunks to record every unsent recipient as
// cancelled (seconds for a million). Interrupted in the sweep (Ctrl-C, or
// a SIGKILL, after which nothing is printed at all), the campaign is
// cancelled with recipients still pending; status must say that and what
// to do, the cancel again, which records the rest. Found by a red team:
// after a cancel killed 5 s into a campaign of 1,002,000, status said
// "CANCELLED ... every recipient's outcome: tidings report" with 977,209
// pending, and the report then listed them as pending.
func TestInterruptedCancelSaysToRunItAgain(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	const n = 100
	stage(t, st, "half", stageOpts{n: n, size: 40})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	_, _, err := st.CancelWatched(ctx, "half", who, "wrong list", func(done, total int) { stop() }) // interrupted after the first chunk
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel interrupted after its first chunk: %v, want context.Canceled", err)
	}
	s, err := st.Status(context.Background(), "half")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != store.StateCancelled || s.Counts[store.OutcomePending] == 0 {
		t.Fatalf("state %s, %d pending: want cancelled with recipients pending", s.State, s.Counts[store.OutcomePending])
	}
	next := statusview.Next(s)
	if next != store.NextCancelAgain {
		t.Errorf("next %v, want NextCancelAgain (%d pending)", next, s.Counts[store.OutcomePending])
	}
	if h := nextstep.Hint(next, "half", "test"); !strings.Contains(h, "tidings cancel half --env test") || !strings.Contains(h, "pending") {
		t.Errorf("hint %q: want it to say the recipients pending and the cancel to run again", h)
	}
	// Doing what it says records the rest.
	got, _, err := st.Cancel(context.Background(), "half", who, "wrong list")
	if err != nil {
		t.Fatal(err)
	}
	if s, err = st.Status(context.Background(), "half"); err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomePending] != 0 || s.Counts[store.OutcomeCancelled] != n || got.Recipients == 0 {
		t.Errorf("after the cancel again: %d pending, %d cancelled (%d by it), want 0 and %d", s.Counts[store.OutcomePending], s.Counts[store.OutcomeCancelled], got.Recipients, n)
	}
	if next := statusview.Next(s); next != store.NextOutcomes {
		t.Errorf("after the cancel again: next %v, want NextOutcomes", next)
	}
}
