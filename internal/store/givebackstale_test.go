package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestGiveBackAcrossAStaging: a window of claims (r0, r1, r2, r4) whose
// campaign was cancelled and staged again (--resume-existing, without r4)
// before it ended gives back the claims it never sent, although its steps
// are stale: r0 and r1, kept in doubt by the new staging, leave its
// in-doubt count and are pending again (their chunk, finished, is no
// longer); r4, in no staging any more, is cancelled, counted by none; r2
// (the one in the SMTP server's hands) stays in doubt, and a give-back
// under another token changes nothing. Once the new staging is cancelled,
// a give-back makes its recipient cancelled, and the counts still add up.
func TestGiveBackAcrossAStaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := startRedis(t)
	st := store.New(rdb)
	const c = "c-stale-giveback"
	a := stage(t, st, c, stageOpts{n: 5, size: 5})
	if r := tick(t, st, c, a, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick: %+v", r)
	}
	old, p := st.Ledger(c, a.Stage), store.Policy{MaxAttempts: 3}
	ids, langs := []string{"r0", "r1", "r2", "r4"}, []string{"de", "fr", "en", "fr"}
	var claims []store.Claim
	for i, id := range ids {
		claims = append(claims, store.Claim{ID: id, Lang: langs[i], Token: "w/" + id})
	}
	if r, err := old.Step(ctx, nil, claims, p, time.Now()); err != nil || len(r.Claims) != 4 || r.Claims[3].Result != store.ClaimOK {
		t.Fatalf("claims: %+v %v", r, err)
	}
	if _, _, err := st.Cancel(ctx, c, who, "wrong recipients file"); err != nil {
		t.Fatal(err)
	}
	b := stage(t, st, c, stageOpts{n: 4, size: 4, resume: true})
	if r := tick(t, st, c, b, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick of the new staging: %+v", r)
	}
	// The new staging's chunk passed over the recipients in doubt.
	if end, err := st.EndChunk(ctx, c, b.Stage, 0, 0, true); err != nil || !end.Recorded {
		t.Fatalf("end chunk: %+v %v", end, err)
	}
	s, err := st.Status(ctx, c)
	if err != nil || s.Counts[store.OutcomeInDoubt] != 3 {
		t.Fatalf("the new staging: %v %v, want 3 in doubt (kept)", s.Counts, err)
	}
	back := func(l *store.Ledger, id, lang, tok string) {
		t.Helper()
		if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: lang, Kind: store.KindUnclaim, Token: tok}}, nil, p, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	back(old, "r0", "de", "w/r0")
	back(old, "r1", "fr", "w/r1")
	back(old, "r4", "fr", "w/r4")
	back(old, "r2", "en", "w/someone-else")
	es, err := st.Entries(ctx, c, ids)
	if err != nil {
		t.Fatal(err)
	}
	if es[0].State != "" || es[1].State != "" || es[2].State != store.OutcomeInDoubt || es[3].State != store.OutcomeCancelled {
		t.Errorf("entries %+v, want r0 and r1 pending (no entry), r2 in doubt, r4 cancelled", es)
	}
	s, err = st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeInDoubt] != 1 || s.Counts[store.OutcomeCancelled] != 0 || s.Counts[store.OutcomePending] != 3 {
		t.Errorf("counts %v, want 1 in doubt, none cancelled (r4 is in no staging), 3 pending", s.Counts)
	}
	if bt := s.Batches[0]; bt.InDoubt != 1 || bt.Attempted != 1 {
		t.Errorf("batch 0: %+v, want 1 in doubt, 1 attempted", bt)
	}
	if fin, err := rdb.SIsMember(ctx, "tidings:{"+c+"}:finished", "0").Result(); err != nil || fin {
		t.Errorf("chunk 0 finished: %v %v, want not: r0 and r1 are pending again", fin, err)
	}

	// The new staging cancelled in turn: r2's give-back makes it
	// cancelled.
	if _, _, err := st.Cancel(ctx, c, who, "stop"); err != nil {
		t.Fatal(err)
	}
	back(old, "r2", "en", "w/r2")
	if es, _ := st.Entries(ctx, c, []string{"r2"}); es[0].State != store.OutcomeCancelled {
		t.Errorf("r2: %+v, want cancelled", es[0])
	}
	s, err = st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeInDoubt] != 0 || s.Counts[store.OutcomeCancelled] != 4 || s.Counts[store.OutcomePending] != 0 {
		t.Errorf("counts %v, want none in doubt, 4 cancelled, none pending", s.Counts)
	}
}
