package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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
// answers its four values and nothing more; a temporary failure answers
// its outcome (deferred).
func TestStepAnswersNoMoreForWhatItWroteAsAsked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, l := releasedTwoChunks(t, "hot")
	p := Policy{MaxAttempts: 3}
	for _, tt := range []struct {
		kind Kind
		want int // values answered: state, auto-pause reason, sent, claims; then a pair a record
	}{{KindSent, 4}, {KindTemp, 6}} {
		id := "r0"
		if tt.kind == KindTemp {
			id = "r1"
		}
		if _, err := l.Step(ctx, nil, []Claim{{ID: id, Lang: "de", Token: "a"}}, p, time.Now()); err != nil {
			t.Fatal(err)
		}
		ks, args, _, _ := l.script([]*stepCall{{recs: []Record{{ID: id, Lang: "de", Kind: tt.kind, Token: "a"}}, p: p, now: time.Now()}})
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
	return releasedTwoChunksOn(t, New(redistest.Start(t).Client()), c)
}

// releasedTwoChunksOn is releasedTwoChunks with the store s.
func releasedTwoChunksOn(t *testing.T, s *Store, c string) (*Store, *Ledger) {
	t.Helper()
	sum := stageTwoChunks(t, s, c)
	if r, err := s.Tick(context.Background(), c, TickParams{Stage: sum.Stage}, time.Now()); err != nil || r.Code != TickReleased {
		t.Fatalf("tick: %+v, %v; want batch 0 released", r, err)
	}
	return s, s.Ledger(c, sum.Stage)
}

// StepArgs is the ARGV of lua/step.lua that Ledger.script makes: hdr (its
// first 9 values), then ops, each a Record or a Claim, in order (for
// TestStepMatchesReference, whose operations mix them).
func StepArgs(hdr []any, ops []any) []any {
	var e stepOps
	e.add(ops)
	return e.args(hdr...)
}

// add readies e for ops, each a Record or a Claim, and adds them in order.
func (e *stepOps) add(ops []any) {
	e.grow(len(ops))
	for _, o := range ops {
		switch o := o.(type) {
		case Record:
			e.record(&o)
		case Claim:
			e.claim(&o)
		}
	}
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

// TestStepHotPathTellsTheWholeTokenInOneCall: lua/step.lua tells a hot
// record after the first of a call by comparing its claim's entry with the
// last one it told whole, its token replaced (claimedPre): a record whose
// token only ends its claim's, or whose claim holds another "|||", is still
// told from a whole one when it comes after records told whole in the
// same call, and the records after it are still sent.
func TestStepHotPathTellsTheWholeTokenInOneCall(t *testing.T) {
	t.Parallel()
	s, l := releasedTwoChunks(t, "suffix1")
	ctx := context.Background()
	ms := time.Now().UnixMilli()
	ops := []struct {
		id, entry, tok string
		want           string // Recorded
	}{
		{"h1", "sending|1|%d|||a/1", "a/1", "sent"},
		{"h2", "sending|1|%d|||xa/2", "a/2", ""},
		{"h3", "sending|1|%d|||a/3", "a/3", "sent"},
		{"h4", "sending|1|%d|||w|||a/4", "a/4", ""},
		{"h5", "sending|1|%d|||a/5", "a/5", "sent"},
		{"h6", "sending|1|%d|||||a/6", "a/6", ""},
		{"h7", "sending|1|%d|||a/7", "a/7", "sent"},
	}
	var recs []Record
	for _, o := range ops {
		if err := s.rdb.HSet(ctx, l.k.ledger, o.id, fmt.Sprintf(o.entry, ms)).Err(); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, Record{ID: o.id, Lang: "de", Kind: KindSent, Code: "250", Response: "ok", Token: o.tok})
	}
	r, err := l.Step(ctx, recs, nil, Policy{MaxAttempts: 20}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range ops {
		if r.Recorded[i] != o.want {
			t.Errorf("record sent of %q over %q (after %d records in the call): recorded %q, want %q", o.tok, o.entry, i, r.Recorded[i], o.want)
		}
	}
}

// TestReadStepAnswerFailsClosed: Ledger.exec takes a claim lua/step.lua
// says nothing of for OK at attempt 1, so an answer it cannot read whole,
// or that does not account for every claim it sent, is an error (the
// callers send nobody), never claims taken OK. Answers of a call of 2
// records and 3 claims.
func TestReadStepAnswerFailsClosed(t *testing.T) {
	t.Parallel()
	ok1 := ClaimAnswer{Result: ClaimOK, Attempt: 1}
	for _, tt := range []struct {
		name   string
		answer any
		want   []ClaimAnswer // nil: an error
		wrote  map[int]string
	}{
		{"hot path", []any{"running", "", int64(7), int64(3)}, []ClaimAnswer{ok1, ok1, ok1}, nil},
		{"mixed", []any{"running", "", int64(7), int64(3), int64(1), "deferred", int64(-2), int64(ClaimSkip), int64(2), int64(2), "", int64(-3), int64(ClaimOK), int64(2)},
			[]ClaimAnswer{ok1, {Result: ClaimSkip, Attempt: 2}, {Result: ClaimOK, Attempt: 2}}, map[int]string{1: "deferred", 2: ""}},
		{"gone", []any{"", "", int64(-1), int64(3), int64(-1), int64(ClaimGone), int64(0), int64(-2), int64(ClaimGone), int64(0), int64(-3), int64(ClaimGone), int64(0)},
			[]ClaimAnswer{{Result: ClaimGone}, {Result: ClaimGone}, {Result: ClaimGone}}, nil},
		{"in doubt", []any{"running", "", int64(7), int64(3), int64(-2), int64(claimInDoubt), int64(2)},
			[]ClaimAnswer{ok1, {Result: ClaimSkip, Attempt: 2, InDoubt: true}, ok1}, nil},
		{"not a list", "OK", nil, nil},
		{"nothing", []any{}, nil, nil},
		{"no claim count", []any{"running", "", int64(7)}, nil, nil},
		{"fewer claims seen", []any{"running", "", int64(7), int64(2)}, nil, nil},
		{"more claims seen", []any{"running", "", int64(7), int64(4)}, nil, nil},
		{"claim count not a number", []any{"running", "", int64(7), "3"}, nil, nil},
		{"state not a string", []any{int64(1), "", int64(7), int64(3)}, nil, nil},
		{"sent not a number", []any{"running", "", "7", int64(3)}, nil, nil},
		{"truncated triple", []any{"running", "", int64(7), int64(3), int64(-1), int64(ClaimStop)}, nil, nil},
		{"truncated pair", []any{"running", "", int64(7), int64(3), int64(1)}, nil, nil},
		{"result not a number", []any{"running", "", int64(7), int64(3), int64(-1), "3", int64(0)}, nil, nil},
		{"result unknown", []any{"running", "", int64(7), int64(3), int64(-1), int64(9), int64(0)}, nil, nil},
		{"result past in doubt", []any{"running", "", int64(7), int64(3), int64(-1), int64(claimInDoubt + 1), int64(1)}, nil, nil},
		{"result none", []any{"running", "", int64(7), int64(3), int64(-1), int64(ClaimNone), int64(0)}, nil, nil},
		{"attempt not a number", []any{"running", "", int64(7), int64(3), int64(-1), int64(ClaimStop), "0"}, nil, nil},
		{"OK at attempt 0", []any{"running", "", int64(7), int64(3), int64(-1), int64(ClaimOK), int64(0)}, nil, nil},
		{"claim 0", []any{"running", "", int64(7), int64(3), int64(0), int64(ClaimStop), int64(0)}, nil, nil},
		{"claim past the last", []any{"running", "", int64(7), int64(3), int64(-4), int64(ClaimStop), int64(0)}, nil, nil},
		{"claim twice", []any{"running", "", int64(7), int64(3), int64(-1), int64(ClaimStop), int64(0), int64(-1), int64(ClaimOK), int64(1)}, nil, nil},
		{"claims out of order", []any{"running", "", int64(7), int64(3), int64(-2), int64(ClaimStop), int64(0), int64(-1), int64(ClaimStop), int64(0)}, nil, nil},
		{"record past the last", []any{"running", "", int64(7), int64(3), int64(3), "deferred"}, nil, nil},
		{"record twice", []any{"running", "", int64(7), int64(3), int64(1), "deferred", int64(1), "failed"}, nil, nil},
		{"outcome not a string", []any{"running", "", int64(7), int64(3), int64(1), int64(2)}, nil, nil},
		{"number not a number", []any{"running", "", int64(7), int64(3), "-1", int64(ClaimStop), int64(0)}, nil, nil},
	} {
		a, err := readStepAnswer(tt.answer, 2, 3)
		switch {
		case tt.want == nil && err == nil:
			t.Errorf("%s: %v read as claims %+v, want an error", tt.name, tt.answer, a.claims)
		case tt.want != nil && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != nil && (fmt.Sprint(a.claims) != fmt.Sprint(tt.want) || fmt.Sprint(a.wrote) != fmt.Sprint(tt.wrote)):
			t.Errorf("%s: claims %+v, wrote %v; want %+v, %v", tt.name, a.claims, a.wrote, tt.want, tt.wrote)
		}
	}
}

// TestStepAnswerAccountsForEveryClaim: a step whose script ran fewer
// operations than were sent (the shape, ARGV[10], one operation short:
// its last claim never seen) fails: an error, not the unseen claim taken
// OK.
func TestStepAnswerAccountsForEveryClaim(t *testing.T) {
	t.Parallel()
	s, l := releasedTwoChunks(t, "short")
	ctx := context.Background()
	ks, args, _, nclaims := l.script([]*stepCall{{cls: []Claim{{ID: "r0", Lang: "de", Token: "a"}, {ID: "r1", Lang: "de", Token: "b"}}, p: Policy{MaxAttempts: 3}, now: time.Now()}})
	args[9] = args[9].(string)[:7]
	v, _, err := s.eval(ctx, stepScript, ks, args...)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := readStepAnswer(v, 0, nclaims); err == nil {
		t.Errorf("an answer %v of %d claims sent read as claims %+v, want an error", v, nclaims, a.claims)
	}
}

// TestStepGroupCommitAnswersEachClaim: three callers' steps ride in one
// script call, their records and claims interleaved (A records, A claims,
// B claims, C records, C claims), with claims answered STOP (a batch not
// released), SKIP (sent already; held by another claim: now in doubt, and
// said so: InDoubt) and
// OK (new; a deferred recipient's second attempt) among the first
// attempts OK: each caller gets the answers of its own claims, in order.
// Then, with the campaign paused, cancelled, awaiting approval, done,
// staged anew or gone, no claim of such a call is OK.
func TestStepGroupCommitAnswersEachClaim(t *testing.T) {
	t.Parallel()
	s, l := releasedTwoChunks(t, "group")
	ctx, p, now := context.Background(), Policy{MaxAttempts: 3}, time.Now()
	ms := now.UnixMilli()
	for id, e := range map[string]string{"s": "sending|1|%d|||a", "h": "sending|1|%d|||other", "d": "deferred|1|%d||t|later", "t": "sending|1|%d|||tmp"} {
		if err := s.rdb.HSet(ctx, l.k.ledger, id, fmt.Sprintf(e, ms)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ok1 := ClaimAnswer{Result: ClaimOK, Attempt: 1}
	calls := []*stepCall{
		{recs: []Record{{ID: "s", Lang: "de", Kind: KindSent, Code: "250", Response: "ok", Token: "a"}, {ID: "t", Lang: "de", Kind: KindTemp, Code: "451", Response: "later", Token: "tmp"}},
			cls: []Claim{{ID: "n1", Lang: "de", Token: "c1"}, {ID: "u", Lang: "de", Batch: 1, Token: "c2"}, {ID: "n2", Lang: "fr", Token: "c3"}}},
		{cls: []Claim{{ID: "s", Lang: "de", Token: "c4"}, {ID: "n3", Lang: "de", Token: "c5"}, {ID: "h", Lang: "de", Token: "c6"}}},
		{recs: []Record{{ID: "s", Lang: "de", Kind: KindSent, Code: "250", Response: "ok", Token: "a"}},
			cls: []Claim{{ID: "d", Lang: "de", Token: "c7"}, {ID: "n4", Lang: "de", Token: "c8"}, {ID: "n1", Lang: "de", Token: "c9"}}},
	}
	want := [][]ClaimAnswer{
		{ok1, {Result: ClaimStop}, ok1},
		{{Result: ClaimSkip, Attempt: 1}, ok1, {Result: ClaimSkip, Attempt: 1, InDoubt: true}},
		{{Result: ClaimOK, Attempt: 2}, ok1, {Result: ClaimSkip, Attempt: 1, InDoubt: true}}, // n1: held by c1
	}
	for _, c := range calls {
		c.p, c.now = p, now
	}
	if err := l.exec(ctx, calls); err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		if c.err != nil || fmt.Sprint(c.res.Claims) != fmt.Sprint(want[i]) {
			t.Errorf("caller %d: claims %+v, %v; want %+v", i, c.res.Claims, c.err, want[i])
		}
	}
	if r := calls[0].res.Recorded; fmt.Sprint(r) != "[sent deferred]" {
		t.Errorf("caller 0 recorded %q, want [sent deferred]", r)
	}
	if r := calls[2].res.Recorded; fmt.Sprint(r) != "[]" {
		t.Errorf("caller 2 recorded %q, want [] (its record came again: it changed nothing)", r)
	}

	for _, tt := range []struct {
		state, stage string // control's; "" state: gone
		want         ClaimResult
	}{
		{"paused", l.stage, ClaimStop},
		{"cancelled", l.stage, ClaimStop},
		{"awaiting-approval", l.stage, ClaimStop},
		{"done", l.stage, ClaimStop},
		{"running", "another", ClaimStale},
		{"", "", ClaimGone},
	} {
		if tt.state == "" {
			if err := s.rdb.Del(ctx, l.k.control).Err(); err != nil {
				t.Fatal(err)
			}
		} else if err := s.rdb.HSet(ctx, l.k.control, "state", tt.state, "stage", tt.stage).Err(); err != nil {
			t.Fatal(err)
		}
		calls := []*stepCall{
			{recs: []Record{{ID: "n2", Lang: "fr", Kind: KindSent, Code: "250", Response: "ok", Token: "c3"}}, cls: []Claim{{ID: "m1", Lang: "de", Token: "x1"}}, p: p, now: now},
			{cls: []Claim{{ID: "m2", Lang: "de", Token: "x2"}, {ID: "n3", Lang: "de", Token: "c5"}}, p: p, now: now},
		}
		if err := l.exec(ctx, calls); err != nil {
			t.Fatal(err)
		}
		for i, c := range calls {
			for j, a := range c.res.Claims {
				if a.Result != tt.want {
					t.Errorf("campaign %s (stage %q): caller %d's claim %d answered %+v, want result %d", tt.state, tt.stage, i, j, a, tt.want)
				}
			}
		}
	}
}

// TestStepManyPairsAndReplies: lua/step.lua names an operation's
// (language, batch) and reply by 3-byte indexes: a call of 70,000 claims
// each in its own language (more than 65,536 pairs), then of their
// records sent each with its own reply, writes each recipient's own reply
// and counts each language once, ids and replies holding '|', NUL and
// multibyte UTF-8.
func TestStepManyPairsAndReplies(t *testing.T) {
	// Not parallel, and with no read deadline: on a loaded machine the
	// 70,000-operation script outlasts go-redis's 3 s default, whose retry
	// then meets BUSY (the script still running), and the other tests of
	// the shared server would meet BUSY too. A real step names a window.
	o := redistest.Start(t).Options()
	o.ReadTimeout = -1
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	s, l := releasedTwoChunksOn(t, New(rdb), "many")
	ctx, p := context.Background(), Policy{MaxAttempts: 3}
	const n = 70000
	id := func(i int) string { return fmt.Sprintf("r|%d\x00ä", i) }
	cls, recs := make([]Claim, n), make([]Record, n)
	for i := range n {
		cls[i] = Claim{ID: id(i), Lang: fmt.Sprintf("l%d", i), Token: fmt.Sprintf("t%d", i)}
		recs[i] = Record{ID: id(i), Lang: cls[i].Lang, Kind: KindSent, Code: "250", Response: fmt.Sprintf("ok|%d\x00ü", i), Token: cls[i].Token}
	}
	r, err := l.Step(ctx, nil, cls, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range r.Claims {
		if a.Result != ClaimOK || a.Attempt != 1 {
			t.Fatalf("claim %d answered %+v, want OK at attempt 1", i, a)
		}
	}
	if _, err := l.Step(ctx, recs, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 255, 256, 65535, 65536, 65537, n - 1} {
		v, err := s.rdb.HGet(ctx, l.k.ledger, id(i)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("|250||ok|%d\x00ü", i); !strings.HasPrefix(v, "sent|1|") || !strings.HasSuffix(v, want) {
			t.Errorf("recipient %d: entry %q, want sent with reply %q", i, v, want)
		}
		if c, err := s.rdb.HGet(ctx, l.k.counts, fmt.Sprintf("lang:l%d:sent", i)).Result(); err != nil || c != "1" {
			t.Errorf("language l%d: sent %q, %v; want 1", i, c, err)
		}
	}
}

// TestStepScriptAllocations: encoding a step's operations allocates the
// same whatever their number (the ids and tokens go to go-redis as
// pointers to the operations' own strings; made an any, each string was
// an allocation: four per message, a record and a claim). It compares
// 16 and 64 of each, not 1: the set of the ids named (to tell the script
// whether one is named twice) is one map sized for the call, which takes
// two more allocations past 8 entries, not more per operation.
func TestStepScriptAllocations(t *testing.T) {
	l := &Ledger{k: keysFor("c"), stage: "s"}
	call := func(n int) *stepCall {
		c := &stepCall{p: Policy{MaxAttempts: 3}, now: time.Now()}
		for i := range n {
			id := "r" + strconv.Itoa(i)
			c.recs = append(c.recs, Record{ID: id, Lang: "de", Kind: KindSent, Token: "a/" + id, Code: "250", Response: "2.0.0 Ok"})
			c.cls = append(c.cls, Claim{ID: id, Lang: "de", Token: "b/" + id})
		}
		return c
	}
	allocs := func(n int) float64 {
		calls := []*stepCall{call(n)}
		return testing.AllocsPerRun(50, func() { l.script(calls) })
	}
	if few, many := allocs(16), allocs(64); many != few {
		t.Errorf("a step of 16 records and 16 claims allocates %.0f times, of 64 and 64 %.0f: want the same", few, many)
	}
}

// TestTokenPrefix: the beginning every token of a call shares is passed
// once (lua/step.lua's TP) only when each token is longer than it, so that
// no token is left empty (an empty token is a record without one).
func TestTokenPrefix(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		toks []string
		tp   string
		rest []string
	}{
		{[]string{"w-1/a", "w-1/b", "w-1/1z"}, "w-1/", []string{"a", "b", "1z"}},
		{[]string{"w-1/10", "w-1/11"}, "w-1/1", []string{"0", "1"}},
		{[]string{"w-1/", "w-1/a"}, "w-1", []string{"/", "/a"}}, // one token is all of the other's beginning
		{[]string{"w-1/a", "w-1/a"}, "w-1/", []string{"a", "a"}},
		{[]string{"w-1/a", ""}, "", []string{"w-1/a", ""}}, // a record without a token
		{[]string{"a", "b"}, "", []string{"a", "b"}},
		{[]string{"w-1/a"}, "", []string{"w-1/a"}}, // one operation: nothing to share
	} {
		var e stepOps
		e.grow(len(c.toks))
		for i := range c.toks {
			e.claim(&Claim{ID: fmt.Sprint("r", i), Lang: "en", Token: c.toks[i]})
		}
		tp, rest := e.tokenPrefix()
		var got []string
		for _, r := range rest {
			got = append(got, *r.(*string))
		}
		if tp != c.tp || !slices.Equal(got, c.rest) {
			t.Errorf("tokens %q: prefix %q, rest %q; want %q, %q", c.toks, tp, got, c.tp, c.rest)
		}
	}
}
