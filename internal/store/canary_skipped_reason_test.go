package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestAwaitingApprovalSaysTheCanaryRowsSkipped: canary rows a re-staging
// keeps skipped (delivered in an earlier run) are not sent and have no
// errors; the reason the campaign awaits approval says how many were
// skipped and that its report lists them with why. Before, a canary all
// skipped awaited approval with "none of them sent: see why in its
// errors", and the errors were empty.
func TestAwaitingApprovalSaysTheCanaryRowsSkipped(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	const k = store.KindSkipped // a row the earlier run delivered: the re-staging keeps it skipped
	sent, failed := store.KindSent, store.KindFailed
	for i, tc := range []struct {
		name   string
		canary []store.Kind
		want   string
	}{
		{"every one skipped", []store.Kind{k, k, k, k},
			"canary done (4 recipients), none of them sent: 4 skipped, listed with why in its report (outcome skipped); see them before you approve"},
		{"skipped and failed", []store.Kind{k, failed, failed, k},
			"canary done (4 recipients), none of them sent: 2 skipped, listed with why in its report (outcome skipped), and why not the other 2 (its errors); see them before you approve"},
		{"sent and skipped", []store.Kind{sent, k, sent, sent},
			"canary done (4 recipients), 3 of them sent: check them; 1 skipped, listed with why in its report (outcome skipped); then approve"},
		{"sent, skipped and failed", []store.Kind{sent, k, failed, sent},
			"canary done (4 recipients), 2 of them sent: check them; 1 skipped, listed with why in its report (outcome skipped), and why not the other 1 (its errors); then approve"},
		{"none skipped, none sent", []store.Kind{failed, failed, failed, failed},
			"canary done (4 recipients), none of them sent: see why in its errors before you approve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fmt.Sprintf("c-canary-skipped-%d", i)
			sum, p := restagedCanary(t, st, c, tc.canary)
			r := tick(t, st, c, sum, p)
			if r.Code != store.TickAwaiting || r.Reason != tc.want {
				t.Fatalf("tick after the canary: %+v; want awaiting approval, %q", r, tc.want)
			}
		})
	}
}

// restagedCanary stages c with a canary of len(kinds) recipients, those
// whose kind is skipped rejected as delivered in an earlier run, then
// stages it again (ResumeExisting), which keeps them skipped in the
// canary; it releases the canary, attempts the others as kinds says and
// ends the canary's chunks.
func restagedCanary(t *testing.T, st *store.Store, c string, kinds []store.Kind) (*store.StageSummary, store.TickParams) {
	t.Helper()
	ctx := t.Context()
	cfg := store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", ChunkSize: 7, Canary: true}
	rec := func(i int) store.Recipient {
		id := fmt.Sprintf("r%d", i)
		return store.Recipient{Line: i + 2, ID: id, Email: id + "@x.example", Lang: "de"}
	}
	sg, err := st.NewStager(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, kind := range kinds {
		r := rec(i)
		if kind == store.KindSkipped {
			err = sg.Reject(ctx, store.Reject{Line: r.Line, ID: r.ID, Email: r.Email, Outcome: store.OutcomeSkipped, Code: "already-delivered", Field: "email", Reason: "sent"})
		} else {
			err = sg.Add(ctx, r, 0, true)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// One canary row of the first staging that the second leaves out: a
	// layout with a canary has a canary recipient.
	if err := sg.Add(ctx, rec(len(kinds)+1), 0, true); err != nil {
		t.Fatal(err)
	}
	if err := sg.Add(ctx, rec(len(kinds)), 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := sg.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pause(ctx, c, who, "staged again"); err != nil {
		t.Fatal(err)
	}
	cfg.ResumeExisting = true
	if sg, err = st.NewStager(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for i := range kinds {
		if err := sg.Add(ctx, rec(i), 0, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := sg.Add(ctx, rec(len(kinds)), 1, false); err != nil {
		t.Fatal(err)
	}
	sum, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Resume(ctx, c, who, ""); err != nil {
		t.Fatal(err)
	}
	p := store.TickParams{ApproveAfterCanary: true}
	if r := tick(t, st, c, sum, p); r.Code != store.TickReleased {
		t.Fatalf("first tick %+v", r)
	}
	l := st.Ledger(c, sum.Stage)
	for _, r := range canaryOf(t, st, c) {
		var i int
		if _, err := fmt.Sscanf(r.ID, "r%d", &i); err != nil {
			t.Fatal(err)
		}
		if kinds[i] != store.KindSkipped {
			attempt(t, l, r, kinds[i], store.Policy{MaxAttempts: 3}, time.Now())
		}
	}
	endCanary(t, st, c, sum)
	return sum, p
}
