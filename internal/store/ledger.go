package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Kind is the result of one delivery attempt, recorded by Step.
type Kind string

// Kinds of recorded results.
const (
	KindSent    Kind = "sent"     // accepted by the SMTP server
	KindFailed  Kind = "failed"   // permanent failure (5xx)
	KindTemp    Kind = "temp"     // temporary failure (4xx, dropped connection): deferred or, after MaxAttempts, failed
	KindRefused Kind = "refused"  // the worker refused it (locale rule, template hash)
	KindInvalid Kind = "invalid"  // the worker cannot render its message (a bad row, as plan calls one): never sent, never retried
	KindSkipped Kind = "skipped"  // not sent by decision
	KindInDoubt Kind = "in-doubt" // the message was sent but no final reply came: it may have been delivered
	// KindUnclaim gives back a claim whose message was not sent (the claim
	// was not acknowledged by the replicas, or the worker is stopping): the
	// recipient is pending again (cancelled when the campaign was
	// cancelled meanwhile).
	KindUnclaim Kind = "unclaim"
)

// Record is the outcome of a recipient claimed by an earlier Step.
type Record struct {
	ID       string
	Lang     string
	Batch    int
	Kind     Kind
	Code     string // SMTP code with enhanced code, e.g. "550 5.1.1"
	Response string // SMTP response text or refusal reason
	// Token is the token of the claim this is the outcome of (Claim.Token):
	// the record applies only while that claim holds the recipient, so that
	// one that comes again later (a step retried, an outage's backlog)
	// cannot overwrite another claim. Without a token (tests, tools) it
	// applies to whatever claim holds the recipient.
	Token string
	// Attempt is the attempt this is the outcome of (the claim's
	// ClaimAnswer.Attempt; 0: not known). Not sent to Redis, whose ledger
	// counts attempts itself: it tells the caller what the step records for
	// a temporary failure (Outcome).
	Attempt int
}

// Outcome is the outcome the ledger records for r under policy p while the
// campaign is in state (as lua/step.lua decides it): a temporary failure
// is deferred (waits for its retry) before its last attempt, failed on it,
// cancelled when the campaign is; "deferred" is not an outcome, and the
// other kinds are recorded as they are. It is what a caller can tell
// before the step: the step's answer (StepResult.Recorded) says what it
// wrote (the late record of a claim another pass found in doubt is
// failed; a record whose claim no longer holds the recipient, nothing).
func (r Record) Outcome(p Policy, state State) string {
	if r.Kind != KindTemp {
		return string(r.Kind)
	}
	switch {
	case r.Attempt >= max(p.MaxAttempts, 1):
		return OutcomeFailed
	case state == StateCancelled:
		return OutcomeCancelled
	}
	return ledgerDeferred
}

// Deferred is what StepResult.Recorded says of a temporary failure that
// waits for its retry: no outcome (the recipient is pending).
const Deferred = ledgerDeferred

// Claim asks to claim a recipient for sending.
type Claim struct {
	ID    string
	Lang  string
	Batch int
	// Token identifies this claim (unique per claim; no "|"). A step run
	// again with the same claim because its answer was lost finds its own
	// token and gets ClaimOK back instead of treating the recipient as
	// claimed before a crash (in-doubt).
	Token string
}

// Policy is what Step needs from the campaign definition.
type Policy struct {
	MaxAttempts int     // attempts before a temporary failure becomes failed (at least 1)
	Window      int     // sliding window of attempts for auto-pause (0: off)
	ErrorRate   float64 // auto-pause threshold (0: off)
	MinAttempts int     // attempts in the window before auto-pause may trigger
	Host, Env   string  // recorded in the audit entry of an auto-pause
	// Sender names the calling worker's counter of recipients it recorded
	// sent, "<run>|<worker id>", which StepResult.Sent then answers ("":
	// the campaign's sent count).
	Sender string
}

// ClaimResult says what Step decided about a claimed recipient.
type ClaimResult int

// Claim results; the values are the codes of lua/step.lua.
const (
	ClaimNone  ClaimResult = 0 // no claim was asked
	ClaimOK    ClaimResult = 1 // claimed: send it now, then Record it
	ClaimSkip  ClaimResult = 2 // final outcome already, or in-doubt: do not send
	ClaimStop  ClaimResult = 3 // campaign not running, or the batch not released: stop the chunk
	ClaimStale ClaimResult = 4 // the campaign was staged anew: drop the task
	ClaimGone  ClaimResult = 5 // the campaign is gone from Redis (state lost): stop, write nothing
)

// claimInDoubt is lua/step.lua's DOUBT: a SKIP by the claim that recorded
// the recipient in doubt (ClaimAnswer.InDoubt).
const claimInDoubt = 6

// ClaimAnswer is Step's answer to one claim.
type ClaimAnswer struct {
	Result  ClaimResult
	Attempt int // attempt number of the claimed recipient
	// InDoubt: this claim found the recipient held by another claim (its
	// sender died, or lost its Redis, between claim and record) and
	// recorded it in doubt; Result is ClaimSkip (never sent again). Said
	// by the claim that recorded it alone, so that its caller counts the
	// outcome once (tidings_messages_total{outcome="in-doubt"}).
	InDoubt bool
}

// StepResult is the answer of Step.
type StepResult struct {
	Claims     []ClaimAnswer // one per claim, in order
	AutoPaused string        // non-empty when a record paused the campaign: the reason
	// State is the campaign's state after this step; "" when Redis has no
	// such campaign or it was staged anew (the step's staging no longer
	// runs, and nothing was written). A worker stops when it is not
	// running.
	State State
	// Sent is the number of recipients the calling worker (Policy.Sender;
	// "": anyone) recorded sent in the run after this step, or -1 when
	// the step recorded none sent and made no claim. A step with claims
	// always carries it, so that the worker compares it with its journal
	// before it sends to anyone claimed (see worker's rollback).
	Sent int64
	// Recorded is, for each record of the step in order, the outcome the
	// ledger wrote for it, which is not always the one asked for: a
	// temporary failure is deferred (waits for its retry), failed (its last
	// attempt, or the late record of a claim another pass of its chunk
	// found in doubt) or cancelled (the campaign is); "" when the record
	// changed nothing (its claim no longer holds the recipient: another
	// claim's outcome stands, or this record was applied by an earlier try
	// of the step), and for every record when the campaign is gone or was
	// staged anew. A give-back (KindUnclaim) is pending, deferred,
	// cancelled, or "" (its claim held nothing). The other kinds are
	// recorded as they are.
	Recorded []string
}

// Ledger is the hot-path handle on one campaign's ledger. It is safe for
// concurrent use: steps asked for at the same time by several goroutines
// (the chunks a worker processes at once) ride in one round trip, each still
// recorded and claimed in order and atomically.
type Ledger struct {
	s     *Store
	k     keys
	stage string

	mu    sync.Mutex
	busy  bool        // a goroutine is running steps
	queue []*stepCall // steps waiting for the next round trip
	// ops is the room of the round trips' ARGV, reused from one to the
	// next: only the goroutine running steps (busy) uses it, one round
	// trip at a time (exec).
	ops stepOps
}

// stepCall is one Step waiting for, or carried by, a round trip.
type stepCall struct {
	recs []Record
	cls  []Claim
	p    Policy
	now  time.Time
	res  StepResult
	err  error
	lead bool          // set before done is closed: this call runs the next round trip
	done chan struct{} // closed when res/err are set or lead is handed over
}

// maxOps bounds the records and claims of one round trip (the script's
// run time).
const maxOps = 256

// Ledger returns a handle for campaign c as staged with stage id stage.
func (s *Store) Ledger(c, stage string) *Ledger {
	return &Ledger{s: s, k: keysFor(c), stage: stage}
}

// Step records recs, then claims cls, atomically and in order. Steps of
// concurrent callers are combined into one script call (group commit): a
// caller that finds no round trip in progress runs one with the steps
// waiting (those with its policy, up to maxOps), then hands the next one
// over to a waiting caller. Each claim is answered before its caller
// sends, so after a crash at most the claims a caller holds are in doubt:
// one window per connection.
//
// An error wrapping an *AckError means the step ran on the master but
// was not acknowledged by enough replicas: the caller must not send the
// claimed recipients; running the same step again (same records, same claim
// tokens) is safe.
func (l *Ledger) Step(ctx context.Context, recs []Record, cls []Claim, p Policy, now time.Time) (StepResult, error) {
	for _, r := range recs {
		if _, ok := kindLetter[r.Kind]; !ok { // lua/step.lua tells a claim from a record by its kind
			return StepResult{}, fmt.Errorf("ledger step %s: record of %s: unknown kind %q", l.k.name, r.ID, r.Kind)
		}
		if err := checkToken(r.Token); err != nil {
			return StepResult{}, fmt.Errorf("ledger step %s: record of %s: %w", l.k.name, r.ID, err)
		}
	}
	for _, c := range cls {
		if err := checkToken(c.Token); err != nil {
			return StepResult{}, fmt.Errorf("ledger step %s: claim of %s: %w", l.k.name, c.ID, err)
		}
	}
	if n := len(recs) + len(cls); n >= 1<<24 { // lua/step.lua's shape numbers them in 3 bytes
		return StepResult{}, fmt.Errorf("ledger step %s: %d records and claims in one step, more than %d: split them", l.k.name, n, 1<<24-1)
	}
	p.MaxAttempts = max(p.MaxAttempts, 1)
	c := &stepCall{recs: recs, cls: cls, p: p, now: now, done: make(chan struct{})}
	l.mu.Lock()
	l.queue = append(l.queue, c)
	if l.busy {
		l.mu.Unlock()
		<-c.done
		if !c.lead {
			return c.res, c.err
		}
		l.mu.Lock()
	}
	// c is the first waiting step: the queue was empty, or c was handed
	// the next round trip.
	l.busy = true
	n, ops := 0, 0
	for n < len(l.queue) && (n == 0 || ops+l.queue[n].ops() <= maxOps && l.queue[n].p == c.p) {
		ops += l.queue[n].ops()
		n++
	}
	calls := slices.Clone(l.queue[:n])
	l.queue = append(l.queue[:0], l.queue[n:]...)
	l.mu.Unlock()

	// The round trip must finish even if this caller's context ends: the
	// other callers' steps ride on it.
	if err := l.exec(context.WithoutCancel(ctx), calls); err != nil {
		for _, d := range calls {
			d.err = err
		}
	}
	for _, d := range calls[1:] {
		close(d.done)
	}

	l.mu.Lock()
	if len(l.queue) > 0 {
		l.queue[0].lead = true
		close(l.queue[0].done)
	} else {
		l.busy = false
	}
	l.mu.Unlock()
	return c.res, c.err
}

// checkToken refuses a claim token with a '|': the ledger's separator,
// and its entries end with the token of the claim that holds them
// (lua/step.lua tells its hot path by that suffix, and an entry in doubt's
// flag "k:<token>" by the next '|').
func checkToken(tok string) error {
	if strings.Contains(tok, "|") {
		return fmt.Errorf("claim token %q holds a '|', the ledger's separator: use a worker id without '|'", tok)
	}
	return nil
}

func (c *stepCall) ops() int { return len(c.recs) + len(c.cls) }

// script returns the KEYS and ARGV of lua/step.lua for calls (same
// policy), and the number of their records and of their claims.
func (l *Ledger) script(calls []*stepCall) (ks []string, args []any, nrecs, nclaims int) {
	k, p := l.k, calls[0].p
	ks = []string{k.ledger, k.counts, k.control, k.bstats, k.win, k.winerr, k.errors, k.audit, k.persec, k.wsent, k.held, k.finished, k.gate1}
	// One time for the whole call: the latest of the steps'.
	now, nops := calls[0].now, 0
	for _, c := range calls {
		if c.now.After(now) {
			now = c.now
		}
		nops, nclaims = nops+c.ops(), nclaims+len(c.cls)
	}
	e := &l.ops
	e.grow(nops)
	for _, c := range calls {
		for i := range c.recs {
			e.record(&c.recs[i])
		}
		for i := range c.cls {
			e.claim(&c.cls[i])
		}
	}
	// (go-redis sends a float64 as strconv.FormatFloat(f, 'f', -1, 64).)
	// (A window below 0 is off, as 0 is: the script tells "0".)
	return ks, e.args(l.stage, p.MaxAttempts, max(p.Window, 0), p.ErrorRate, p.MinAttempts, p.Host, p.Env, ms(now), p.Sender), nops - nclaims, nclaims
}

// stepOps encodes the operations of a call of lua/step.lua (see its
// ARGV): two values each, the recipient's id and the claim's token, and
// what several operations share (kind, language and batch, an SMTP
// reply) once per call, named by each operation's 7 bytes in the shape:
// its kind's letter, then its (language, batch) and its reply (records:
// code, response), each a 3-byte index (big-endian, from 0). Every value
// handed to Lua costs Redis about 1,200 instructions (parsed, made an
// object, interned as a Lua string): the 12 of a record and a claim were a
// quarter of a message's cost; these are 4 (docs/benchmarks.md). The ids
// and tokens are pointers to the Records' and Claims' own strings, which
// go-redis writes as the strings (a string made an any is allocated: four
// times per message), so the operations must not change until the call
// is made. The call also says whether some recipient is named by two of its operations
// (named, twice): when none is, the script reads each entry by operation
// and builds no table of them by id.
type stepOps struct {
	shape          []byte
	ids, toks      []any
	pairs, replies []any // lang, batch, ...; code, response, ...
	pairAt         map[langBatch]int
	replyAt        map[[2]string]int
	named          map[string]struct{}
	twice          bool
	// The room of args and tokenPrefix's results, reused as the above
	// are (Ledger.ops).
	argv, rest []any
	restStr    []string
}

type langBatch struct {
	lang  string
	batch int
}

// kindLetter is the letter of each kind in the shape.
var kindLetter = map[Kind]byte{KindSent: 's', KindFailed: 'f', KindTemp: 't', KindRefused: 'r', KindInvalid: 'i',
	KindSkipped: 'k', KindInDoubt: 'd', KindUnclaim: 'u'}

// grow readies e, new or released, for a call of n operations, in the
// room of its earlier calls.
func (e *stepOps) grow(n int) {
	e.shape = slices.Grow(e.shape[:0], 7*n)
	e.ids, e.toks = slices.Grow(e.ids[:0], n), slices.Grow(e.toks[:0], n)
	e.pairs, e.replies, e.twice = e.pairs[:0], e.replies[:0], false
	if e.named == nil {
		e.pairAt, e.replyAt = map[langBatch]int{}, map[[2]string]int{}
		e.named = make(map[string]struct{}, n)
		return
	}
	clear(e.pairAt) // not counting on release: a caller of script alone (a test) makes none
	clear(e.replyAt)
	clear(e.named)
}

// release ends a call: e keeps its room and lets go of the call's
// values (the Records' and Claims' strings).
func (e *stepOps) release() {
	clear(e.ids)
	clear(e.toks)
	clear(e.pairs)
	clear(e.replies)
	clear(e.argv)
	clear(e.rest)
	clear(e.restStr)
	clear(e.pairAt)
	clear(e.replyAt)
	clear(e.named)
}

// op appends an operation of kind letter k.
func (e *stepOps) op(k byte, id *string, lang string, batch int, tok *string, reply int) {
	pb := langBatch{lang, batch}
	pi, ok := e.pairAt[pb]
	if !ok {
		pi = len(e.pairs) / 2
		e.pairAt[pb] = pi
		e.pairs = append(e.pairs, lang, batch)
	}
	e.shape = append(e.shape, k, byte(pi>>16), byte(pi>>8), byte(pi), byte(reply>>16), byte(reply>>8), byte(reply))
	e.ids, e.toks = append(e.ids, id), append(e.toks, tok)
	if _, ok := e.named[*id]; ok {
		e.twice = true
	}
	e.named[*id] = struct{}{}
}

func (e *stepOps) record(r *Record) {
	rk := [2]string{r.Code, r.Response}
	ri, ok := e.replyAt[rk]
	if !ok {
		ri = len(e.replies) / 2
		e.replyAt[rk] = ri
		e.replies = append(e.replies, r.Code, r.Response)
	}
	e.op(kindLetter[r.Kind], &r.ID, r.Lang, r.Batch, &r.Token, ri)
}

func (e *stepOps) claim(c *Claim) { e.op('c', &c.ID, c.Lang, c.Batch, &c.Token, 0) }

// args is the ARGV: hdr (its first 9 values), then the shape (each
// reply's index counted on from the pairs), whether every recipient is
// named once ("1", else "0"), what every token begins with (tokenPrefix),
// the pairs, the replies, the ids, the tokens without it. No count: the
// script finds the ids from the shape's length and ARGV's, and a number it
// converts costs it more than the value. Called once: it offsets the
// shape in place.
func (e *stepOps) args(hdr ...any) []any {
	once := "1"
	if e.twice {
		once = "0"
	}
	np := len(e.pairs) / 2
	for i := 0; i < len(e.shape); i += 7 {
		r := (int(e.shape[i+4])<<16 | int(e.shape[i+5])<<8 | int(e.shape[i+6])) + np
		e.shape[i+4], e.shape[i+5], e.shape[i+6] = byte(r>>16), byte(r>>8), byte(r)
	}
	tp, toks := e.tokenPrefix()
	a := slices.Grow(e.argv[:0], len(hdr)+3+len(e.pairs)+len(e.replies)+2*len(e.ids))
	a = append(append(a, hdr...), string(e.shape), once, tp)
	a = append(append(append(append(a, e.pairs...), e.replies...), e.ids...), toks...)
	e.argv = a
	return a
}

// tokenPrefix returns the longest prefix every token of the call begins
// with and is longer than, and the tokens without it: a worker's tokens
// are its id, '/', a counter, and lua/step.lua takes the shared part once
// (each byte of a value costs Redis: docs/benchmarks.md). "" and the
// tokens as they are when an operation has no token or there is one
// operation (nothing to share).
func (e *stepOps) tokenPrefix() (string, []any) {
	if len(e.toks) < 2 {
		return "", e.toks
	}
	first := *e.toks[0].(*string)
	if first == "" {
		return "", e.toks
	}
	p := first[:len(first)-1]
	for _, t := range e.toks[1:] {
		s := *t.(*string)
		n := 0
		for n < len(p) && n < len(s)-1 && p[n] == s[n] { // shorter than every token: none is left empty
			n++
		}
		p = p[:n]
	}
	if p == "" {
		return "", e.toks
	}
	rest := slices.Grow(e.restStr[:0], len(e.toks))[:len(e.toks)]
	toks := slices.Grow(e.rest[:0], len(e.toks))[:len(e.toks)]
	for i, t := range e.toks {
		rest[i] = (*t.(*string))[len(p):]
		toks[i] = &rest[i]
	}
	e.restStr, e.rest = rest, toks
	return p, toks
}

// exec runs calls (same policy) in one script call and sets their results,
// or returns the error that stopped it.
func (l *Ledger) exec(ctx context.Context, calls []*stepCall) error {
	k := l.k
	ks, args, nrecs, nclaims := l.script(calls)
	v, ack, err := l.s.eval(ctx, stepScript, ks, args...)
	l.ops.release()
	if err != nil {
		return fmt.Errorf("ledger step %s: %w", k.name, err)
	}
	a, err := readStepAnswer(v, nrecs, nclaims)
	if err != nil {
		return fmt.Errorf("ledger step %s: %w; none of its claims may be sent (lua/step.lua answered what this build cannot read: report it as a bug)", k.name, err)
	}
	state, paused, sent, claims, wrote := a.state, a.paused, a.sent, a.claims, a.wrote
	if paused != "" { // the auto-pause: every worker stops now
		l.s.announce(ctx, k.name)
	}
	nrec := 0
	for _, c := range calls {
		c.res = StepResult{Sent: sent, State: State(state), Recorded: make([]string, len(c.recs))}
		for j, r := range c.recs {
			nrec++
			if o, ok := wrote[nrec]; ok {
				c.res.Recorded[j] = o
			} else if state != "" {
				c.res.Recorded[j] = string(r.Kind)
			}
		}
		if paused != "" && len(c.recs) > 0 {
			c.res.AutoPaused, paused = paused, "" // said once, to a caller whose record counted
		}
		c.res.Claims, claims = claims[:len(c.cls):len(c.cls)], claims[len(c.cls):]
		c.err = wrapf(ack, "ledger step %s", k.name)
	}
	return nil
}

// stepAnswer is lua/step.lua's answer, read.
type stepAnswer struct {
	state, paused string
	sent          int64
	claims        []ClaimAnswer  // every claim's, in order
	wrote         map[int]string // record number (from 1) -> outcome written, when not its kind; nil for none
}

// readStepAnswer reads the answer v of lua/step.lua to a call of nrecs
// records and nclaims claims. It fails closed: a claim the answer says
// nothing of is OK at attempt 1, so an answer that does not count nclaims
// claims, or that it cannot read whole (a value of another type, a number
// out of range or out of order, a triple or pair cut short), is an error,
// and no claim is taken OK.
func readStepAnswer(v any, nrecs, nclaims int) (stepAnswer, error) {
	res, _ := v.([]any)
	if len(res) < 4 {
		return stepAnswer{}, fmt.Errorf("script answered %d values, fewer than 4: %v", len(res), v)
	}
	state, ok1 := res[0].(string)
	paused, ok2 := res[1].(string)
	sent, ok3 := res[2].(int64)
	seen, ok4 := res[3].(int64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return stepAnswer{}, fmt.Errorf("script answered %v: not a state, an auto-pause reason, a sent count and a claim count", res[:4])
	}
	if seen != int64(nclaims) {
		return stepAnswer{}, fmt.Errorf("script answered for %d claims, %d were asked: none is taken", seen, nclaims)
	}
	// Then, in order, a pair (record number, outcome written) for a record
	// not written as its kind, a triple (-claim number, result, attempt)
	// for a claim not answered OK at attempt 1; numbers from 1, across the
	// calls. Neither on the hot path.
	claims := make([]ClaimAnswer, nclaims)
	for j := range claims {
		claims[j] = ClaimAnswer{Result: ClaimOK, Attempt: 1}
	}
	var wrote map[int]string // nil when the ledger wrote every record as asked
	lastRec, lastClaim := int64(0), int64(0)
	for i := 4; i < len(res); {
		n, ok := res[i].(int64)
		switch {
		case ok && n < 0 && -n > lastClaim && -n <= int64(nclaims) && i+2 < len(res):
			r, ok1 := res[i+1].(int64)
			a, ok2 := res[i+2].(int64)
			if !ok1 || !ok2 || r < int64(ClaimOK) || r > claimInDoubt || a < 0 || (r == int64(ClaimOK) && a < 1) {
				return stepAnswer{}, fmt.Errorf("script answered %v for claim %d of %d: not a result and an attempt", res[i+1:i+3], -n, nclaims)
			}
			claims[-n-1] = ClaimAnswer{Result: ClaimResult(r), Attempt: int(a)}
			if r == claimInDoubt {
				claims[-n-1] = ClaimAnswer{Result: ClaimSkip, Attempt: int(a), InDoubt: true}
			}
			lastClaim, i = -n, i+3
		case ok && n > lastRec && n <= int64(nrecs) && i+1 < len(res):
			o, ok := res[i+1].(string)
			if !ok {
				return stepAnswer{}, fmt.Errorf("script answered %v for record %d of %d: not an outcome", res[i+1], n, nrecs)
			}
			if wrote == nil {
				wrote = map[int]string{}
			}
			wrote[int(n)] = o
			lastRec, i = n, i+2
		default:
			return stepAnswer{}, fmt.Errorf("script answered %v at value %d for %d records and %d claims: not a record's pair or a claim's triple in order", res[i:], i+1, nrecs, nclaims)
		}
	}
	return stepAnswer{state: state, paused: paused, sent: sent, claims: claims, wrote: wrote}, nil
}
