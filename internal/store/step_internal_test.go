package store

import (
	"context"
	"fmt"
	"strings"
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

// TestStepRefusesATokenWithABar: a claim's token is the last field of its
// ledger entry ("sending|1|<ms>|||<token>"), which lua/step.lua's hot path
// tells by its suffix: a token with a '|' could end with "|||" and another
// token ("w|||a/1" ends with "|||a/1"), and the record of that other
// claim would be written sent over a claim it does not hold. Step refuses
// such a token, in a claim or a record, and writes nothing.
func TestStepRefusesATokenWithABar(t *testing.T) {
	t.Parallel()
	s, l := releasedTwoChunks(t, "bar")
	ctx, p := context.Background(), Policy{MaxAttempts: 3}
	// The claim of worker "w|||a" (held by its token), then the record
	// sent of worker "a"'s claim "a/1", never made.
	for _, tt := range []struct {
		name string
		recs []Record
		cls  []Claim
	}{
		{"claim", nil, []Claim{{ID: "r0", Lang: "de", Token: "w|||a/1"}}},
		{"record", []Record{{ID: "r0", Lang: "de", Kind: KindSent, Code: "250", Response: "ok", Token: "x|a/1"}}, nil},
		{"unclaim", []Record{{ID: "r0", Lang: "de", Kind: KindUnclaim, Token: "|"}}, nil},
	} {
		_, err := l.Step(ctx, tt.recs, tt.cls, p, time.Now())
		if err == nil || !strings.Contains(err.Error(), "'|'") {
			t.Errorf("%s with a token holding '|': error %v, want one naming the '|'", tt.name, err)
		}
	}
	es, err := s.Entries(ctx, "bar", []string{"r0"})
	if err != nil {
		t.Fatal(err)
	}
	if es[0].State != "" {
		t.Errorf("r0 %+v after steps refused, want no entry", es[0])
	}
}

// TestStepHotPathTellsTheWholeToken: a record sent whose token is only a
// suffix of the token of the claim that holds the recipient ("a/1" of
// "xa/1", of "w|||a/1" written before tokens were checked, of "|a/1") is
// stale: it changes nothing, as lua/step.lua's general path (parse)
// decides; the hot path writes sent only over the first attempt of the
// record's own claim, and an entry of another attempt (sending|10|...)
// takes the general path.
func TestStepHotPathTellsTheWholeToken(t *testing.T) {
	t.Parallel()
	s, l := releasedTwoChunks(t, "suffix")
	ctx, p := context.Background(), Policy{MaxAttempts: 20}
	ms := time.Now().UnixMilli()
	for _, tt := range []struct {
		entry, tok   string
		want, wantSt string // Recorded, the entry's state after
	}{
		{"sending|1|%d|||w|||a/1", "a/1", "", "sending"},
		{"sending|1|%d||||a/1", "a/1", "", "sending"},
		{"sending|1|%d|||xa/1", "a/1", "", "sending"},
		{"sending|1|%d|||a/1", "a/1", "sent", "sent"},
		{"sending|10|%d|||a/1", "a/1", "sent", "sent"},
		{"sending|1|%d|||a/1\x00ä\xff", "a/1\x00ä\xff", "sent", "sent"}, // bytes, not only text
	} {
		entry, tok := fmt.Sprintf(tt.entry, ms), tt.tok
		if err := s.rdb.HSet(ctx, l.k.ledger, "r1", entry).Err(); err != nil {
			t.Fatal(err)
		}
		r, err := l.Step(ctx, []Record{{ID: "r1", Lang: "de", Kind: KindSent, Code: "250", Response: "ok", Token: tok}}, nil, p, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		es, err := s.Entries(ctx, "suffix", []string{"r1"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Recorded[0] != tt.want || es[0].State != tt.wantSt {
			t.Errorf("record sent of %q over %q: recorded %q, entry %+v; want %q, state %s", tok, entry, r.Recorded[0], es[0], tt.want, tt.wantSt)
		}
	}
}
