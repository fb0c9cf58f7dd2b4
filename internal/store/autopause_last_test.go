package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestAutoPauseNotOnTheLastOutcome: a record that crosses the auto-pause's
// threshold pauses the campaign only when something is left to send (a
// recipient without an outcome, or one waiting for a retry). When it is
// the campaign's last outcome, a pause stops nothing: the campaign stays
// running and the next tick marks it done, its failures in the done
// reason, as the batch gate does (lua/tick.lua). Before, the last
// outcome paused it with nothing pending, and TidingsCampaignPaused paged
// on-call for a campaign that had nothing left to send (the storm red
// team's finding).
func TestAutoPauseNotOnTheLastOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := store.Policy{MaxAttempts: 3, Window: 10, ErrorRate: 0.5, MinAttempts: 4}
	for _, tc := range []struct {
		name  string
		n     int        // recipients staged (and one row invalid); r0 to r3 fail
		last  store.Kind // the fourth's failure
		pause bool
	}{
		{"the last outcome: done, not paused", 4, store.KindFailed, false},
		{"a recipient without an outcome: paused", 5, store.KindFailed, true},
		{"the last waits for its retry: paused", 4, store.KindTemp, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, sum, l := released(t, "last", tc.n, tc.n)
			var res store.StepResult
			for i := range 4 {
				id, lang, kind, code := fmt.Sprint("r", i), []string{"de", "fr", "en"}[i%3], store.KindFailed, "550"
				if i == 3 {
					kind = tc.last
				}
				if kind == store.KindTemp {
					code = "451"
				}
				r, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: lang, Token: id}}, p, time.Now())
				if err != nil || first(r).Result != store.ClaimOK {
					t.Fatalf("claim %s: %+v %v", id, r, err)
				}
				if res, err = l.Step(ctx, []store.Record{{ID: id, Lang: lang, Kind: kind, Code: code, Response: "no", Token: id}}, nil, p, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if got := res.AutoPaused != ""; got != tc.pause {
				t.Fatalf("the fourth failure: auto-pause %q, state %s; want paused %v", res.AutoPaused, res.State, tc.pause)
			}
			if !tc.pause {
				if res.State != store.StateRunning {
					t.Fatalf("state after the last outcome %s, want running", res.State)
				}
				if r := tick(t, st, "last", sum, store.TickParams{}); r.Code != store.TickDone || !strings.Contains(r.Reason, "4 failed") {
					t.Fatalf("tick after the last outcome: %+v; want done, its reason saying 4 failed", r)
				}
			}
			s, err := st.Status(ctx, "last")
			if err != nil {
				t.Fatal(err)
			}
			want := store.StateDone
			if tc.pause {
				want = store.StatePaused
			}
			if s.State != want {
				t.Errorf("status %s (%s), want %s", s.State, s.Reason, want)
			}
			for _, a := range s.Audit {
				if a.Action == "auto-pause" && !tc.pause {
					t.Errorf("audit has an auto-pause: %+v", a)
				}
			}
		})
	}
}
