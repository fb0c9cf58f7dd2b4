package worker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestJournaledOutcomeIsTheLedgers: the outcome line a worker journals
// says what the ledger then records, so that `report --journal` gives
// the outcome `report --env` gives: a temporary failure on its last
// attempt is failed (before, every temporary failure was journaled temp,
// which readers take as pending), one while the campaign is known to be
// cancelled is cancelled, one the ledger defers stays temp. Each case
// records the outcome in a real ledger and compares.
func TestJournaledOutcomeIsTheLedgers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	w, err := New(Config{Redis: rdb, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name        string
		kind        store.Kind
		maxAttempts int
		cancelled   bool // the campaign is cancelled, and the worker has read so
		want        string
	}{
		{"temp on the last attempt", store.KindTemp, 1, false, "failed"},
		{"temp before the last attempt", store.KindTemp, 3, false, "temp"},
		{"temp while cancelled", store.KindTemp, 3, true, "cancelled"},
		{"temp on the last attempt while cancelled", store.KindTemp, 1, true, "failed"},
		{"sent", store.KindSent, 1, false, "sent"},
		{"failed", store.KindFailed, 3, false, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fmt.Sprint("jl", i)
			sum := stageTest(t, st, c, 1, 10, true)
			policy := store.Policy{MaxAttempts: tc.maxAttempts}
			l := st.Ledger(c, sum.Stage)
			res, err := l.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "t0"}}, policy, time.Now())
			if err != nil || res.Claims[0].Result != store.ClaimOK {
				t.Fatalf("claim: %+v %v", res, err)
			}
			state := store.StateRunning
			if tc.cancelled {
				if _, _, err := st.Cancel(ctx, c, store.Actor{Who: "t"}, "test"); err != nil {
					t.Fatal(err)
				}
				state = store.StateCancelled
			}
			w.mu.Lock()
			w.states[c] = store.Probe{State: state, Stage: sum.Stage}
			w.mu.Unlock()
			r := &run{w: w, cs: &campaignState{name: c, stage: sum.Stage, ledger: l, policy: policy}}
			rec := store.Record{ID: "r0", Lang: "de", Kind: tc.kind, Code: "451 4.3.0", Token: "t0", Attempt: res.Claims[0].Attempt}
			got := r.journaled(&rec)
			if got != tc.want {
				t.Errorf("journaled %q, want %q", got, tc.want)
			}
			if _, err := l.Step(ctx, []store.Record{rec}, nil, policy, time.Now()); err != nil {
				t.Fatal(err)
			}
			es, err := st.Entries(ctx, c, []string{"r0"})
			if err != nil {
				t.Fatal(err)
			}
			ledger := es[0].State
			if ledger == "deferred" {
				ledger = "temp" // the journal's word for it
			}
			if got != ledger {
				t.Errorf("journaled %q, the ledger recorded %q", got, es[0].State)
			}
		})
	}
}
