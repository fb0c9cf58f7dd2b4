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
--   2 counts   HASH <outcome>, lang:<l>:<outcome>, deferred, progress_at
--   3 control  HASH state, stage, cur_batch, ...
--   4 bstats   HASH "<batch>:<counter>"
--   5 win      HASH p: window positions used so far
--   6 winerr   ZSET window positions whose attempt failed
--   7 errors   LIST the last 100 failures (JSON)
--   8 audit    LIST audit entries (JSON)
--   9 persec   HASH unix second -> records (the status rate)
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
-- auto-pause reason ('' when no record paused the campaign), then the
-- campaign's recipients sent after this call, or -1 when it recorded none
-- sent (a worker compares it with its own delivery journal).
-- Claim results (store.Claim* in Go):
local NONE, OK, SKIP, STOP, STALE, GONE = 0, 1, 2, 3, 4, 5

local ctl = redis.call('HMGET', KEYS[3], 'state', 'stage', 'cur_batch')
local state, stage, curBatch = ctl[1], ctl[2], tonumber(ctl[3] or '-1')
local nops = tonumber(ARGV[9])
local out = {}
if not state or stage ~= ARGV[1] then
  -- The campaign is gone (Redis lost its state) or was staged anew: write
  -- nothing, so that no stale key is left behind.
  local res = GONE
  if state then res = STALE end
  for s = 0, nops - 1 do
    if ARGV[10 + s * 8] == 'c' then
      out[#out + 1] = res
      out[#out + 1] = 0
    end
  end
  out[#out + 1] = ''
  out[#out + 1] = -1
  return out
end

local maxAtt = tonumber(ARGV[2])
local W, thr, minAtt = tonumber(ARGV[3]), tonumber(ARGV[4]), math.max(tonumber(ARGV[5]), 1)
local now = ARGV[8]
local inc = {}
local function add(key, field, n)
  local t = inc[key]
  if not t then t = {} inc[key] = t end
  t[field] = (t[field] or 0) + n
end
local function bump(lang, outcome, batch, n)
  add(KEYS[2], outcome, n)
  add(KEYS[2], 'lang:' .. lang .. ':' .. outcome, n)
  add(KEYS[4], batch .. ':' .. outcome, n)
end
local function parse(v)
  if not v then return nil, 0 end
  local st, a = string.match(v, '^([^|]*)|(%d+)|')
  return st, tonumber(a)
end
-- The token of the claim that holds an entry: a claim's (sending), or the
-- claim in doubt's (in-doubt; '' when it has none); nil for other states.
local function held(cs, v)
  if cs == 'sending' then return string.match(v, '|([^|]*)$') end
  if cs == 'in-doubt' then return string.match(v, '^[^|]*|%d+|[^|]*|[^|]*|k:([^|]*)|') or '' end
  return nil
end

local p, p0 = nil, 0
local pushed, records = false, 0
local paused = ''
for s = 0, nops - 1 do
  local o = 10 + s * 8
  if ARGV[o] == 'r' then
    local rid, kind, code, resp, lang, batch, tok = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4], ARGV[o + 5], ARGV[o + 6], ARGV[o + 7]
    local cur = redis.call('HGET', KEYS[1], rid)
    local cs, ca = parse(cur)
    local h = held(cs, cur)
    if kind == 'unclaim' then
      -- The claim was made but nothing was sent (its write was not
      -- acknowledged by the replicas, or the worker is stopping): the
      -- recipient is pending again (a retry due at once: at 0); cancelled
      -- when a cancel marked it in doubt meanwhile (lua/sweep_chunk.lua).
      if cs == 'in-doubt' and h == tok and state == 'cancelled' then
        redis.call('HSET', KEYS[1], rid, 'cancelled|' .. ca .. '|' .. now .. '|||cancelled (claimed, never sent)')
        bump(lang, 'in-doubt', batch, -1)
        bump(lang, 'cancelled', batch, 1)
      elseif cs == 'sending' and h == tok then
        if ca <= 1 then
          redis.call('HDEL', KEYS[1], rid)
        else
          redis.call('HSET', KEYS[1], rid, 'deferred|' .. (ca - 1) .. '|0||t|not sent: claim given back')
          add(KEYS[2], 'deferred', 1)
        end
      end
    elseif cur == false or (h and (tok == '' or h == '' or h == tok)) then
      -- No entry: the claim was lost with the last second of a Redis that
      -- restarted; the outcome is still the truth.
      if cur == false then ca = 1 end
      local first = (ca == 1 and cs ~= 'in-doubt')
      if cs == 'in-doubt' then bump(lang, 'in-doubt', batch, -1) end
      local st, flag, err = kind, '', false
      if kind == 'temp' then
        err, flag = true, 't'
        add(KEYS[4], batch .. ':temp', 1)
        if ca < maxAtt then st = 'deferred' else st = 'failed' end
        -- A temporary failure after cancel is not retried: it would stay
        -- pending for ever in a cancelled campaign.
        if st == 'deferred' and state == 'cancelled' then st = 'cancelled' end
      elseif kind == 'failed' then
        err = true
        add(KEYS[4], batch .. ':perm', 1)
      elseif kind == 'in-doubt' and tok ~= '' then
        -- Only this claim's own late record may replace it (a stale record
        -- of an earlier claim must not make it due again).
        flag = 'k:' .. tok
      end
      redis.call('HSET', KEYS[1], rid, st .. '|' .. ca .. '|' .. now .. '|' .. code .. '|' .. flag .. '|' .. resp)
      if first then
        add(KEYS[4], batch .. ':attempted', 1)
        if err then add(KEYS[4], batch .. ':errors1', 1) end
      end
      if st == 'deferred' then
        add(KEYS[2], 'deferred', 1)
      else
        bump(lang, st, batch, 1)
      end
      records = records + 1
      if err then
        redis.call('LPUSH', KEYS[7], cjson.encode({t = tonumber(now), id = rid, code = code, r = resp, temp = (kind == 'temp')}))
        pushed = true
      end
      -- The auto-pause window counts first attempts (whatever their result)
      -- and retries that end for good; a retry that fails temporarily again
      -- (greylisting) is reported, not counted.
      local counted = (kind == 'sent' or kind == 'failed' or kind == 'temp') and (first or st ~= 'deferred')
      if W > 0 and counted then
        if not p then
          p0 = tonumber(redis.call('HGET', KEYS[5], 'p') or '0')
          p = p0
        end
        p = p + 1
        if err then
          redis.call('ZADD', KEYS[6], p, p)
          redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', p - W)
          if thr > 0 and state == 'running' then
            local e = redis.call('ZCARD', KEYS[6])
            local n = math.min(p, W)
            if n >= minAtt and e / n > thr then
              local r = code
              if r ~= '' and resp ~= '' then r = r .. ' ' end
              r = r .. resp
              paused = string.format('auto-pause: error rate %d%% over the last %d attempts (last error: %s)', math.floor(e * 100 / n + 0.5), n, r)
              redis.call('HSET', KEYS[3], 'state', 'paused', 'reason', paused, 'by', 'auto-pause', 'at', now, 'action', 'auto-pause')
              redis.call('RPUSH', KEYS[8], cjson.encode({at = tonumber(now), who = 'tidings-worker', host = ARGV[6], env = ARGV[7], action = 'auto-pause', reason = paused}))
              state = 'paused'
            end
          end
        end
      end
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
      local cs, ca = parse(cur)
      if cs == 'deferred' then
        att = ca + 1
        redis.call('HSET', KEYS[1], cid, 'sending|' .. att .. '|' .. now .. '|||' .. token)
        add(KEYS[2], 'deferred', -1)
        res = OK
      elseif cs == 'sending' and string.match(cur, '|([^|]*)$') == token then
        -- The same claim run again (its answer was lost): still this
        -- caller's, and nothing was sent yet.
        res, att = OK, ca
      elseif cs == 'sending' then
        redis.call('HSET', KEYS[1], cid, 'in-doubt|' .. ca .. '|' .. now .. '||k:' .. held(cs, cur) .. '|claimed before a crash; the SMTP server may have accepted it')
        bump(lang, 'in-doubt', batch, 1)
        if ca == 1 then add(KEYS[4], batch .. ':attempted', 1) end
        res, att = SKIP, ca
      else
        res, att = SKIP, ca
      end
    end
    out[#out + 1] = res
    out[#out + 1] = att
  end
end
-- The campaign's recipients sent so far comes back from its own counter's
-- increment; -1 when this call sent nobody (the caller then cannot tell).
local sent = -1
for key, t in pairs(inc) do
  for f, n in pairs(t) do
    if n ~= 0 then
      local v = redis.call('HINCRBY', key, f, n)
      if key == KEYS[2] and f == 'sent' then sent = v end
    end
  end
end
if p and p ~= p0 then redis.call('HINCRBY', KEYS[5], 'p', p - p0) end
if records > 0 then
  redis.call('HINCRBY', KEYS[9], string.sub(now, 1, -4), records)
  redis.call('HSET', KEYS[2], 'progress_at', now)
end
if pushed then redis.call('LTRIM', KEYS[7], 0, 99) end
out[#out + 1] = paused
out[#out + 1] = sent
return out
