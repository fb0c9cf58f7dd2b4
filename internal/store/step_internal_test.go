package store

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestStepClaimThenGiveBackInOneCall: two callers' steps ride in one script
// call (group commit); when the first claims a recipient and the second
// gives that claim back, the recipient is pending again, as if the two had
// been separate calls: the give-back's delete comes after the claim's write.
func TestStepClaimThenGiveBackInOneCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(redistest.Start(t).Client())
	sum := stageTwoChunks(t, s, "gc")
	if r, err := s.Tick(ctx, "gc", TickParams{Stage: sum.Stage}, time.Now()); err != nil || r.Code != TickReleased {
		t.Fatalf("tick: %+v, %v; want batch 0 released", r, err)
	}
	l := s.Ledger("gc", sum.Stage)
	p, now := Policy{MaxAttempts: 3}, time.Now()
	claim := &stepCall{cls: []Claim{{ID: "r0", Lang: "de", Token: "b"}, {ID: "r1", Lang: "de", Token: "c"}}, p: p, now: now}
	giveBack := &stepCall{recs: []Record{{ID: "r0", Lang: "de", Kind: KindUnclaim, Token: "b"}}, p: p, now: now}
	if err := l.exec(ctx, []*stepCall{claim, giveBack}); err != nil {
		t.Fatal(err)
	}
	if a := claim.res.Claims; a[0].Result != ClaimOK || a[1].Result != ClaimOK {
		t.Fatalf("claims %+v, want both OK", a)
	}
	es, err := s.Entries(ctx, "gc", []string{"r0", "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if es[0].State != "" || es[1].State != "sending" {
		t.Errorf("r0 %+v, r1 %+v; want r0 pending again (no entry), r1 sending", es[0], es[1])
	}
}
