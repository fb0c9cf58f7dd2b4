package store

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// stepScript runs one or more ledger steps in order, as if each were its own
// call: for each, record the previous recipient's outcome, then claim the
// next one. See docs/design.md ("At most once"). Several steps (of the
// concurrent chunks of one worker) share one round trip; the counters they
// touch are summed in the script and written once at its end, so a step
// costs the four ledger reads and writes of its record and claim plus its
// share of the counter writes (about 7 commands instead of 13).
//
// KEYS: 1 ledger, 2 counts, 3 control, 4 win, 5 retry, 6 errors, 7 audit,
// 8 persec, 9 chunkgen, 10 winerr, 11.. b:<batch> (referenced by index)
// ARGV: 1 max attempts, 2 backoff ms, 3 window, 4 error rate, 5 min
// attempts, 6 epoch, 7 host, 8 env, 9 number of steps, then per step
// (stepArgs values): now ms, rec id, rec kind
// (sent|failed|temp|refused|skipped|in-doubt), rec code, rec response, rec
// lang, rec retry member, rec batch key index, claim id, claim lang, claim
// chunk, claim gen ("" = retry pass), claim batch key index, claim token.
// Returns per step: claim result, attempt, auto-pause reason.
var stepScript = redis.NewScript(`
local maxAtt, backoff = tonumber(ARGV[1]), tonumber(ARGV[2])
local W, thr, minAtt = tonumber(ARGV[3]), tonumber(ARGV[4]), math.max(tonumber(ARGV[5]), 1)
local nsteps = tonumber(ARGV[9])
local inc = {}
local function add(key, field, n)
  local t = inc[key]
  if not t then t = {} inc[key] = t end
  t[field] = (t[field] or 0) + n
end
local function bump(lang, outcome, bkey, n)
  add(KEYS[2], outcome, n)
  add(KEYS[2], 'lang:' .. lang .. ':' .. outcome, n)
  add(bkey, outcome, n)
end
local state, epoch
local function control()
  if not state then
    local v = redis.call('HMGET', KEYS[3], 'state', 'epoch')
    state, epoch = v[1], v[2]
  end
end
local gens = {}
local p = nil
local p0 = 0
local pushed, records, last = false, 0, 0
local out = {}
for s = 0, nsteps - 1 do
  local o = 9 + s * 14
  local now = ARGV[o + 1]
  last = now
  local paused = ''
  local rid = ARGV[o + 2]
  if rid ~= '' then
    local cur = redis.call('HGET', KEYS[1], rid)
    local cs, ca
    if cur then
      cs, ca = string.match(cur, '^([^|]*)|(%d+)|')
    end
    if cs == 'sending' or cs == 'in-doubt' then
      local kind, code, resp, lang, bkey = ARGV[o + 3], ARGV[o + 4], ARGV[o + 5], ARGV[o + 6], KEYS[tonumber(ARGV[o + 8])]
      local first = (ca == '1' and cs == 'sending')
      if cs == 'in-doubt' then bump(lang, 'in-doubt', bkey, -1) end
      local st, flag, err = kind, '', 0
      if kind == 'temp' then
        err = 1
        flag = 't'
        if tonumber(ca) < maxAtt then st = 'deferred' else st = 'failed' end
        if st == 'deferred' then
          -- A temporary failure that lands after cancel is not retried:
          -- it would stay pending for ever in a cancelled campaign.
          control()
          if state == 'cancelled' then st = 'cancelled' end
        end
      elseif kind == 'failed' then
        err = 1
      end
      redis.call('HSET', KEYS[1], rid, st .. '|' .. ca .. '|' .. now .. '|' .. code .. '|' .. flag .. '|' .. resp)
      if first then
        add(bkey, 'attempted', 1)
        if err == 1 then add(bkey, 'errors1', 1) end
      end
      if st == 'deferred' then
        redis.call('ZADD', KEYS[5], tonumber(now) + backoff * (2 ^ (tonumber(ca) - 1)), ARGV[o + 7])
      else
        bump(lang, st, bkey, 1)
      end
      if kind == 'temp' then
        add(bkey, 'temp', 1)
      elseif kind == 'failed' then
        add(bkey, 'perm', 1)
      end
      records = records + 1
      if err == 1 then
        redis.call('LPUSH', KEYS[6], cjson.encode({t = tonumber(now), id = rid, code = code, r = resp, temp = (kind == 'temp')}))
        pushed = true
      end
      if W > 0 and (kind == 'sent' or kind == 'failed' or kind == 'temp') then
        if not p then
          p0 = tonumber(redis.call('HGET', KEYS[4], 'p') or '0')
          p = p0
        end
        p = p + 1
        if err == 1 then
          redis.call('ZADD', KEYS[10], p, p)
          redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', p - W)
          if thr > 0 then
            local e = redis.call('ZCARD', KEYS[10])
            local n = math.min(p, W)
            if n >= minAtt and e / n > thr then
              control()
              if state == 'running' then
                local r = code
                if r ~= '' and resp ~= '' then r = r .. ' ' end
                r = r .. resp
                paused = string.format('auto-pause: error rate %d%% over last %d attempts (last error: %s)', math.floor(e * 100 / n + 0.5), n, r)
                redis.call('HSET', KEYS[3], 'state', 'paused', 'reason', paused, 'by', 'auto-pause', 'at', now)
                redis.call('RPUSH', KEYS[7], cjson.encode({at = tonumber(now), who = 'tidings-worker', host = ARGV[7], env = ARGV[8], action = 'auto-pause', reason = paused}))
                state = 'paused'
              end
            end
          end
        end
      end
    end
  end
  local res, att = 0, 0
  local cid = ARGV[o + 9]
  if cid ~= '' then
    control()
    local chunk, gen = ARGV[o + 11], ARGV[o + 12]
    local retry = (gen == '')
    if state ~= 'running' then
      res = 3
    elseif epoch ~= ARGV[6] then
      res = 4
    else
      if not retry then
        local g = gens[chunk]
        if not g then
          g = redis.call('HGET', KEYS[9], chunk) or '0'
          gens[chunk] = g
        end
        if g ~= gen then res = 4 end
      end
      if res == 0 then
        local cur = redis.call('HGET', KEYS[1], cid)
        if cur then
          local cs, ca = string.match(cur, '^([^|]*)|(%d+)|')
          ca = tonumber(ca)
          if cs == 'deferred' and retry then
            att = ca
          elseif cs == 'sending' and ARGV[o + 14] ~= '' and string.match(cur, '^sending|%d+|[^|]*|[^|]*|[^|]*|(.*)$') == ARGV[o + 14] then
            -- The same claim run again (go-redis or the worker re-sent a
            -- step whose answer was lost): it is still this caller's, and
            -- nothing was sent yet.
            res, att = 1, ca
          elseif cs == 'sending' then
            local bkey = KEYS[tonumber(ARGV[o + 13])]
            redis.call('HSET', KEYS[1], cid, 'in-doubt|' .. ca .. '|' .. now .. '|||claimed before a crash; the SMTP server may have accepted it')
            bump(ARGV[o + 10], 'in-doubt', bkey, 1)
            if ca == 1 then add(bkey, 'attempted', 1) end
            res, att = 2, ca
          else
            res, att = 2, ca
          end
        end
        if res == 0 then
          att = att + 1
          local sa = '1'
          if att ~= 1 then sa = tostring(att) end
          redis.call('HSET', KEYS[1], cid, 'sending|' .. sa .. '|' .. now .. '|||' .. ARGV[o + 14])
          res = 1
        end
      end
    end
  end
  out[#out + 1] = res
  out[#out + 1] = att
  out[#out + 1] = paused
end
for key, t in pairs(inc) do
  for f, n in pairs(t) do
    if n ~= 0 then redis.call('HINCRBY', key, f, n) end
  end
end
if p and p ~= p0 then redis.call('HINCRBY', KEYS[4], 'p', p - p0) end
if records > 0 then redis.call('HINCRBY', KEYS[8], string.sub(last, 1, -4), records) end
if pushed then redis.call('LTRIM', KEYS[6], 0, 99) end
return out
`)

// Kind is the result of one delivery attempt, recorded by Step.
type Kind string

// Kinds of recorded results.
const (
	KindSent    Kind = "sent"     // accepted by the SMTP server
	KindFailed  Kind = "failed"   // permanent failure (5xx)
	KindTemp    Kind = "temp"     // temporary failure (4xx, dropped connection): deferred or, after MaxAttempts, failed
	KindRefused Kind = "refused"  // the worker refused it (locale rule, template hash)
	KindSkipped Kind = "skipped"  // not sent by decision (reserved; no path records it yet)
	KindInDoubt Kind = "in-doubt" // the message was sent but no final reply came: it may have been delivered
)

// Record is the outcome of the recipient claimed by the previous Step.
type Record struct {
	ID       string
	Lang     string
	Batch    int
	Chunk    int
	Index    int // position in the chunk (for the retry queue)
	Kind     Kind
	Code     string // SMTP code with enhanced code, e.g. "550 5.1.1"
	Response string // SMTP response text or refusal reason
}

// Claim asks to claim a recipient for sending.
type Claim struct {
	ID    string
	Lang  string
	Batch int
	Chunk int
	Gen   int64 // chunk generation of the task; ignored for retry passes
	Retry bool  // a retry pass: deferred recipients may be claimed
	// Token identifies this claim (unique per Claim value; no "|"). A step
	// that is run again with the same Claim, because its answer was lost,
	// finds its own token and gets ClaimOK back instead of treating the
	// recipient as claimed before a crash (in-doubt).
	Token string
}

// Policy is what Step needs from the campaign definition.
type Policy struct {
	MaxAttempts int           // attempts before a temporary failure becomes failed (default 3)
	Backoff     time.Duration // first retry delay, doubled per attempt (default 1m)
	Window      int           // sliding window of attempts for auto-pause (0: off)
	ErrorRate   float64       // auto-pause threshold (0: off)
	MinAttempts int           // attempts in the window before auto-pause may trigger
	Host, Env   string        // recorded in the audit entry of an auto-pause
}

// ClaimResult says what Step decided about the claimed recipient.
type ClaimResult int

// Claim results.
const (
	ClaimNone  ClaimResult = iota // no claim was asked
	ClaimOK                       // claimed: send it now, then Record it
	ClaimSkip                     // terminal or in-doubt (a crash between send and record): do not send
	ClaimStop                     // campaign not running (paused, cancelled, ...): stop the chunk
	ClaimStale                    // this task's chunk generation or staging epoch is outdated: drop the task
)

// StepResult is the answer of Step.
type StepResult struct {
	Claim      ClaimResult
	Attempt    int    // attempt number of the claimed recipient
	AutoPaused string // non-empty when this record paused the campaign: the reason
}

// Ledger is the hot-path handle on one campaign's ledger. It is safe for
// concurrent use: steps asked for at the same time by several goroutines
// (the chunks a worker processes at once) are sent together, in one round
// trip, each still recorded and claimed in order and atomically.
type Ledger struct {
	rdb   redis.UniversalClient
	k     keys
	epoch string

	mu    sync.Mutex
	busy  bool        // a goroutine is running steps
	queue []*stepCall // steps waiting for the next round trip
}

// stepCall is one Step waiting for, or carried by, a round trip.
type stepCall struct {
	rec  *Record
	cl   *Claim
	p    Policy
	now  time.Time
	res  StepResult
	err  error
	lead bool          // set before done is closed: this call runs the next round trip
	done chan struct{} // closed when res/err are set or lead is handed over
}

// maxSteps bounds the steps of one round trip (the script's run time).
const maxSteps = 64

// Ledger returns a handle for campaign c at staging epoch (Meta.Epoch).
func (s *Store) Ledger(c string, epoch int64) *Ledger {
	return &Ledger{rdb: s.rdb, k: keysFor(c), epoch: strconv.FormatInt(epoch, 10)}
}

// Step records rec (if not nil) and claims cl (if not nil) atomically. Steps
// of concurrent callers are combined into one EVALSHA (group commit): a
// caller that finds no round trip in progress runs one with every step
// waiting, then hands the next one over to a waiting caller. Each claim is
// still made before its caller sends, so the in-doubt window stays one
// recipient per caller.
func (l *Ledger) Step(ctx context.Context, rec *Record, cl *Claim, p Policy, now time.Time) (StepResult, error) {
	if p.MaxAttempts < 1 {
		p.MaxAttempts = 3
	}
	if p.Backoff <= 0 {
		p.Backoff = time.Minute
	}
	c := &stepCall{rec: rec, cl: cl, p: p, now: now, done: make(chan struct{})}
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
	l.busy = true
	n := min(len(l.queue), maxSteps)
	calls := make([]*stepCall, n)
	copy(calls, l.queue)
	l.queue = append(l.queue[:0], l.queue[n:]...)
	l.mu.Unlock()

	// The round trip must finish even if this caller's context ends: the
	// other callers' steps ride on it.
	l.run(context.WithoutCancel(ctx), calls)

	l.mu.Lock()
	if len(l.queue) > 0 {
		next := l.queue[0]
		next.lead = true
		close(next.done)
	} else {
		l.busy = false
	}
	l.mu.Unlock()
	return c.res, c.err
}

// run executes calls, one EVALSHA per run of calls with the same policy,
// and closes each call's done.
func (l *Ledger) run(ctx context.Context, calls []*stepCall) {
	for len(calls) > 0 {
		n := 1
		for n < len(calls) && calls[n].p == calls[0].p {
			n++
		}
		l.exec(ctx, calls[:n])
		for _, c := range calls[:n] {
			if !c.lead { // a promoted leader's done is closed already
				close(c.done)
			}
		}
		calls = calls[n:]
	}
}

const (
	stepHeader = 9  // ARGV values before the first step
	stepArgs   = 14 // ARGV values per step
	stepKeys   = 10 // KEYS before the batch keys
)

// exec runs calls (same policy) in one EVALSHA and sets their results.
func (l *Ledger) exec(ctx context.Context, calls []*stepCall) {
	k, p := l.k, calls[0].p
	ks := make([]string, stepKeys, stepKeys+2)
	ks[0], ks[1], ks[2], ks[3], ks[4] = k.ledger, k.counts, k.control, k.win, k.retry
	ks[5], ks[6], ks[7], ks[8], ks[9] = k.errors, k.audit, k.persec, k.chunkgen, k.winerr
	// batchKey returns the 1-based KEYS index of batch b's counters.
	batchKey := func(b int) int {
		name := k.batch(b)
		for i := stepKeys; i < len(ks); i++ {
			if ks[i] == name {
				return i + 1
			}
		}
		ks = append(ks, name)
		return len(ks)
	}
	args := make([]any, stepHeader, stepHeader+stepArgs*len(calls))
	args[0] = p.MaxAttempts
	args[1] = p.Backoff.Milliseconds()
	args[2] = p.Window
	args[3] = strconv.FormatFloat(p.ErrorRate, 'f', -1, 64)
	args[4] = p.MinAttempts
	args[5] = l.epoch
	args[6] = p.Host
	args[7] = p.Env
	args[8] = len(calls)
	for _, c := range calls {
		a := [stepArgs]any{strconv.FormatInt(ms(c.now), 10), "", "", "", "", "", "", 0, "", "", "", "", 0, ""}
		if r := c.rec; r != nil {
			a[1], a[2], a[3], a[4], a[5] = r.ID, string(r.Kind), r.Code, r.Response, r.Lang
			a[6] = strconv.Itoa(r.Chunk) + ":" + strconv.Itoa(r.Index)
			a[7] = batchKey(r.Batch)
		}
		if cl := c.cl; cl != nil {
			a[8], a[9], a[10] = cl.ID, cl.Lang, strconv.Itoa(cl.Chunk)
			if !cl.Retry {
				a[11] = strconv.FormatInt(cl.Gen, 10)
			}
			a[12] = batchKey(cl.Batch)
			a[13] = cl.Token
		}
		args = append(args, a[:]...)
	}
	res, err := stepScript.Run(ctx, l.rdb, ks, args...).Slice()
	if err == nil && len(res) != 3*len(calls) {
		err = fmt.Errorf("script answered %d values for %d steps", len(res), len(calls))
	}
	if err != nil {
		err = fmt.Errorf("ledger step %s: %w", k.name, err)
		for _, c := range calls {
			c.err = err
		}
		return
	}
	for i, c := range calls {
		c.res.Claim = ClaimResult(res[3*i].(int64))
		c.res.Attempt = int(res[3*i+1].(int64))
		c.res.AutoPaused, _ = res[3*i+2].(string)
	}
}
