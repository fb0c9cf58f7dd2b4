package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStepAnswersWhatItRecorded: a step answers, for each of its records,
// the outcome the ledger wrote, which the worker labels its metric and
// journal line with: not always what it asked for (a temporary failure is
// deferred, failed or cancelled; a record whose claim no longer holds the
// recipient changes nothing; a give-back makes it pending, deferred or
// cancelled).
func TestStepAnswersWhatItRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type op struct {
		claim  string     // a claim of r<id>: "<id>/<token>"
		kind   store.Kind // else a record of kind for the claim tok of r<id>
		rec    string     // "<id>/<token>"
		cancel bool       // else a cancel of the campaign
	}
	claim := func(s string) op { return op{claim: s} }
	rec := func(k store.Kind, s string) op { return op{kind: k, rec: s} }
	cancel := op{cancel: true}
	for i, tt := range []struct {
		name   string
		max    int  // the policy's attempts
		before []op // steps before the one whose answer is checked
		last   []op // the records of the step checked
		stale  bool // the step checked is of a staging no longer the campaign's
		want   []string
	}{
		{name: "sent", max: 3, before: []op{claim("0/a")}, last: []op{rec(store.KindSent, "0/a")}, want: []string{"sent"}},
		{name: "permanent failure", max: 3, before: []op{claim("0/a")}, last: []op{rec(store.KindFailed, "0/a")}, want: []string{"failed"}},
		{name: "temporary failure with attempts left", max: 3, before: []op{claim("0/a")}, last: []op{rec(store.KindTemp, "0/a")}, want: []string{"deferred"}},
		{name: "temporary failure on the last attempt", max: 1, before: []op{claim("0/a")}, last: []op{rec(store.KindTemp, "0/a")}, want: []string{"failed"}},
		{name: "temporary failure after a cancel", max: 3, before: []op{claim("0/a"), cancel}, last: []op{rec(store.KindTemp, "0/a")}, want: []string{"cancelled"}},
		{name: "late temporary failure of a claim another pass found in doubt", max: 3,
			before: []op{claim("0/second"), claim("0/first")}, last: []op{rec(store.KindTemp, "0/second")}, want: []string{"failed"}},
		{name: "late delivery of a claim another pass found in doubt", max: 3,
			before: []op{claim("0/second"), claim("0/first")}, last: []op{rec(store.KindSent, "0/second")}, want: []string{"sent"}},
		{name: "the same record again", max: 3, before: []op{claim("0/a"), rec(store.KindSent, "0/a")}, last: []op{rec(store.KindSent, "0/a")}, want: []string{""}},
		{name: "record of an earlier claim", max: 3, before: []op{claim("0/a"), rec(store.KindTemp, "0/a"), claim("0/b")},
			last: []op{rec(store.KindTemp, "0/a")}, want: []string{""}},
		{name: "give-back of a first claim", max: 3, before: []op{claim("0/a")}, last: []op{rec(store.KindUnclaim, "0/a")}, want: []string{"pending"}},
		{name: "give-back of a second claim", max: 3, before: []op{claim("0/a"), rec(store.KindTemp, "0/a"), claim("0/b")},
			last: []op{rec(store.KindUnclaim, "0/b")}, want: []string{"deferred"}},
		{name: "give-back after a cancel", max: 3, before: []op{claim("0/a"), cancel}, last: []op{rec(store.KindUnclaim, "0/a")}, want: []string{"cancelled"}},
		{name: "give-back of no claim", max: 3, last: []op{rec(store.KindUnclaim, "0/a")}, want: []string{""}},
		{name: "several records, in order", max: 3, before: []op{claim("0/second"), claim("0/first"), claim("1/a"), claim("2/a")},
			last: []op{rec(store.KindSent, "1/a"), rec(store.KindTemp, "0/second"), rec(store.KindSent, "2/a")}, want: []string{"sent", "failed", "sent"}},
		{name: "staged anew", max: 3, before: []op{claim("0/a")}, last: []op{rec(store.KindSent, "0/a")}, stale: true, want: []string{""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := fmt.Sprint("c-recorded-", i)
			st, _, l := released(t, c, 3, 5)
			pol := store.Policy{MaxAttempts: tt.max}
			record := func(o op) store.Record {
				id, tok, _ := strings.Cut(o.rec, "/")
				code := map[store.Kind]string{store.KindTemp: "451 4.7.1", store.KindFailed: "550 5.1.1"}[o.kind]
				return store.Record{ID: "r" + id, Lang: "de", Kind: o.kind, Code: code, Token: tok}
			}
			for _, o := range tt.before {
				var err error
				switch {
				case o.cancel:
					_, _, err = st.Cancel(ctx, c, who, "test")
				case o.claim != "":
					id, tok, _ := strings.Cut(o.claim, "/")
					_, err = l.Step(ctx, nil, []store.Claim{{ID: "r" + id, Lang: "de", Token: tok}}, pol, time.Now())
				default:
					_, err = l.Step(ctx, []store.Record{record(o)}, nil, pol, time.Now())
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			var recs []store.Record
			for _, o := range tt.last {
				recs = append(recs, record(o))
			}
			if tt.stale {
				l = st.Ledger(c, "an-earlier-staging")
			}
			res, err := l.Step(ctx, recs, nil, pol, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Recorded, tt.want) {
				t.Errorf("the step answers it recorded %q, want %q", res.Recorded, tt.want)
			}
			// What it answers is what the ledger holds (pending: no
			// entry), but of a record that changed nothing.
			for j, want := range res.Recorded {
				es, err := st.Entries(ctx, c, []string{recs[j].ID})
				if err != nil {
					t.Fatal(err)
				}
				if got := cmp.Or(es[0].State, "pending"); want != "" && got != want {
					t.Errorf("%s: the ledger holds %q, the step answered %q", recs[j].ID, got, want)
				}
			}
		})
	}
}
