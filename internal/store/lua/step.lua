-- step.lua: the ledger step. Groups of operations, run in order as if each
-- were its own call: a record writes the outcome of a recipient claimed
-- earlier; a claim takes a recipient for sending. The operations of several
-- callers (a worker's concurrent chunks, each recording the outcomes of its
-- last window of recipients and claiming its next window) share one call
-- (group commit).
--
-- Its cost is dominated by what is sent to it and by the Redis calls it
-- makes, so both are kept small: a claim is one argument, a record five;
-- one HMGET reads every ledger entry the call touches, the operations run on
-- that copy in order, one HSET (and one HDEL) writes every change back, and
-- each counter hash is read and written once.
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
--   8 now (unix ms)                      9 number of groups
--   then the groups, in order:
--     'r', batch, n, then n x (id, kind, code, response, lang)
--       kinds: sent | failed (permanent) | temp | refused | skipped |
--       in-doubt | unclaim (give back a claim that was not used; its
--       response is the claim's token)
--     'c', batch, token, n, langs (the n languages joined by ","), then n ids
-- Returns 2 values per claim (claim result, attempt number), then the
-- auto-pause reason ('' when no record paused the campaign), then the
-- campaign's recipients sent after this call, or -1 when it recorded none
-- sent (a worker compares it with its own delivery journal).
-- Claim results (store.Claim* in Go):
local NONE, OK, SKIP, STOP, STALE, GONE = 0, 1, 2, 3, 4, 5

local ctl = redis.call('HMGET', KEYS[3], 'state', 'stage', 'cur_batch')
local state, stage, curBatch = ctl[1], ctl[2], tonumber(ctl[3] or '-1')
local ngroups = tonumber(ARGV[9])

-- The groups, decoded once: their operations and every id they touch.
local groups, ids, seen = {}, {}, {}
local a = 10
for g = 1, ngroups do
  local gr = {kind = ARGV[a], batch = ARGV[a + 1]}
  local step = 1
  if gr.kind == 'r' then
    gr.n = tonumber(ARGV[a + 2])
    a = a + 3
    step = 5
  else
    gr.token, gr.n, gr.langs = ARGV[a + 2], tonumber(ARGV[a + 3]), ARGV[a + 4]
    a = a + 5
  end
  gr.at = a
  for i = 0, gr.n - 1 do
    local id = ARGV[a + i * step]
    if not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
  a = a + gr.n * step
  groups[g] = gr
end

local out = {}
if not state or stage ~= ARGV[1] then
  -- The campaign is gone (Redis lost its state) or was staged anew: write
  -- nothing, so that no stale key is left behind.
  local res = GONE
  if state then res = STALE end
  for _, gr in ipairs(groups) do
    if gr.kind == 'c' then
      for i = 1, gr.n do
        out[#out + 1] = res
        out[#out + 1] = 0
      end
    end
  end
  out[#out + 1] = ''
  out[#out + 1] = -1
  return out
end

local maxAtt = tonumber(ARGV[2])
local W, thr, minAtt = tonumber(ARGV[3]), tonumber(ARGV[4]), math.max(tonumber(ARGV[5]), 1)
local now = ARGV[8]

local entry, changed = {}, {}
if #ids > 0 then
  local vals = redis.call('HMGET', KEYS[1], unpack(ids))
  for i, id in ipairs(ids) do entry[id] = vals[i] end
end
local function set(id, v)
  entry[id] = v
  changed[id] = true
end

-- Counter increments, summed here and written once per hash at the end.
local counts, bstats = {}, {}
local function add(t, field, n) t[field] = (t[field] or 0) + n end
local function bump(lang, outcome, batch, n)
  add(counts, outcome, n)
  add(counts, 'lang:' .. lang .. ':' .. outcome, n)
  add(bstats, batch .. ':' .. outcome, n)
end
local function langsOf(s)
  local t = {}
  for l in string.gmatch(s, '[^,]+') do t[#t + 1] = l end
  return t
end

local p, p0 = nil, 0
local errs, records = {}, 0
local paused = ''
for _, gr in ipairs(groups) do
  local batch = gr.batch
  if gr.kind == 'r' then
    for i = 0, gr.n - 1 do
      local o = gr.at + 5 * i
      local rid, kind, code, resp, lang = ARGV[o], ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
      local cur = entry[rid]
      local cs, ca = nil, 0
      if cur then
        cs, ca = string.match(cur, '^([^|]*)|(%d+)|')
        ca = tonumber(ca)
      end
      if kind == 'unclaim' then
        -- The claim was made but nothing was sent (its write was not
        -- acknowledged by the replicas, or the worker is stopping): the
        -- recipient is pending again.
        if cs == 'sending' and string.match(cur, '|([^|]*)$') == resp then
          if ca <= 1 then
            set(rid, false)
          else
            set(rid, 'deferred|' .. (ca - 1) .. '|' .. now .. '||t|not sent: claim given back')
            add(counts, 'deferred', 1)
          end
        end
      elseif cur == false or cs == 'sending' or cs == 'in-doubt' then
        -- No entry: the claim was lost with the last second of a Redis that
        -- restarted; the outcome is still the truth.
        if cur == false then ca = 1 end
        local first = (ca == 1 and cs ~= 'in-doubt')
        if cs == 'in-doubt' then bump(lang, 'in-doubt', batch, -1) end
        local st, flag, err = kind, '', false
        if kind == 'temp' then
          err, flag = true, 't'
          if ca < maxAtt then st = 'deferred' else st = 'failed' end
          -- A temporary failure after cancel is not retried: it would stay
          -- pending for ever in a cancelled campaign.
          if st == 'deferred' and state == 'cancelled' then st = 'cancelled' end
        elseif kind == 'failed' then
          err = true
        end
        set(rid, st .. '|' .. ca .. '|' .. now .. '|' .. code .. '|' .. flag .. '|' .. resp)
        if first then
          add(bstats, batch .. ':attempted', 1)
          if err then add(bstats, batch .. ':errors1', 1) end
        end
        if st == 'deferred' then
          add(counts, 'deferred', 1)
        else
          bump(lang, st, batch, 1)
        end
        if kind == 'temp' then
          add(bstats, batch .. ':temp', 1)
        elseif kind == 'failed' then
          add(bstats, batch .. ':perm', 1)
        end
        records = records + 1
        if err then
          errs[#errs + 1] = cjson.encode({t = tonumber(now), id = rid, code = code, r = resp, temp = (kind == 'temp')})
        end
        -- The auto-pause window counts first attempts (whatever their
        -- result) and retries that end for good; a retry that fails
        -- temporarily again (greylisting) is reported, not counted.
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
                redis.call('HSET', KEYS[3], 'state', 'paused', 'reason', paused, 'by', 'auto-pause', 'at', now)
                redis.call('RPUSH', KEYS[8], cjson.encode({at = tonumber(now), who = 'tidings-worker', host = ARGV[6], env = ARGV[7], action = 'auto-pause', reason = paused}))
                state = 'paused'
              end
            end
          end
        end
      end
    end
  else
    local tok, released = gr.token, (tonumber(batch) <= curBatch)
    for i = 0, gr.n - 1 do
      local cid = ARGV[gr.at + i]
      local cur = entry[cid]
      local res, att = NONE, 0
      if state ~= 'running' or not released then
        -- Not running, or a batch not released yet: the gates fail closed.
        res = STOP
      elseif cur == false then
        set(cid, 'sending|1|' .. now .. '|||' .. tok)
        res, att = OK, 1
      else
        local cs, ca = string.match(cur, '^([^|]*)|(%d+)|')
        ca = tonumber(ca)
        if cs == 'deferred' then
          att = ca + 1
          set(cid, 'sending|' .. att .. '|' .. now .. '|||' .. tok)
          add(counts, 'deferred', -1)
          res = OK
        elseif cs == 'sending' and string.match(cur, '|([^|]*)$') == tok then
          -- The same claim run again (its answer was lost): still this
          -- caller's, and nothing was sent yet.
          res, att = OK, ca
        elseif cs == 'sending' then
          set(cid, 'in-doubt|' .. ca .. '|' .. now .. '|||claimed before a crash; the SMTP server may have accepted it')
          gr.langList = gr.langList or langsOf(gr.langs)
          bump(gr.langList[i + 1], 'in-doubt', batch, 1)
          if ca == 1 then add(bstats, batch .. ':attempted', 1) end
          res, att = SKIP, ca
        else
          res, att = SKIP, ca
        end
      end
      out[#out + 1] = res
      out[#out + 1] = att
    end
  end
end

-- Write back: the ledger entries changed, then each counter hash once.
local hset, hdel = {}, {}
for id in pairs(changed) do
  local v = entry[id]
  if v then
    hset[#hset + 1] = id
    hset[#hset + 1] = v
  else
    hdel[#hdel + 1] = id
  end
end
if #hset > 0 then redis.call('HSET', KEYS[1], unpack(hset)) end
if #hdel > 0 then redis.call('HDEL', KEYS[1], unpack(hdel)) end
if records > 0 then counts.progress_at = 0 end
-- The campaign's recipients sent so far, from its own counter; -1 when
-- this call sent nobody (the caller then cannot tell).
local sent = -1
for key, t in pairs({[KEYS[2]] = counts, [KEYS[4]] = bstats}) do
  local fields = {}
  for f, n in pairs(t) do
    if n ~= 0 or f == 'progress_at' then fields[#fields + 1] = f end
  end
  if #fields > 0 then
    local cur = redis.call('HMGET', key, unpack(fields))
    local kv = {}
    for i, f in ipairs(fields) do
      local v = now
      if f ~= 'progress_at' then
        v = tonumber(cur[i] or '0') + t[f]
        if t == counts and f == 'sent' then sent = v end
      end
      kv[#kv + 1] = f
      kv[#kv + 1] = v
    end
    redis.call('HSET', key, unpack(kv))
  end
end
if p and p ~= p0 then redis.call('HINCRBY', KEYS[5], 'p', p - p0) end
if records > 0 then redis.call('HINCRBY', KEYS[9], string.sub(now, 1, -4), records) end
if #errs > 0 then
  redis.call('LPUSH', KEYS[7], unpack(errs))
  redis.call('LTRIM', KEYS[7], 0, 99)
end
out[#out + 1] = paused
out[#out + 1] = sent
return out
