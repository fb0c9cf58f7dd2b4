package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestClaimAnswersTheRecipientsItFindsInDoubt: a worker claims three
// recipients, records one sent and dies holding the other two. The next
// claim of all five records those two in doubt and says so in its answer
// (InDoubt, still ClaimSkip: never sent again), so that the claiming worker
// counts them in tidings_messages_total{outcome="in-doubt"}; the recipient
// sent and the ones it claims anew are not in doubt. Before, the answer was
// a plain SKIP, the same as for a recipient with an outcome, and no
// worker counted them. A claim of them later (another worker, or the same
// step run again after its answer was lost) finds them in doubt already and
// does not say so again: they are counted once.
func TestClaimAnswersTheRecipientsItFindsInDoubt(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	pol := store.Policy{MaxAttempts: 3}
	sum, l, recs := oneChunk(t, st, "c-indoubt-answer")
	claims := func(tok string, rs ...store.Recipient) []store.Claim {
		cs := make([]store.Claim, len(rs))
		for i, r := range rs {
			cs[i] = store.Claim{ID: r.ID, Lang: r.Lang, Token: tok + r.ID}
		}
		return cs
	}
	res, err := l.Step(ctx, nil, claims("dead/", recs[:3]...), pol, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range res.Claims {
		if a.Result != store.ClaimOK || a.InDoubt {
			t.Fatalf("the first worker's claim %d: %+v, want OK", i, a)
		}
	}
	record(t, l, recs[0], store.KindSent, "dead/"+recs[0].ID, pol, time.Now())
	// The first worker dies holding recs[1] and recs[2].
	next := claims("next/", recs...)
	want := []store.ClaimAnswer{
		{Result: store.ClaimSkip, Attempt: 1},                // sent
		{Result: store.ClaimSkip, Attempt: 1, InDoubt: true}, // held by the dead claim
		{Result: store.ClaimSkip, Attempt: 1, InDoubt: true},
		{Result: store.ClaimOK, Attempt: 1},
		{Result: store.ClaimOK, Attempt: 1},
	}
	for try, what := range []string{"the next claim", "the same step run again"} {
		res, err = l.Step(ctx, nil, next, pol, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range res.Claims {
			if a != want[i] {
				t.Fatalf("%s, claim of recs[%d]: %+v, want %+v", what, i, a, want[i])
			}
		}
		if try == 0 {
			want[1].InDoubt, want[2].InDoubt = false, false // recorded in doubt already
		}
	}
	res, err = l.Step(ctx, nil, claims("third/", recs[1:3]...), pol, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range res.Claims {
		if a != (store.ClaimAnswer{Result: store.ClaimSkip, Attempt: 1}) {
			t.Fatalf("a third claim of recs[%d], in doubt already: %+v, want a plain SKIP", i+1, a)
		}
	}
	s, err := st.Status(ctx, "c-indoubt-answer")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeInDoubt] != 2 || s.Counts[store.OutcomeSent] != 1 {
		t.Fatalf("status counts %v, want 2 in doubt and 1 sent (stage %s)", s.Counts, sum.Stage)
	}
}
