package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestCountersAreHashTables: a staging leaves the campaign's counters
// (counts, bstats, persec) hash tables on a redis-server of the default
// configuration, and they stay so through the ledger steps and a
// re-staging, so that each of a step's increments finds its field by hash
// instead of scanning a listpack (docs/benchmarks.md, "The counters as
// hash tables");
// status shows no counter of the field that makes them so.
func TestCountersAreHashTables(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	if r.Embedded {
		t.Skip("the embedded Redis has no OBJECT ENCODING; CI runs this on redis-server")
	}
	rdb := r.Client()
	st := store.New(rdb)
	ctx := context.Background()
	c := "c-table"
	encodings := func(when string) {
		t.Helper()
		for _, k := range []string{"counts", "bstats", "persec"} {
			key := "tidings:{" + c + "}:" + k
			if enc, err := rdb.ObjectEncoding(ctx, key).Result(); err != nil || enc != "hashtable" {
				t.Errorf("%s: %s is %q (%v), want a hashtable", when, key, enc, err)
			}
		}
	}
	sum := stage(t, st, c, stageOpts{n: 6, size: 6})
	encodings("staged")
	tick(t, st, c, sum, store.TickParams{})
	l := st.Ledger(c, sum.Stage)
	p := store.Policy{MaxAttempts: 3, Sender: "run|w1"}
	cls := []store.Claim{{ID: "r0", Lang: "de", Token: "w1/1"}, {ID: "r1", Lang: "fr", Token: "w1/2"}}
	if _, err := l.Step(ctx, nil, cls, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	recs := []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250", Token: "w1/1"},
		{ID: "r1", Lang: "fr", Kind: store.KindSent, Code: "250", Token: "w1/2"}}
	if _, err := l.Step(ctx, recs, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	encodings("after two steps")
	// The rate's trim keeps the field (it is no second).
	if err := st.TrimRate(ctx, c, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	encodings("after a trim of the rate")
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Counts["_"]; ok || s.Counts[store.OutcomeSent] != 2 {
		t.Errorf("status counts %v, want 2 sent and no counter named _", s.Counts)
	}
	if _, _, err := st.Cancel(ctx, c, who, "stop"); err != nil {
		t.Fatal(err)
	}
	if again := stage(t, st, c, stageOpts{n: 6, size: 6, resume: true}); again.Kept != 2 {
		t.Fatalf("staged again: %+v, want the 2 sent kept", again)
	}
	encodings("staged again")
}
