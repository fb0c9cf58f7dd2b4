package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestSuppressedWhileClaimedIsReportedInDoubt: r0 is claimed by a window
// of staging A (its message may be at the SMTP server) when the campaign
// is staged again with r0 now on a suppression list (a skipped reject
// marked KeepEarlier). The staging counts r0 in doubt, and the report must
// say in-doubt too, never skipped: r0 may have been mailed, and `report
// --outcome in-doubt` is how the operator finds out. When A's window then
// gives the claim back (it never sent it), r0 is skipped as suppressed,
// as the staging would have made it had the give-back come first: never
// pending in a staging that has it in no chunk, and status counts it as
// the report and the ledger say (it was counted in doubt, and the report
// said cancelled).
func TestSuppressedWhileClaimedIsReportedInDoubt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		giveBack bool
		want     string // r0's outcome in the report
	}{
		{"claim still held", false, store.OutcomeInDoubt},
		{"claim given back after the staging", true, store.OutcomeSkipped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := "c-supp-" + map[bool]string{false: "held", true: "back"}[tc.giveBack]
			st, _, old := released(t, c, 4, 4)
			p := store.Policy{MaxAttempts: 3}
			if r, err := old.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "w/r0"}}, p, time.Now()); err != nil || len(r.Claims) != 1 || r.Claims[0].Result != store.ClaimOK {
				t.Fatalf("claim: %+v %v", r, err)
			}
			if _, err := st.Pause(ctx, c, who, "suppression list grew"); err != nil {
				t.Fatal(err)
			}
			sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test",
				Who: "alice", Columns: []string{"posts"}, ChunkSize: 7, ResumeExisting: true})
			if err != nil {
				t.Fatal(err)
			}
			langs := []string{"de", "fr", "en"}
			for i := 1; i < 4; i++ {
				if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Locale: langs[i%3], Lang: langs[i%3],
					Fields: map[string]string{"posts": "1"}}, 0, false); err != nil {
					t.Fatal(err)
				}
			}
			if err := sg.Reject(ctx, store.Reject{Line: 2, ID: "r0", Email: "r0@x.example", Locale: "de", Outcome: store.OutcomeSkipped,
				Code: "suppressed", Field: "email", Reason: "on the suppression list", KeepEarlier: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := sg.Finish(ctx, true); err != nil {
				t.Fatal(err)
			}
			if tc.giveBack {
				recs := []store.Record{{ID: "r0", Lang: "de", Kind: store.KindUnclaim, Token: "w/r0"}}
				if _, err := old.Step(ctx, recs, nil, p, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			// r0 is counted once, under the outcome the report gives it.
			if s.Counts[store.OutcomePending] != 3 || s.Counts[tc.want] != 1 {
				t.Errorf("counts %v, want the 3 others pending and r0 %s", s.Counts, tc.want)
			}
			for _, o := range []string{store.OutcomeInDoubt, store.OutcomeSkipped, store.OutcomeCancelled} {
				if o != tc.want && s.Counts[o] != 0 {
					t.Errorf("counts %v: %d %s, want r0 counted %s alone", s.Counts, s.Counts[o], o, tc.want)
				}
			}
			got, code := "", ""
			if err := st.Rejects(ctx, c, func(r store.Row) error {
				if r.ID == "r0" {
					got, code = r.Outcome, r.Code
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("report row r0: %q, want %q (counts %v)", got, tc.want, s.Counts)
			}
			if tc.giveBack && code != "suppressed" {
				t.Errorf("report row r0: code %q, want suppressed", code)
			}
			es, err := st.Entries(ctx, c, []string{"r0"})
			if err != nil {
				t.Fatal(err)
			}
			if es[0].State != tc.want {
				t.Errorf("ledger r0: %q (%s), want %q", es[0].State, es[0].Response, tc.want)
			}
		})
	}
}
