package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestErrorGroupsRetriesExhausted: of a group of temporary failures,
// Status counts the recipients failed now because their retries ran out
// (Exhausted), not those waiting for a retry nor a permanent failure's;
// once a retry re-queues them, none.
func TestErrorGroupsRetriesExhausted(t *testing.T) {
	t.Parallel()
	st, _, l := released(t, "ex", 3, 5)
	ctx, pol := context.Background(), store.Policy{MaxAttempts: 2}
	try := func(id, lang, tok string, k store.Kind, code string) {
		t.Helper()
		if _, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: lang, Token: tok}}, pol, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: lang, Kind: k, Code: code, Response: "x", Token: tok}}, nil, pol, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	try("r0", "de", "a", store.KindTemp, "451") // deferred: retried
	try("r1", "fr", "b", store.KindTemp, "451")
	try("r1", "fr", "c", store.KindTemp, "451") // its second attempt of 2: failed
	try("r2", "en", "d", store.KindFailed, "550")
	groups := func() map[string]store.ErrorGroup {
		t.Helper()
		s, err := st.Status(ctx, "ex")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]store.ErrorGroup{}
		for _, g := range s.Errors {
			m[g.Code] = g
		}
		return m
	}
	if g := groups(); g["451"].Count != 3 || g["451"].Exhausted != 1 || g["550"].Exhausted != 0 {
		t.Fatalf("groups %+v, want 451 seen 3 times with 1 recipient's retries exhausted, 550 none", g)
	}
	if retried, err := st.Requeue(ctx, "ex", who, store.RetryScope{}); err != nil || retried.N != 1 {
		t.Fatalf("retry: %d, %v; want r1 re-queued", retried.N, err)
	}
	if g := groups(); g["451"].Exhausted != 0 {
		t.Errorf("after a retry re-queued it: %+v, want no retries exhausted", g["451"])
	}
}
