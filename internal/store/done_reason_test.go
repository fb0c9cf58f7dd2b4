package store_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestDoneReasonAccountsForEveryRow: a campaign's done reason said
// "every recipient has an outcome: N sent, 0 failed, 0 in doubt" and left
// out its refused, invalid, skipped and cancelled rows, so its figures did
// not add up to the campaign's total (red team). It now names every
// outcome a row has (sent always, the others when not zero), in the order
// of status (store.Outcomes), and its figures add up to the total.
func TestDoneReasonAccountsForEveryRow(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		kinds   []store.Kind // one staged recipient each, recorded so
		rejects []string     // one row rejected at staging each, of this outcome
		want    string
	}{
		{"all sent", []store.Kind{store.KindSent, store.KindSent, store.KindSent}, nil,
			"every recipient has an outcome: 3 sent"},
		{"every outcome", []store.Kind{store.KindSent, store.KindSent, store.KindFailed, store.KindInDoubt, store.KindRefused, store.KindSkipped},
			[]string{store.OutcomeInvalid, store.OutcomeRefused, store.OutcomeSkipped},
			"every recipient has an outcome: 2 sent, 1 failed, 1 in doubt, 2 refused, 1 invalid, 2 skipped"},
		{"sent and rejected", []store.Kind{store.KindSent}, []string{store.OutcomeInvalid, store.OutcomeInvalid},
			"every recipient has an outcome: 1 sent, 2 invalid"},
		{"nothing sent", []store.Kind{store.KindFailed}, []string{store.OutcomeRefused},
			"every recipient has an outcome: 0 sent, 1 failed, 1 refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := regexp.MustCompile(`[^a-z]+`).ReplaceAllString(tt.name, "-")
			sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test",
				Who: "alice", Columns: []string{"posts"}, ChunkSize: 7})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.kinds {
				if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Locale: "en", Lang: "en",
					Fields: map[string]string{"posts": "1"}}, 0, false); err != nil {
					t.Fatal(err)
				}
			}
			for i, o := range tt.rejects {
				if err := sg.Reject(ctx, store.Reject{Line: len(tt.kinds) + i + 2, Email: "bad", Outcome: o, Field: "email", Reason: "rejected"}); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := sg.Finish(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
				t.Fatalf("first tick %+v, want batch 0 released", r)
			}
			l := st.Ledger(c, sum.Stage)
			pol := store.Policy{MaxAttempts: 1}
			recs, err := st.Chunk(ctx, c, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range recs {
				if res, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Token: r.ID}}, pol, time.Now()); err != nil || first(res).Result != store.ClaimOK {
					t.Fatalf("claim %s: %+v %v", r.ID, res, err)
				}
				if _, err := l.Step(ctx, []store.Record{{ID: r.ID, Lang: r.Lang, Kind: tt.kinds[i], Code: "550"}}, nil, pol, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.EndChunk(ctx, c, sum.Stage, 0, 0, true); err != nil {
				t.Fatal(err)
			}
			r := tick(t, st, c, sum, store.TickParams{})
			if r.Code != store.TickDone || r.Reason != tt.want {
				t.Errorf("last tick %+v, want done: %q", r, tt.want)
			}
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			var sum2 int64
			for _, n := range regexp.MustCompile(`\d+`).FindAllString(s.Reason, -1) {
				v, _ := strconv.ParseInt(n, 10, 64)
				sum2 += v
			}
			if s.Reason != tt.want || sum2 != s.Total {
				t.Errorf("status reason %q adds up to %d, want %q, adding up to the total %d", s.Reason, sum2, tt.want, s.Total)
			}
		})
	}
}
