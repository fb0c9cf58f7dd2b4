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
	s, l := releasedTwoChunks(t, "gc")
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

// TestStepAnswersNoMoreForWhatItWroteAsAsked: the answer of lua/step.lua
// says the outcome it wrote of a record only when it is not the record's
// kind (StepResult.Recorded): a first attempt recorded sent, the hot path,
// answers its three values and nothing more; a temporary failure answers
// its outcome (deferred).
func TestStepAnswersNoMoreForWhatItWroteAsAsked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, l := releasedTwoChunks(t, "hot")
	p := Policy{MaxAttempts: 3}
	for _, tt := range []struct {
		kind Kind
		want int // values answered: state, auto-pause reason, sent; then a pair a record
	}{{KindSent, 3}, {KindTemp, 5}} {
		id := "r0"
		if tt.kind == KindTemp {
			id = "r1"
		}
		if _, err := l.Step(ctx, nil, []Claim{{ID: id, Lang: "de", Token: "a"}}, p, time.Now()); err != nil {
			t.Fatal(err)
		}
		ks, args, _ := l.script([]*stepCall{{recs: []Record{{ID: id, Lang: "de", Kind: tt.kind, Token: "a"}}, p: p, now: time.Now()}})
		v, _, err := s.eval(ctx, stepScript, ks, args...)
		if err != nil {
			t.Fatal(err)
		}
		if res, _ := v.([]any); len(res) != tt.want {
			t.Errorf("a first attempt recorded %s: the step answers %q, want %d values", tt.kind, res, tt.want)
		}
	}
}

// releasedTwoChunks stages campaign c (stageTwoChunks) on a Redis of its
// own, releases its first batch, and returns the store and the ledger.
func releasedTwoChunks(t *testing.T, c string) (*Store, *Ledger) {
	t.Helper()
	s := New(redistest.Start(t).Client())
	sum := stageTwoChunks(t, s, c)
	if r, err := s.Tick(context.Background(), c, TickParams{Stage: sum.Stage}, time.Now()); err != nil || r.Code != TickReleased {
		t.Fatalf("tick: %+v, %v; want batch 0 released", r, err)
	}
	return s, s.Ledger(c, sum.Stage)
}

// StepArgs is the ARGV of lua/step.lua that Ledger.script makes: hdr (its
// first 10 values), then ops, each a Record or a Claim, in order (for
// TestStepMatchesReference, whose operations mix them).
func StepArgs(hdr []any, ops []any) []any {
	var e stepOps
	e.grow(len(ops))
	for _, o := range ops {
		switch o := o.(type) {
		case Record:
			e.record(o)
		case Claim:
			e.claim(o)
		}
	}
	return e.args(hdr...)
}
