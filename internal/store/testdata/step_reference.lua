-- step_reference.lua: the ledger step as it was before it was written for
-- speed (commit 2cd693c: one HGET/HSETNX/HSET per operation, 8 values per
-- operation, a record marked 'r'). TestStepMatchesReference runs random
-- operations through it and through lua/step.lua from the same state and
-- requires the same answers and keys. A deliberate change of the step's
-- behaviour changes this file too (so did: an in-doubt record is an error
-- of the gates, counted in errors1, doubt1 and the auto-pause window; a
-- first-attempt error is recorded in gate1, KEYS[13], and a retry's outcome
-- decides one a retry re-queued: lua/step.lua's decide; a claim of a
-- permanent failure a retry re-queued takes it out of deferred_perm; a
-- temporary failure recorded on an entry in doubt, the late record of a
-- claim another pass found in doubt, is failed, not deferred; the answer
-- ends with the outcome written of each record not written as its kind).
-- step.lua: the ledger step. A list of operations, run in order as if
-- each were its own call: a record writes the outcome of a recipient
-- claimed earlier; a claim takes a recipient for sending. The operations of
-- several callers (a worker's concurrent chunks, each recording the outcomes
-- of its last window of recipients and claiming its next window) share one
-- call (group commit); the counters they touch are summed here and written
-- once at the end.
--
-- A claim is made before the message goes to SMTP. A recipient found
-- "sending" under another claim's token was claimed by a sender that died
-- (or lost its Redis) between its claim and its record: it becomes
-- "in-doubt" and is never sent again.
--
-- KEYS (all of one campaign, so one Cluster slot):
--   1 ledger   HASH id -> "state|attempts|unix ms|code|flag|response or token"
--   2 counts   HASH <outcome>, lang:<l>:<outcome>, deferred, deferred_at:<attempts>,
--                   progress_at
--   3 control  HASH state, stage, cur_batch, ...
--   4 bstats   HASH "<batch>:<counter>"
--   5 win      HASH p: window positions used so far
--   6 winerr   ZSET window positions whose attempt failed
--   7 errors   LIST the last 100 failures (JSON)
--   8 audit    LIST audit entries (JSON)
--   9 persec   HASH unix second -> records that gave a recipient an outcome
--              (the status rate; a temporary failure deferred for a retry
--              leaves it pending and is not counted)
-- ARGV:
--   1 stage id of the callers' tasks     2 max attempts (temporary failures)
--   3 window size (0: auto-pause off)    4 error-rate threshold (0: off)
--   5 minimum attempts in the window     6 host, 7 env (audit of an auto-pause)
--   8 now (unix ms)                      9 number of operations
--   then 8 values per operation:
--     'r', id, kind, code, response, lang, batch, token  (a record)
--       kinds: sent | failed (permanent) | temp | refused | skipped |
--              in-doubt | unclaim (give back a claim that was not used)
--       token: the claim the record is of. A record applies to its own
--       claim only: one that comes again after another claim took the
--       recipient (a step retried, an outage's backlog) changes nothing.
--       '' (no token): it applies to whatever claim holds the recipient.
--     'c', id, lang, batch, token, '', '', ''            (a claim)
-- An in-doubt entry keeps the token of the claim in doubt as its flag,
-- "k:<token>", so that the late record (or give-back) of that claim is
-- still applied.
-- Returns 2 values per claim (claim result, attempt number), then the
-- campaign's state after this call ('' when it is gone or was staged anew:
-- the callers' staging no longer runs), then the
-- auto-pause reason ('' when no record paused the campaign), then the
-- campaign's recipients sent after this call, or -1 when it recorded none
-- sent and made no claim (a worker compares it with its own delivery
-- journal), then a pair (record number, outcome written) for each record
-- the ledger did not write as its kind ('' for one that changed nothing;
-- a give-back's pending, deferred, cancelled or ''), none when the
-- campaign is gone or staged anew.
-- Claim results (store.Claim* in Go):
local NONE, OK, SKIP, STOP, STALE, GONE, DOUBT = 0, 1, 2, 3, 4, 5, 6

local ctl = redis.call('HMGET', KEYS[3], 'state', 'stage', 'cur_batch', 'idle_since', 'idle_pending_ms')
local state, stage, curBatch = ctl[1], ctl[2], tonumber(ctl[3] or '-1')
local claimed = false -- a claim of the current batch was made: its idle time ends
local nops = tonumber(ARGV[9])
local out = {}
-- push appends its arguments (never nil) to the answer, without a table
-- of them (it runs once per claim).
local function push(...)
  for i = 1, select('#', ...) do out[#out + 1] = (select(i, ...)) end
end
if not state or stage ~= ARGV[1] then
  -- The campaign is gone (Redis lost its state) or was staged anew: write
  -- nothing, so that no stale key is left behind.
  -- ... but the give-backs of claims of a staging before, never sent
  -- (lua/step.lua's giveBackStale), one recipient at a time.
  local res = state and STALE or GONE
  local function holder(v)
    if not v then return nil end
    local st, a, flag, last = string.match(v, '^([^|]*)|(%d+)|[^|]*|[^|]*|([^|]*)|(.*)$')
    if st == 'sending' then return st, tonumber(a), a, last end
    if st == 'in-doubt' then return st, tonumber(a), a, string.match(flag, '^k:(.*)$') or '' end
    return st, tonumber(a), a, nil
  end
  for s = 0, nops - 1 do
    local o = 10 + s * 8
    if ARGV[o] == 'c' then push(res, 0) end
    local rid, tok, now = ARGV[o + 1], ARGV[o + 7], ARGV[8]
    if state and ARGV[o] == 'r' and ARGV[o + 2] == 'unclaim' and tok ~= '' then
      local cs, ca, as, h = holder(redis.call('HGET', KEYS[1], rid))
      local hv = h == tok and redis.call('HGET', KEYS[11], tok)
      local at = hv and cjson.decode(hv)
      if at and at.i ~= rid then
        redis.call('HSET', KEYS[1], rid, 'cancelled|' .. as .. '|' .. now .. '|||claimed by an earlier staging, never sent')
        cs, ca, as, h = holder(redis.call('HGET', KEYS[1], at.i))
        rid = at.i
      end
      if h ~= tok then
      elseif at then
        redis.call('HDEL', KEYS[11], tok)
        for _, f in ipairs({'in-doubt', 'lang:' .. at.l .. ':in-doubt'}) do redis.call('HINCRBY', KEYS[2], f, -1) end
        redis.call('HINCRBY', KEYS[4], at.b .. ':in-doubt', -1)
        redis.call('HINCRBY', KEYS[4], at.b .. ':attempted', -1)
        if state == 'cancelled' or state == 'done' then
          redis.call('HSET', KEYS[1], rid, 'cancelled|' .. as .. '|' .. now .. '|||cancelled (claimed by an earlier staging, never sent)')
          for _, f in ipairs({'cancelled', 'lang:' .. at.l .. ':cancelled'}) do redis.call('HINCRBY', KEYS[2], f, 1) end
          redis.call('HINCRBY', KEYS[4], at.b .. ':cancelled', 1)
        else
          redis.call('SREM', KEYS[12], at.c)
          if ca <= 1 then
            redis.call('HDEL', KEYS[1], rid)
          else
            redis.call('HSET', KEYS[1], rid, 'deferred|' .. (ca - 1) .. '|0||t|not sent: claim given back')
            redis.call('HINCRBY', KEYS[2], 'deferred', 1)
          end
        end
      elseif cs == 'in-doubt' then
        redis.call('HSET', KEYS[1], rid, 'cancelled|' .. as .. '|' .. now .. '|||cancelled (claimed, never sent)')
      elseif ca <= 1 then
        redis.call('HDEL', KEYS[1], rid)
      else
        redis.call('HSET', KEYS[1], rid, 'deferred|' .. (ca - 1) .. '|0||t|not sent: claim given back')
      end
    end
  end
  push('', '', -1)
  return out
end

local maxAtt = tonumber(ARGV[2])
local W, thr, minAtt = tonumber(ARGV[3]), tonumber(ARGV[4]), math.max(tonumber(ARGV[5]), 1)
local now = ARGV[8]
-- Counter increments, summed per call and written once at the end; kept
-- by language and by batch in nested tables so that no field name is built
-- per recipient.
local cnt, lcnt, bcnt = {}, {}, {}
local deferredAt = {} -- attempts (as written) -> true: a temporary failure deferred at that attempt
local function add(t, k, n) t[k] = (t[k] or 0) + n end
local function sub(t, k)
  t[k] = t[k] or {}
  return t[k]
end
local function badd(batch, counter, n) add(sub(bcnt, batch), counter, n) end
local function bump(lang, outcome, batch, n)
  add(cnt, outcome, n)
  add(sub(lcnt, lang), outcome, n)
  badd(batch, outcome, n)
end
-- parse splits a ledger entry: its state, attempts (a number and as
-- written), and the token of the claim that holds it: a claim's (sending),
-- or the claim in doubt's (in-doubt; '' when it has none); nil for other
-- states. One match, and no number printed again, per entry.
local function parse(v)
  if not v then return nil, 0, '0', nil end
  local st, a, flag, last = string.match(v, '^([^|]*)|(%d+)|[^|]*|[^|]*|([^|]*)|(.*)$')
  local h = nil
  if st == 'sending' then
    h = last
  elseif st == 'in-doubt' then
    h = string.match(flag, '^k:(.*)$') or ''
  end
  return st, tonumber(a), a, h
end

-- decide: a retry's outcome, sent or not, of a recipient whose
-- first-attempt error a retry re-queued ('rt', 'rp' in gate1).
local function decide(rid, batch, sent)
  local g = redis.call('HGET', KEYS[13], rid)
  if g == 'rt' or g == 'rp' then
    local t = g == 'rt'
    badd(batch, 'retried1', -1)
    if t then badd(batch, 'retried1t', -1) end
    if sent then
      badd(batch, 'errors1', -1)
      if t then badd(batch, 'temp1', -1) end
      redis.call('HDEL', KEYS[13], rid)
    else
      redis.call('HSET', KEYS[13], rid, t and 't' or 'p')
    end
  end
end

-- counted: auto-pause window positions used by this call; the window's
-- position before it (p0) is read only when an error needs a position.
local counted, p0 = 0, nil
-- records: the records applied (progress_at); deferrals: of them, the
-- temporary failures deferred for a retry (no outcome: not in persec).
local pushed, records, deferrals = false, 0, 0
local paused = ''
local wrote, nrec = {}, 0 -- pairs (record number, outcome written) not its kind
local function differs(outcome)
  wrote[#wrote + 1] = nrec
  wrote[#wrote + 1] = outcome
end
for s = 0, nops - 1 do
  local o = 10 + s * 8
  if ARGV[o] == 'r' then
    nrec = nrec + 1
    local rid, kind, code, resp, lang, batch, tok = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4], ARGV[o + 5], ARGV[o + 6], ARGV[o + 7]
    local cur = redis.call('HGET', KEYS[1], rid)
    local cs, ca, as, h = parse(cur)
    if kind == 'unclaim' then
      -- The claim was made but nothing was sent (its write was not
      -- acknowledged by the replicas, or the worker is stopping): the
      -- recipient is pending again (a retry due at once: at 0); cancelled
      -- when a cancel marked it in doubt meanwhile (lua/sweep_chunk.lua).
      -- A give-back without a token holds no claim: it changes nothing
      -- (an entry in doubt without one may have been delivered).
      if tok == '' then
        differs('')
      elseif cs == 'in-doubt' and h == tok and state == 'cancelled' then
        redis.call('HSET', KEYS[1], rid, 'cancelled|' .. as .. '|' .. now .. '|||cancelled (claimed, never sent)')
        bump(lang, 'in-doubt', batch, -1)
        bump(lang, 'cancelled', batch, 1)
        -- Never sent: not attempted after all (the cancel counted it).
        if ca == 1 then badd(batch, 'attempted', -1) end
        differs('cancelled')
      elseif cs == 'sending' and h == tok then
        if ca <= 1 then
          redis.call('HDEL', KEYS[1], rid)
          differs('pending')
        else
          redis.call('HSET', KEYS[1], rid, 'deferred|' .. (ca - 1) .. '|0||t|not sent: claim given back')
          add(cnt, 'deferred', 1)
          differs('deferred')
        end
      else
        differs('')
      end
    elseif cur == false or (h and (tok == '' or h == '' or h == tok)) then
      -- No entry: the claim was lost with the last second of a Redis that
      -- restarted; the outcome is still the truth.
      if cur == false then ca, as = 1, '1' end
      local first = (ca == 1 and cs ~= 'in-doubt')
      if cs == 'in-doubt' then bump(lang, 'in-doubt', batch, -1) end
      local st, flag, err = kind, '', false
      local shown = resp -- the ledger's text; the errors list keeps resp
      if kind == 'temp' then
        err, flag = true, 't'
        badd(batch, 'temp', 1)
        if ca < maxAtt then st = 'deferred' else st = 'failed' end
        -- A temporary failure after cancel is not retried: it would stay
        -- pending for ever in a cancelled campaign (worded as
        -- lua/sweep_chunk.lua words a cancelled retry).
        if st == 'deferred' and state == 'cancelled' then
          st, flag, shown = 'cancelled', '', 'cancelled after a temporary failure; last reply: ' .. resp
        elseif st == 'deferred' and cs == 'in-doubt' then
          -- The late record of a claim another pass found in doubt: final
          -- (its chunk may be finished), failed as a temporary failure.
          st, shown = 'failed', 'not retried automatically: another pass of its chunk had recorded it in doubt; last reply: ' .. resp
        end
      elseif kind == 'failed' then
        err = true
        badd(batch, 'perm', 1)
      elseif kind == 'in-doubt' then
        -- An error of the gates (never sent again all the same), but a
        -- claim a broken journal abandoned.
        err = code ~= 'claimed-no-outcome'
        -- Only this claim's own late record may replace it (a stale record
        -- of an earlier claim must not make it due again).
        if tok ~= '' then flag = 'k:' .. tok end
      end
      redis.call('HSET', KEYS[1], rid, st .. '|' .. as .. '|' .. now .. '|' .. code .. '|' .. flag .. '|' .. shown)
      if st ~= kind then differs(st) end
      if first then
        badd(batch, 'attempted', 1)
        if err then badd(batch, 'errors1', 1) end
        if err and kind == 'temp' then badd(batch, 'temp1', 1) end
        if err and kind == 'in-doubt' then badd(batch, 'doubt1', 1) end -- of errors1: not a claim abandoned
        if err then redis.call('HSET', KEYS[13], rid, kind == 'temp' and 't' or 'p') end
      elseif ca > 1 then
        decide(rid, batch, kind == 'sent')
      end
      if st == 'deferred' then
        deferredAt[as] = true -- due the backoff of attempt `as` after now
        add(cnt, 'deferred', 1)
        deferrals = deferrals + 1
      else
        bump(lang, st, batch, 1)
      end
      records = records + 1
      if err then
        redis.call('LPUSH', KEYS[7], cjson.encode({t = tonumber(now), id = rid, code = code, r = resp, temp = (kind == 'temp'), doubt = (kind == 'in-doubt') or nil}))
        pushed = true
      end
      -- The auto-pause window counts first attempts (whatever their result)
      -- and retries that end for good; a retry that fails temporarily again
      -- (greylisting) is reported, not counted.
      local counts = (kind == 'sent' or kind == 'failed' or kind == 'temp' or (kind == 'in-doubt' and err)) and (first or st ~= 'deferred')
      if W > 0 and counts then
        counted = counted + 1
        if err then
          if not p0 then p0 = tonumber(redis.call('HGET', KEYS[5], 'p') or '0') end
          local p = p0 + counted
          redis.call('ZADD', KEYS[6], p, p)
          redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', p - W)
          if thr > 0 and state == 'running' then
            local e = redis.call('ZCARD', KEYS[6])
            local n = math.min(p, W)
            if n >= minAtt and e / n > thr then
              local r = code
              if r ~= '' and resp ~= '' then r = r .. ' ' end
              r = r .. resp
              if kind == 'in-doubt' then r = 'in doubt, ' .. r end
              paused = string.format('auto-pause: error rate %d%% over the last %d attempts (last error: %s)', math.floor(e * 100 / n + 0.5), n, r)
              state = 'paused' -- written at the end, when something is left to send
            end
          end
        end
      end
    else
      differs('') -- stale: another claim's outcome stands
    end
  else
    local res, att = NONE, 0
    local cid, lang, batch, token = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
    if state ~= 'running' or tonumber(batch) > curBatch then
      -- Not running, or a batch not released yet: the gates fail closed.
      res = STOP
    elseif redis.call('HSETNX', KEYS[1], cid, 'sending|1|' .. now .. '|||' .. token) == 1 then
      res, att = OK, 1
    else
      local cur = redis.call('HGET', KEYS[1], cid)
      local cs, ca, as, h = parse(cur)
      if cs == 'deferred' then
        att = ca + 1
        if string.find(cur, '^deferred|%d+|[^|]*|[^|]*||') then
          add(cnt, 'deferred_perm', -1)
          badd(batch, 'deferred_perm', -1)
        end
        redis.call('HSET', KEYS[1], cid, 'sending|' .. att .. '|' .. now .. '|||' .. token)
        add(cnt, 'deferred', -1)
        res = OK
      elseif cs == 'sending' and h == token then
        -- The same claim run again (its answer was lost): still this
        -- caller's, and nothing was sent yet.
        res, att = OK, ca
      elseif cs == 'sending' then
        redis.call('HSET', KEYS[1], cid, 'in-doubt|' .. as .. '|' .. now .. '||k:' .. h .. '|claimed before a crash; the SMTP server may have accepted it')
        bump(lang, 'in-doubt', batch, 1)
        if ca == 1 then badd(batch, 'attempted', 1) end
        if ca > 1 then decide(cid, batch, false) end
        res, att = DOUBT, ca
      else
        res, att = SKIP, ca
      end
    end
    if res == OK and tonumber(batch) == curBatch then claimed = true end
    push(res, att)
  end
end
-- The first claim since the current batch's release or a resume ends its
-- idle time (idle_since, lua/tick.lua and lua/transition.lua): idle_ms is
-- no sending time of the batch (the ETA between batches, store.eta).
if claimed and ctl[4] then
  local t = redis.call('TIME') -- Redis's clock, which started it
  redis.call('HINCRBY', KEYS[3], 'idle_ms', math.max(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ctl[4]), 0) + tonumber(ctl[5] or '0'))
  redis.call('HDEL', KEYS[3], 'idle_since', 'idle_pending_ms')
end
-- flush writes the increments of t (counter -> n) to hash key, each
-- counter's field being prefix .. counter, and returns the new values.
local function flush(key, prefix, t)
  local v = {}
  for f, n in pairs(t) do
    if n ~= 0 then v[f] = redis.call('HINCRBY', key, prefix .. f, n) end
  end
  return v
end
-- The campaign's recipients sent so far comes back from its own counter's
-- increment; read when this call sent nobody but made claims (a worker
-- compares it with its journal before it sends to them: a Redis restored
-- from an older backup has forgotten deliveries, and its ledger would let
-- those recipients be claimed again); -1 for a call with neither.
local sent = flush(KEYS[2], '', cnt).sent
if not sent then sent = #out > 0 and (tonumber(redis.call('HGET', KEYS[2], 'sent')) or 0) or -1 end
for l, t in pairs(lcnt) do flush(KEYS[2], 'lang:' .. l .. ':', t) end
for b, t in pairs(bcnt) do flush(KEYS[4], b .. ':', t) end
if counted > 0 then redis.call('HINCRBY', KEYS[5], 'p', counted) end
if records > deferrals then
  redis.call('HINCRBY', KEYS[9], string.sub(now, 1, -4), records - deferrals)
  redis.call('HSET', KEYS[2], 'progress_at', now)
end
-- deferred_at:<attempts>: when a temporary failure of that attempt was
-- last deferred; its retry is due the campaign's backoff for that attempt
-- later (what a worker waits for), so the retries waiting are due by the
-- latest of those (store.Status.RetriesDue, which the ETA waits for).
local dat, nd = {}, 0
for a in pairs(deferredAt) do
  dat[nd + 1], dat[nd + 2] = 'deferred_at:' .. a, now
  nd = nd + 2
end
if nd > 0 then redis.call('HSET', KEYS[2], unpack(dat)) end
if paused ~= '' then
  local terminal = 0
  for _, o in ipairs({'sent', 'failed', 'in-doubt', 'refused', 'invalid', 'skipped', 'cancelled'}) do
    terminal = terminal + tonumber(redis.call('HGET', KEYS[2], o) or '0')
  end
  if terminal >= tonumber(redis.call('HGET', KEYS[3], 'total') or '0') then
    paused, state = '', 'running'
  else
    local t = redis.call('TIME') -- Redis's clock, not the worker's now
    local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    redis.call('HSET', KEYS[3], 'state', 'paused', 'reason', paused, 'by', 'auto-pause', 'at', at, 'action', 'auto-pause')
    redis.call('RPUSH', KEYS[8], cjson.encode({at = at, who = 'tidings-worker', host = ARGV[6], env = ARGV[7], action = 'auto-pause', reason = paused}))
  end
end
if pushed then redis.call('LTRIM', KEYS[7], 0, 99) end
push(state, paused, sent)
for i = 1, #wrote do out[#out + 1] = wrote[i] end
return out
