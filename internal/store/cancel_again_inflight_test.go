package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestCancelAgainSaysWhatIsInFlightNow: a second cancel of a campaign the
// first cancelled while r0 was being sent says what is true when it runs,
// not what was at the first cancel's moment: once r0's sender recorded
// it, nothing is being sent and the count is final; while r0 is still in
// the server's hands (its sender alive, no record yet), one still is.
func TestCancelAgainSaysWhatIsInFlightNow(t *testing.T) {
	t.Parallel()
	const stale = "1 were being sent at that moment"
	for _, tt := range []struct {
		name     string
		recorded bool // r0's sender recorded it sent before the second cancel
		want     []string
		not      []string
	}{
		{"r0 recorded since", true, []string{"2 unsent recipients recorded as cancelled in all", "none is being sent now"}, []string{stale, "not final", "see status"}},
		{"r0 still being sent", false, []string{"2 unsent recipients recorded as cancelled in all", "still being sent now: 1", "see status"}, []string{stale}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := store.New(startRedis(t))
			ctx := t.Context()
			l, p := claimR0(t, st, "c-again")
			if _, _, err := st.Cancel(ctx, "c-again", store.Actor{Who: "oncall"}, "stop"); err != nil {
				t.Fatal(err)
			}
			if tt.recorded {
				if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Token: "w/1"}}, nil, p, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			got, already, err := st.Cancel(ctx, "c-again", store.Actor{Who: "oncall"}, "again")
			if err != nil || already == nil {
				t.Fatalf("second cancel: %+v, %+v, %v; want the first cancel in force", got, already, err)
			}
			said := got.Answer("c-again", "Cancelled c-again: ", already, "see status")
			for _, w := range tt.want {
				if !strings.Contains(said, w) {
					t.Errorf("the second cancel says %q, want %q in it", said, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(said, n) {
					t.Errorf("the second cancel says %q, which holds %q: not true now", said, n)
				}
			}
		})
	}
}
