package statusview_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRateOnceEnded: a campaign that has ended (done, cancelled) shows no
// current rate beside its ETA —, whatever Rate its status holds; a running
// one shows its rate over the last 10 s.
func TestRateOnceEnded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		state store.State
		want  string
	}{
		{store.StateDone, "Rate:     —   ETA —\n"},
		{store.StateCancelled, "Rate:     —   ETA —\n"},
		{store.StateRunning, "Rate:     900.0 msg/s over the last 10 s   ETA 1s\n"},
	} {
		st := &store.Status{Campaign: "c", Env: "production", Control: store.Control{State: tt.state}, Total: 10,
			Counts: map[string]int64{store.OutcomeSent: 9, store.OutcomePending: 1}, Rate: 900, ETASeconds: 1}
		var b bytes.Buffer
		statusview.WriteAt(&b, st, time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), "")
		if got := b.String(); !strings.Contains(got, tt.want) {
			t.Errorf("%s: want %q in\n%s", tt.state, tt.want, got)
		}
	}
}

// TestLineRateOnceEnded: the one-line form (status --watch off a terminal)
// says no rate for a campaign that has ended, as the Rate line says "—"
// (statusview.Rate decides for both), not rate=0.0/s; a running one says
// its rate.
func TestLineRateOnceEnded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		state store.State
		want  string
	}{
		{store.StateDone, " rate=— "},
		{store.StateCancelled, " rate=— "},
		{store.StateRunning, " rate=900.0/s "},
	} {
		st := &store.Status{Campaign: "c", Control: store.Control{State: tt.state}, Rate: 900, Counts: map[string]int64{}}
		if got := statusview.Line(st, time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)) + " "; !strings.Contains(got, tt.want) {
			t.Errorf("%s: want %q in %q", tt.state, tt.want, got)
		}
	}
}
