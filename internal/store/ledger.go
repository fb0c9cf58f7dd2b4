package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// stepScript records the previous recipient's outcome and claims the next one
// in a single round trip. See docs/design.md ("At most once").
//
// KEYS: 1 ledger, 2 counts, 3 control, 4 win, 5 retry, 6 errors, 7 audit,
// 8 persec, 9 chunkgen, 10 b:<record batch>, 11 b:<claim batch>
// ARGV: 1 now ms, 2 rec id, 3 rec kind (sent|failed|temp|refused|skipped),
// 4 rec code, 5 rec response, 6 rec lang, 7 rec retry member, 8 max attempts,
// 9 backoff ms, 10 window, 11 error rate, 12 min attempts, 13 claim id,
// 14 claim lang, 15 claim chunk, 16 claim gen ("" = retry pass),
// 17 epoch, 18 host, 19 env
var stepScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local paused = ''
local function bump(lang, outcome, bkey, n)
  redis.call('HINCRBY', KEYS[2], outcome, n)
  redis.call('HINCRBY', KEYS[2], 'lang:' .. lang .. ':' .. outcome, n)
  redis.call('HINCRBY', bkey, outcome, n)
end
local rid = ARGV[2]
if rid ~= '' then
  local cur = redis.call('HGET', KEYS[1], rid)
  local cs, ca
  if cur then
    cs, ca = string.match(cur, '^([^|]*)|(%d+)|')
    ca = tonumber(ca)
  end
  if cs == 'sending' or cs == 'in-doubt' then
    local kind, lang, bkey = ARGV[3], ARGV[6], KEYS[10]
    local first = (ca == 1 and cs == 'sending')
    if cs == 'in-doubt' then bump(lang, 'in-doubt', bkey, -1) end
    local state, flag, err = kind, '', 0
    if kind == 'temp' then
      err = 1
      flag = 't'
      if ca < tonumber(ARGV[8]) then state = 'deferred' else state = 'failed' end
    elseif kind == 'failed' then
      err = 1
    end
    redis.call('HSET', KEYS[1], rid, state .. '|' .. ca .. '|' .. now .. '|' .. ARGV[4] .. '|' .. flag .. '|' .. ARGV[5])
    if first then
      redis.call('HINCRBY', bkey, 'attempted', 1)
      if err == 1 then redis.call('HINCRBY', bkey, 'errors1', 1) end
    end
    if state == 'deferred' then
      redis.call('ZADD', KEYS[5], now + tonumber(ARGV[9]) * (2 ^ (ca - 1)), ARGV[7])
    else
      bump(lang, state, bkey, 1)
    end
    if kind == 'temp' then
      redis.call('HINCRBY', bkey, 'temp', 1)
    elseif kind == 'failed' then
      redis.call('HINCRBY', bkey, 'perm', 1)
    end
    redis.call('HINCRBY', KEYS[8], tostring(math.floor(now / 1000)), 1)
    if err == 1 then
      redis.call('LPUSH', KEYS[6], cjson.encode({t = now, id = rid, code = ARGV[4], r = ARGV[5], temp = (kind == 'temp')}))
      redis.call('LTRIM', KEYS[6], 0, 99)
    end
    local W = tonumber(ARGV[10])
    if W > 0 and (kind == 'sent' or kind == 'failed' or kind == 'temp') then
      local p = redis.call('HINCRBY', KEYS[4], 'p', 1)
      local slot = tostring((p - 1) % W)
      local old = tonumber(redis.call('HGET', KEYS[4], slot) or '0')
      local e
      if old ~= err then
        redis.call('HSET', KEYS[4], slot, err)
        e = redis.call('HINCRBY', KEYS[4], 'e', err - old)
      elseif err == 1 then
        e = tonumber(redis.call('HGET', KEYS[4], 'e') or '0')
      end
      local thr = tonumber(ARGV[11])
      if err == 1 and thr > 0 then
        local n = p
        if n > W then n = W end
        if n >= math.max(tonumber(ARGV[12]), 1) and e / n > thr then
          if redis.call('HGET', KEYS[3], 'state') == 'running' then
            local resp = ARGV[4]
            if resp ~= '' and ARGV[5] ~= '' then resp = resp .. ' ' end
            resp = resp .. ARGV[5]
            paused = string.format('auto-pause: error rate %d%% over last %d attempts (last error: %s)', math.floor(e * 100 / n + 0.5), n, resp)
            redis.call('HSET', KEYS[3], 'state', 'paused', 'reason', paused, 'by', 'auto-pause', 'at', now)
            redis.call('RPUSH', KEYS[7], cjson.encode({at = now, who = 'tidings-worker', host = ARGV[18], env = ARGV[19], action = 'auto-pause', reason = paused}))
          end
        end
      end
    end
  end
end
local cid = ARGV[13]
if cid == '' then return {0, 0, paused} end
local ctl = redis.call('HMGET', KEYS[3], 'state', 'epoch')
if ctl[1] ~= 'running' then return {3, 0, paused} end
if ctl[2] ~= ARGV[17] then return {4, 0, paused} end
local retry = (ARGV[16] == '')
if not retry then
  local g = redis.call('HGET', KEYS[9], ARGV[15]) or '0'
  if g ~= ARGV[16] then return {4, 0, paused} end
end
local cur = redis.call('HGET', KEYS[1], cid)
local a = 0
if cur then
  local cs, ca = string.match(cur, '^([^|]*)|(%d+)|')
  ca = tonumber(ca)
  if cs == 'deferred' and retry then
    a = ca
  elseif cs == 'sending' then
    redis.call('HSET', KEYS[1], cid, 'in-doubt|' .. ca .. '|' .. now .. '|||claimed before a crash; the SMTP server may have accepted it')
    bump(ARGV[14], 'in-doubt', KEYS[11], 1)
    if ca == 1 then redis.call('HINCRBY', KEYS[11], 'attempted', 1) end
    return {2, ca, paused}
  else
    return {2, ca, paused}
  end
end
a = a + 1
redis.call('HSET', KEYS[1], cid, 'sending|' .. a .. '|' .. now .. '|||')
return {1, a, paused}
`)

// Kind is the result of one delivery attempt, recorded by Step.
type Kind string

// Kinds of recorded results.
const (
	KindSent    Kind = "sent"     // accepted by the SMTP server
	KindFailed  Kind = "failed"   // permanent failure (5xx)
	KindTemp    Kind = "temp"     // temporary failure (4xx, dropped connection): deferred or, after MaxAttempts, failed
	KindRefused Kind = "refused"  // the worker refused it (locale rule, template hash)
	KindSkipped Kind = "skipped"  // dry run: rendered, not delivered
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

// Ledger is the hot-path handle on one campaign's ledger.
type Ledger struct {
	rdb   redis.UniversalClient
	k     keys
	epoch string
}

// Ledger returns a handle for campaign c at staging epoch (Meta.Epoch).
func (s *Store) Ledger(c string, epoch int64) *Ledger {
	return &Ledger{rdb: s.rdb, k: keysFor(c), epoch: strconv.FormatInt(epoch, 10)}
}

// Step records rec (if not nil) and claims cl (if not nil) in one EVALSHA.
func (l *Ledger) Step(ctx context.Context, rec *Record, cl *Claim, p Policy, now time.Time) (StepResult, error) {
	if p.MaxAttempts < 1 {
		p.MaxAttempts = 3
	}
	if p.Backoff <= 0 {
		p.Backoff = time.Minute
	}
	recBatch, claimBatch := 0, 0
	args := make([]any, 19)
	args[0] = ms(now)
	args[1], args[2], args[3], args[4], args[5], args[6] = "", "", "", "", "", ""
	if rec != nil {
		recBatch = rec.Batch
		args[1], args[2], args[3], args[4], args[5] = rec.ID, string(rec.Kind), rec.Code, rec.Response, rec.Lang
		args[6] = strconv.Itoa(rec.Chunk) + ":" + strconv.Itoa(rec.Index)
	}
	args[7] = p.MaxAttempts
	args[8] = p.Backoff.Milliseconds()
	args[9] = p.Window
	args[10] = strconv.FormatFloat(p.ErrorRate, 'f', -1, 64)
	args[11] = p.MinAttempts
	args[12], args[13], args[14], args[15] = "", "", "", ""
	if cl != nil {
		claimBatch = cl.Batch
		args[12], args[13], args[14] = cl.ID, cl.Lang, strconv.Itoa(cl.Chunk)
		if !cl.Retry {
			args[15] = strconv.FormatInt(cl.Gen, 10)
		}
	}
	args[16] = l.epoch
	args[17] = p.Host
	args[18] = p.Env
	k := l.k
	res, err := stepScript.Run(ctx, l.rdb, []string{k.ledger, k.counts, k.control, k.win, k.retry, k.errors, k.audit, k.persec, k.chunkgen, k.batch(recBatch), k.batch(claimBatch)}, args...).Slice()
	if err != nil {
		return StepResult{}, fmt.Errorf("ledger step %s: %w", k.name, err)
	}
	r := StepResult{Claim: ClaimResult(res[0].(int64)), Attempt: int(res[1].(int64))}
	r.AutoPaused, _ = res[2].(string)
	return r, nil
}
