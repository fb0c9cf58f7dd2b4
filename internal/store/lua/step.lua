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
-- "in-doubt" and is never sent again (that claim's answer says so:
-- DOUBT, below).
--
-- KEYS (all of one campaign, so one Cluster slot):
--   1 ledger   HASH id -> "state|attempts|unix ms|code|flag|response or token"
--   2 counts   HASH <outcome>, lang:<l>:<outcome>, deferred, deferred_perm (of
--                   deferred, the permanent failures a retry re-queued:
--                   lua/sweep_chunk.lua), deferred_at:<attempts>, progress_at
--   3 control  HASH state, stage, cur_batch, ...
--   4 bstats   HASH "<batch>:<counter>"; a batch's recipients attempted
--              are tried + sent - sent_late (tried: attempted and not sent
--              when counted; sent_late: of sent, those counted attempted
--              before): a first attempt sent, every call's usual record,
--              increments sent alone (store.BatchProgress.Attempted)
--   5 win      HASH p: window positions used so far
--   6 winerr   ZSET window positions whose attempt failed
--   7 errors   LIST the last 100 failures (JSON), their replies masked
--   8 audit    LIST audit entries (JSON)
--   9 persec   HASH unix second -> records that gave a recipient an outcome
--              (the status rate; a temporary failure deferred for a retry
--              leaves it pending and is not counted)
--  10 wsent    HASH "<run>|<worker>" -> recipients that worker recorded sent
--  11 held     HASH claim token -> where the current staging counted a
--              recipient it kept in doubt holding that claim (giveBackStale)
--  12 finished SET  chunks with nothing left
--  13 gate1    HASH id -> the recipient's first-attempt error the batch
--              gate counts (errors1): 't' temporary, 'p' permanent or in
--              doubt; 'rt', 'rp' while a retry that re-queued it
--              (lua/sweep_chunk.lua) has not ended: its next outcome
--              decides it (sent: taken back; any other: it stands again)
-- ARGV:
--   1 stage id of the callers' tasks     2 max attempts (temporary failures)
--   3 window size (0: auto-pause off)    4 error-rate threshold (0: off)
--   5 minimum attempts in the window     6 host, 7 env (audit of an auto-pause)
--   8 now (unix ms, the worker's clock; a batch's idle time ends at
--     Redis's TIME, the clock that started it, and an auto-pause's `at`
--     and audit entry are Redis's TIME, as lua/tick.lua's state changes)
--   9 the calling worker's field in wsent, "<run>|<worker id>" ('' for
--     none: see the answer's sent count)
--  10 the shape: 7 bytes per operation, its kind's letter, then the index
--     (from 0, 3 bytes, big-endian) of its (lang, batch) pair and of its
--     reply counted on from the pairs (P + the reply's index; a claim's:
--     unused), so that both are read from ARGV[PB + 1] on
--  11 '1' when no recipient is named by two operations of the call, else
--     '0' (the ledger's entries are then read by operation, not by id:
--     see ledger below)
--  12 TP, what every operation's token begins with, passed once: each
--     token below is then the rest of it (a claim's token is its worker's
--     id, '/', a counter: a value's bytes cost Redis too); '' when the
--     tokens do not share one (or one is '')
--   then P pairs lang, batch; R replies code, response; then the ids of
--   the N operations; then their tokens (without TP). No count is passed
--   as a number: tonumber's strtod costs about 2,000 instructions a call,
--   and the shape's and ARGV's lengths say where the ids begin. What several
--   operations share is passed once: each value costs Redis more than most
--   of what the script does with it (docs/benchmarks.md).
--   An operation is a record or a claim:
--     a record: kind, id, code, response, lang, batch, token
--       kinds (letters): sent (s) | failed (f: permanent) | temp (t) |
--              refused (r) | invalid (i: the worker cannot render it) |
--              skipped (k) | in-doubt (d) | unclaim (u: give back a
--              claim that was not used)
--       token: the claim the record is of. A record applies to its own
--       claim only: one that comes again after another claim took the
--       recipient (a step retried, an outage's backlog) changes nothing.
--       '' (no token): it applies to whatever claim holds the recipient.
--     a claim (c): id, lang, batch, token
-- An in-doubt entry keeps the token of the claim in doubt as its flag,
-- "k:<token>", so that the late record (or give-back) of that claim is
-- still applied.
-- Returns the campaign's state after this call ('' when it is gone or
-- was staged anew: the callers' staging no longer runs), then the
-- auto-pause reason ('' when no record paused the campaign), then the
-- recipients the calling worker (ARGV[9]; else the campaign) recorded sent
-- in the run after this call, or -1 when it recorded none sent and
-- made no claim (a worker compares it with its own delivery journal),
-- then the number of claims it answered (every claim of the operations:
-- Go takes a claim the answer says nothing more of for OK at attempt 1,
-- and fails closed when this count is not the number it sent),
-- then, in the order of the operations, what is not the usual answer
-- (none on the hot path: a call that records sent and claims anew answers
-- its four values):
--   for a claim not answered OK at attempt 1, a triple (-claim number,
--   claim result, attempt number) (claims numbered from 1 among the
--   operations' claims); a call whose campaign is gone or staged anew
--   answers one for every claim;
--   for a record whose outcome in the ledger is not its kind, a pair
--   (record number, outcome written) (records numbered from 1 among the
--   operations' records): a temporary failure's deferred, failed (its
--   last attempt, or the late record of a claim in doubt) or cancelled;
--   '' for a record that changed nothing (its claim no longer holds the
--   recipient); a give-back's pending, deferred, cancelled or '' (nothing
--   held). A call whose campaign is gone or staged anew answers none: it
--   records nothing.
-- Claim results (store.Claim* in Go); DOUBT is SKIP said by the claim that
-- found the recipient held by another claim and recorded it in doubt
-- (store.ClaimAnswer.InDoubt: its worker counts that outcome, once):
local NONE, OK, SKIP, STOP, STALE, GONE, DOUBT = 0, 1, 2, 3, 4, 5, 6
-- KIND: a kind's name by its letter; built by the first record off the
-- hot path (below) that needs it: a table of eight keys costs about 3,800
-- instructions to build, a tenth of a message's share of the call
-- (docs/benchmarks.md).
local KIND
local CLAIM, SENT, UNCLAIM = 99, 115, 117 -- the letters c, s, u
-- The globals the loops use, as locals: a global is a table lookup each
-- time it is read, a local a register (docs/benchmarks.md).
local KEYS, ARGV, tonumber = KEYS, ARGV, tonumber
local sbyte, ssub, sfind = string.byte, string.sub, string.find
-- include: final

local ctl = redis.call('HMGET', KEYS[3], 'state', 'stage', 'cur_batch', 'idle_since')
local state, stage = ctl[1], ctl[2]
local claimed = false -- a claim of the current batch was made: its idle time ends
local shape = ARGV[10]
local nops = #shape / 7
-- Where the pairs (then the replies), the ids and the tokens begin
-- (ARGV[PB + 2i + 1] is pair i's lang, ARGV[IB + s] operation s's id).
local PB = 12
local TP = ARGV[12]
local TB = #ARGV - nops
local IB = TB - nops
local ncl = 0 -- the claims, numbered from 1
-- parse splits a ledger entry: its state, attempts (a number and as
-- written), and the token of the claim that holds it: a claim's (sending),
-- or the claim in doubt's (in-doubt; '' when it has none); nil for other
-- states. No number is printed again.
local function parse(v)
  if not v then return nil, 0, '0', nil end
  -- A claim's entry (the one a record replaces), by a shorter match: a
  -- claim writes no code and no flag.
  local a, tok = string.match(v, '^sending|(%d+)|%d*|||(.*)$')
  -- (A first attempt's count without tonumber: its strtod is most of
  -- this function's cost.)
  if a then return 'sending', a == '1' and 1 or tonumber(a), a, tok end
  local st, a, flag, last = string.match(v, '^([^|]*)|(%d+)|[^|]*|[^|]*|([^|]*)|(.*)$')
  local h = nil
  if st == 'sending' then
    h = last
  elseif st == 'in-doubt' then
    h = string.match(flag, '^k:(.*)$') or ''
  end
  return st, tonumber(a), a, h
end

-- The campaign is gone (Redis lost its state) or was staged anew: every
-- claim is answered GONE or STALE, and nothing else is written, so that
-- no stale key is left behind, but the give-backs of a staging before
-- (giveBackStale).
local gone = (not state or stage ~= ARGV[1]) and (state and STALE or GONE)
if gone then
  -- giveBackStale gives back claim tok of recipient rid, made by a staging
  -- before the campaign's current one and never sent (the window it was in
  -- stopped when it found the campaign staged again), when the ledger still
  -- holds it: the cancel of that staging made it in doubt, or it was left
  -- sending (a pause), and a staging since may have kept it in doubt. It is
  -- nobody's outcome: where the current staging counted it (held, by token:
  -- Stager's flush), it leaves in doubt there and is pending again, due at
  -- once (the chunk runs again: finished no more), or cancelled when the
  -- campaign is cancelled or done (never sent); a recipient the current
  -- staging does not hold is counted by no staging: cancelled when a cancel
  -- made it in doubt, else pending.
  local function giveBackStale(rid, tok, now)
    local cs, ca, as, h = parse(redis.call('HGET', KEYS[1], rid))
    if h ~= tok then return end
    local hv = redis.call('HGET', KEYS[11], tok)
    local at = hv and cjson.decode(hv)
    if at and at.i ~= rid then
      -- Staged again under another id, the entry carried over: the old id's
      -- is counted by no staging.
      redis.call('HSET', KEYS[1], rid, 'cancelled|' .. as .. '|' .. now .. '|||claimed by an earlier staging, never sent')
      cs, ca, as, h = parse(redis.call('HGET', KEYS[1], at.i))
      if h ~= tok then return end
      rid = at.i
    end
    if at and at.s then
      -- A row the current staging skipped (a suppression list) and kept
      -- in doubt, in no chunk, counted in the total alone (Stager.Reject):
      -- never sent, so skipped, as that staging makes a row whose claim
      -- was given back before it, and counted so.
      redis.call('HDEL', KEYS[11], tok)
      redis.call('HINCRBY', KEYS[2], 'in-doubt', -1)
      redis.call('HINCRBY', KEYS[2], 'skipped', 1)
      redis.call('HSET', KEYS[1], rid, 'skipped|0|' .. now .. '|' .. (at.k or '') .. '||' .. (at.r or ''))
      return
    end
    if at then
      redis.call('HDEL', KEYS[11], tok)
      local b = tostring(at.b)
      local function count(outcome, n)
        redis.call('HINCRBY', KEYS[2], outcome, n)
        redis.call('HINCRBY', KEYS[2], 'lang:' .. at.l .. ':' .. outcome, n)
        redis.call('HINCRBY', KEYS[4], b .. ':' .. outcome, n)
      end
      count('in-doubt', -1)
      redis.call('HINCRBY', KEYS[4], b .. ':tried', -1) -- the staging counted it attempted
      if state == 'cancelled' or state == 'done' then
        redis.call('HSET', KEYS[1], rid, 'cancelled|' .. as .. '|' .. now .. '|||cancelled (claimed by an earlier staging, never sent)')
        count('cancelled', 1)
        return
      end
      redis.call('SREM', KEYS[12], tostring(at.c))
    elseif cs == 'in-doubt' then
      redis.call('HSET', KEYS[1], rid, 'cancelled|' .. as .. '|' .. now .. '|||cancelled (claimed, never sent)')
      return
    end
    if ca <= 1 then
      redis.call('HDEL', KEYS[1], rid)
    else
      redis.call('HSET', KEYS[1], rid, 'deferred|' .. (ca - 1) .. '|0||t|not sent: claim given back')
      if at then redis.call('HINCRBY', KEYS[2], 'deferred', 1) end
    end
  end
  -- Every claim is answered; the give-backs of a staging before are made.
  local out, n = {'', '', -1, 0}, 4
  for s = 1, nops do
    local k = string.byte(shape, 7 * s - 6)
    if k == CLAIM then
      ncl = ncl + 1
      out[n + 1], out[n + 2], out[n + 3] = -ncl, gone, 0
      n = n + 3
    elseif gone == STALE and k == UNCLAIM and ARGV[TB + s] ~= '' then
      giveBackStale(ARGV[IB + s], TP .. ARGV[TB + s], ARGV[8])
    end
  end
  out[4] = ncl
  return out
end

-- The ledger entries of every recipient named are read with one HMGET
-- and kept in ledger while the operations run in order (each sees what an
-- earlier one wrote); writes are queued in sets (id, entry, ...) and made
-- with one HSET at the end (a field set twice keeps the later entry). One
-- command per call instead of two or three per operation.
-- When no recipient is named twice (ARGV[11], the worker's usual call) and
-- one HMGET reads them all, no operation can see another's write: the
-- entries are read by operation from its answer (byOp[s]) and ledger is not
-- built. A Lua table costs about 900 instructions a new key and 400 a
-- write, more than a message's HMGET field (docs/benchmarks.md).
local ledger, sets, nsets = nil, {}, 0 -- ledger: built here, or by offHot (put)
local byOp = nil
if ARGV[11] == '1' and nops <= 1000 then
  if nops > 0 then byOp = redis.call('HMGET', KEYS[1], unpack(ARGV, IB + 1, IB + nops)) end
else
  ledger = {}
  for i = 1, nops, 1000 do
    local vs = redis.call('HMGET', KEYS[1], unpack(ARGV, IB + i, IB + math.min(i + 999, nops)))
    for j = 1, #vs do ledger[ARGV[IB + i + j - 1]] = vs[j] end
  end
end

-- counting: the auto-pause window is on. Its size, the maximum attempts,
-- the threshold and the minimum attempts are read as numbers where a
-- failure needs them (tonumber's strtod costs about 2,000 instructions).
local counting = ARGV[3] ~= '0'
local now = ARGV[8]
-- Counter increments, summed per call and written once at the end; kept
-- by language and by batch in nested tables so that no field name is built
-- per recipient. Built by offHot: the hot path counts by pair (firstSent),
-- and an empty table costs about 700 instructions a call.
local cnt, lcnt, bcnt
local deferredAt = nil -- attempts (as written) -> true: a temporary failure deferred at that attempt (nil: none)

-- counted: auto-pause window positions used by this call; the window's
-- position before it (p0) is read only when an error needs a position.
local counted, p0 = 0, nil
-- A claim's batch against the current one (ctl[3]): -1 released before
-- it, 0 it, 1 not released yet. The current batch's is told by its text,
-- without tonumber (whose strtod costs about as much as the rest of a
-- claim's Lua: BenchmarkStepCost); another's is kept for the claims after
-- it (relB, relR), not in a table (a table and its key cost about 1,600
-- instructions a call; a call's claims are of one batch or two).
local relB, relR = nil, 0
-- records: the records applied; deferrals: of them, the
-- temporary failures deferred for a retry (no outcome: not in persec).
local pushed, records, deferrals = false, 0, 0
local paused = ''
-- wrote: the answer, its first four values set at the end, then the
-- pairs (record number, outcome written) of the records not written as
-- their kind and the triples of the claims not answered OK at attempt 1;
-- nrec numbers the records.
local wrote, nw, nrec = {false, false, false, false}, 4, 0
-- The helpers of the paths off the hot one (put, badd, bump, masked,
-- decide, differs), built by the first operation that takes one: a
-- closure costs this Redis about 870 instructions to build, every call
-- (docs/benchmarks.md), and a call on the hot path uses none of them.
local put, badd, bump, masked, decide, differs, flushSets
local function offHot()
  cnt, lcnt, bcnt, ledger = {}, {}, {}, ledger or {}
  -- flushSets makes the queued writes, 500 entries at a time (unpack's
  -- stack is bounded); the end of the call makes them without it.
  flushSets = function()
    for i = 1, nsets, 1000 do redis.call('HSET', KEYS[1], unpack(sets, i, math.min(i + 999, nsets))) end
    sets, nsets = {}, 0
  end
  -- put sets a recipient's entry: here at once, in Redis with the others.
  put = function(id, v)
    ledger[id] = v
    sets[nsets + 1], sets[nsets + 2] = id, v
    nsets = nsets + 2
  end
  -- (Written out rather than built from smaller helpers: each Lua call
  -- costs a few hundred instructions, and the interpreter is most of this
  -- script's cost.)
  badd = function(batch, counter, n)
    local t = bcnt[batch]
    if not t then t = {}; bcnt[batch] = t end
    t[counter] = (t[counter] or 0) + n
  end
  bump = function(lang, outcome, batch, n)
    cnt[outcome] = (cnt[outcome] or 0) + n
    local t = lcnt[lang]
    if not t then t = {}; lcnt[lang] = t end
    t[outcome] = (t[outcome] or 0) + n
    t = bcnt[batch]
    if not t then t = {}; bcnt[batch] = t end
    t[outcome] = (t[outcome] or 0) + n
  end
  -- masked is an SMTP reply with every address in it replaced by
  -- <address>: relays name the recipient ("550 5.1.1 <jane@example.org>:
  -- Recipient address rejected"), and the errors list and the auto-pause
  -- reason are grouped by their text (store.Status), shown to every viewer
  -- and posted to notifications (a third party's chat). The ledger keeps the
  -- reply whole (the report, the recipients page). Masked: anything in angle
  -- brackets with an @, then any run of characters an address is written
  -- with that holds an @ (a sentence's final dots stay).
  masked = function(r)
    if not string.find(r, '@', 1, true) then return r end
    r = string.gsub(r, '<[^<>]*@[^<>]*>', '<address>')
    return (string.gsub(r, '[^%s<>%(%)%[%],;:"@]+@[^%s<>%(%),;:"@]+', function(a)
      return '<address>' .. string.match(a, '%.*$')
    end))
  end
  -- decide ends the wait for recipient rid's retried attempt (of batch),
  -- when a retry re-queued it with its first-attempt error in the batch
  -- gate's count (gate1 'rt', 'rp'): sent, that error is taken back;
  -- otherwise it stands again. Only a retry's outcome (no first attempt)
  -- reads gate1.
  decide = function(rid, batch, sent)
    local g = redis.call('HGET', KEYS[13], rid)
    if g ~= 'rt' and g ~= 'rp' then return end
    badd(batch, 'retried1', -1)
    if g == 'rt' then badd(batch, 'retried1t', -1) end
    if sent then
      badd(batch, 'errors1', -1)
      if g == 'rt' then badd(batch, 'temp1', -1) end
      redis.call('HDEL', KEYS[13], rid)
    else
      redis.call('HSET', KEYS[13], rid, string.sub(g, 2))
    end
  end
  differs = function(outcome)
    wrote[nw + 1], wrote[nw + 2] = nrec, outcome
    nw = nw + 2
  end
end
-- The entries every first attempt sent of a reply and every first claim
-- write, but for the claim's token: built once for a run of records of
-- one reply, and once a call.
-- (sentR, sentV: the last reply's index and its entry, kept as locals:
-- a call's records of one reply come together, and a table's key costs
-- more than building the entry again for a reply seen before.)
local sentR, sentV, claimPre = nil, nil, 'sending|1|' .. now .. '|||' .. TP
local firstSent = {} -- pair's ARGV index -> its first attempts sent on the hot path
-- claimedPre: "sending|1|<ms>|||", the entry of a first claim without its
-- token, as the hot path last told it whole (below): the claims of a call
-- share it, so the records of the next call are told by one comparison
-- each (an entry equal to claimedPre .. tok passes the three checks as
-- the entry claimedPre came from did) instead of three C calls, each
-- dearer than the comparison's new string (docs/benchmarks.md). '' at
-- first: no entry equals a token (it holds no '|').
local claimedPre = ''
-- Each Lua instruction costs this Redis about 90 machine instructions: the
-- loop reads only what a path uses (the hot path no language or batch,
-- a claim its batch), and o is the end of operation s in the shape (7 s).
local o = 0
for s = 1, nops do
  o = o + 7
  local k, p1, p2, p3, r1, r2, r3 = sbyte(shape, o - 6, o)
  local pi = PB + 2 * (p1 * 65536 + p2 * 256 + p3)
  -- The recipient and the token of a record's claim, or of a claim
  -- (without TP: tok is made whole off the hot paths).
  local rid, tok = ARGV[IB + s], ARGV[TB + s]
  local cur, n
  if byOp then cur = byOp[s] else cur = ledger[rid] end
  n = #tok
  local hot = false
  if k == SENT and n > 0 and cur then
    if cur == claimedPre .. tok then
      hot = true
    elseif ssub(cur, 1, 10) == 'sending|1|' then
      local whole = TP .. tok
      local m = #whole
      if ssub(cur, -m) == whole and sfind(cur, '|||', 11, true) == #cur - m - 2 then
        hot, claimedPre = true, ssub(cur, 1, -n - 1) -- "sending|1|<ms>|||" .. TP
      end
    end
  end
  if hot then
    -- The hot path: the first attempt of this claim (its entry
    -- "sending|1|<ms>|||<tok>", told without parse: the first "|||"
    -- ends where tok begins, so that the whole token is tok, not a token
    -- that ends with it), sent. What the general path below does for it,
    -- written out.
    nrec = nrec + 1
    local ri = PB + 2 * (r1 * 65536 + r2 * 256 + r3)
    local v = sentV
    if ri ~= sentR then
      v = 'sent|1|' .. now .. '|' .. ARGV[ri + 1] .. '||' .. ARGV[ri + 2]
      sentR, sentV = ri, v
    end
    if not byOp then ledger[rid] = v end
    sets[nsets + 1], sets[nsets + 2] = rid, v
    nsets = nsets + 2
    firstSent[pi] = (firstSent[pi] or 0) + 1 -- sent (so attempted): counted by pair at the end
    records = records + 1
    if counting then counted = counted + 1 end
  elseif k ~= CLAIM then
    nrec = nrec + 1
    if not put then offHot() end
    if TP ~= '' then tok = TP .. tok end
    local lang, batch = ARGV[pi + 1], ARGV[pi + 2]
    local ri = PB + 2 * (r1 * 65536 + r2 * 256 + r3)
    if not KIND then
      KIND = {[115] = 'sent', [102] = 'failed', [116] = 'temp', [114] = 'refused', [105] = 'invalid',
        [107] = 'skipped', [100] = 'in-doubt', [117] = 'unclaim'}
    end
    local kind, code, resp = KIND[k], ARGV[ri + 1], ARGV[ri + 2]
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
        put(rid, 'cancelled|' .. as .. '|' .. now .. '|||cancelled (claimed, never sent)')
        bump(lang, 'in-doubt', batch, -1)
        bump(lang, 'cancelled', batch, 1)
        -- Never sent: not attempted after all (the cancel counted it).
        if ca == 1 then badd(batch, 'tried', -1) end
        differs('cancelled')
      elseif cs == 'sending' and h == tok then
        if ca <= 1 then
          flushSets() -- before the delete, which must come after them
          redis.call('HDEL', KEYS[1], rid)
          ledger[rid] = false
          differs('pending')
        else
          put(rid, 'deferred|' .. (ca - 1) .. '|0||t|not sent: claim given back')
          cnt.deferred = (cnt.deferred or 0) + 1
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
      local shown = resp -- the ledger's text, whole; the errors list keeps resp masked
      if kind == 'temp' then
        err, flag = true, 't'
        badd(batch, 'temp', 1)
        if ca < tonumber(ARGV[2]) then st = 'deferred' else st = 'failed' end
        -- A temporary failure after cancel is not retried: it would stay
        -- pending for ever in a cancelled campaign (worded as
        -- lua/sweep_chunk.lua words a cancelled retry).
        if st == 'deferred' and state == 'cancelled' then
          st, flag, shown = 'cancelled', '', 'cancelled after a temporary failure; last reply: ' .. resp
        elseif st == 'deferred' and cs == 'in-doubt' then
          -- The late record of a claim another pass of the chunk found in
          -- doubt (two passes at once): that pass counted it an outcome
          -- and may have finished the chunk, and the campaign be done;
          -- nothing would run it again. Not delivered: failed (temporary,
          -- flag t), which a retry re-queues, never deferred.
          st, shown = 'failed', 'not retried automatically: another pass of its chunk had recorded it in doubt; last reply: ' .. resp
        end
      elseif kind == 'failed' then
        err = true
        badd(batch, 'perm', 1)
      elseif kind == 'in-doubt' then
        -- The whole message went out and no reply came: never sent again,
        -- and an error of the gates all the same (a relay that drops every
        -- reply would otherwise put the whole list in doubt). Not a claim
        -- a worker whose journal broke abandoned (claimed-no-outcome): no
        -- relay saw it, and its journal pause says what to fix.
        err = code ~= 'claimed-no-outcome'
        -- Only this claim's own late record may replace it (a stale record
        -- of an earlier claim must not make it due again).
        if tok ~= '' then flag = 'k:' .. tok end
      end
      -- put and bump, written out: this is the path of every outcome.
      local v = st .. '|' .. as .. '|' .. now .. '|' .. code .. '|' .. flag .. '|' .. shown
      ledger[rid] = v
      sets[nsets + 1], sets[nsets + 2] = rid, v
      nsets = nsets + 2
      local bt = bcnt[batch]
      if not bt then bt = {}; bcnt[batch] = bt end
      if first then
        -- Attempted: tried, unless sent (its sent counts it).
        if st ~= 'sent' then bt.tried = (bt.tried or 0) + 1 end
        if err then
          bt.errors1 = (bt.errors1 or 0) + 1
          -- Of those, the temporary ones and the ones in doubt (the rest
          -- are permanent): the batch gate's breakdown of its first attempts.
          if kind == 'temp' then
            bt.temp1 = (bt.temp1 or 0) + 1
          elseif kind == 'in-doubt' then
            bt.doubt1 = (bt.doubt1 or 0) + 1
          end
          redis.call('HSET', KEYS[13], rid, kind == 'temp' and 't' or 'p')
        end
      elseif ca > 1 then
        decide(rid, batch, kind == 'sent')
      end
      if st == 'deferred' then
        deferredAt = deferredAt or {}
        deferredAt[as] = true -- due the backoff of attempt `as` after now
        cnt.deferred = (cnt.deferred or 0) + 1
        deferrals = deferrals + 1
      else
        cnt[st] = (cnt[st] or 0) + 1
        local lt = lcnt[lang]
        if not lt then lt = {}; lcnt[lang] = lt end
        lt[st] = (lt[st] or 0) + 1
        bt[st] = (bt[st] or 0) + 1
        -- Sent, and counted attempted before (a retry, the late record
        -- of a claim in doubt): sent_late, so that it is attempted once.
        if st == 'sent' and not first then bt.sent_late = (bt.sent_late or 0) + 1 end
      end
      records = records + 1
      if st ~= kind then differs(st) end
      if err then
        resp = masked(resp) -- the errors list's and the auto-pause reason's
        -- doubt: in doubt (absent otherwise: nil leaves the field out).
        redis.call('LPUSH', KEYS[7], cjson.encode({t = tonumber(now), id = rid, code = code, r = resp, temp = (kind == 'temp'), doubt = (kind == 'in-doubt') or nil}))
        pushed = true
      end
      -- The auto-pause window counts first attempts (whatever their result)
      -- and retries that end for good, in doubt included; a retry that
      -- fails temporarily again (greylisting) is reported, not counted.
      local counts = (err or kind == 'sent') and (first or st ~= 'deferred')
      if counting and counts then
        counted = counted + 1
        if err then
          if not p0 then p0 = tonumber(redis.call('HGET', KEYS[5], 'p') or '0') end
          local p = p0 + counted
          redis.call('ZADD', KEYS[6], p, p)
          local W = tonumber(ARGV[3])
          redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', p - W)
          local thr = tonumber(ARGV[4])
          if thr > 0 and state == 'running' then
            local e = redis.call('ZCARD', KEYS[6])
            local n = math.min(p, W)
            if n >= math.max(tonumber(ARGV[5]), 1) and e / n > thr then
              local r = code
              if r ~= '' and resp ~= '' then r = r .. ' ' end
              r = r .. resp
              if kind == 'in-doubt' then r = 'in doubt, ' .. r end
              -- Written at the end, once the call's counts are (the
              -- last outcome pauses nothing); the claims after it stop.
              paused = string.format('auto-pause: error rate %d%% over the last %d attempts (last error: %s)', math.floor(e * 100 / n + 0.5), n, r)
              state = 'paused'
            end
          end
        end
      end
    else
      differs('') -- a stale record: another claim's outcome stands
    end
  else
    local res, att = NONE, 0
    local batch = ARGV[pi + 2]
    local rel = 0
    if batch == ctl[3] then
      -- the current batch: rel stays 0
    elseif batch == relB then
      rel = relR
    else
      local bn, cb = tonumber(batch), tonumber(ctl[3] or '-1')
      rel = bn > cb and 1 or (bn == cb and 0 or -1)
      relB, relR = batch, rel
    end
    if state ~= 'running' or rel > 0 then
      -- Not running, or a batch not released yet: the gates fail closed.
      res = STOP
    elseif not cur then
      local v = claimPre .. tok -- put, written out (claimPre ends with TP)
      if not byOp then ledger[rid] = v end
      sets[nsets + 1], sets[nsets + 2] = rid, v
      nsets = nsets + 2
      res, att = OK, 1
    else
      tok = TP .. tok
      if not put then offHot() end
      local cs, ca, as, h = parse(cur)
      if cs == 'deferred' then
        att = ca + 1
        -- A permanent failure a retry re-queued (flag ''): lua/sweep_chunk.lua
        -- counted it in deferred_perm too.
        if string.find(cur, '^deferred|%d+|[^|]*|[^|]*||') then
          cnt.deferred_perm = (cnt.deferred_perm or 0) - 1
          badd(batch, 'deferred_perm', -1)
        end
        put(rid, 'sending|' .. att .. '|' .. now .. '|||' .. tok)
        cnt.deferred = (cnt.deferred or 0) - 1
        res = OK
      elseif cs == 'sending' and h == tok then
        -- The same claim run again (its answer was lost): still this
        -- caller's, and nothing was sent yet. Written again, unchanged: the
        -- WAIT after this call counts the replicas that have this
        -- connection's writes, and the first claim may have been made on
        -- another connection, not yet acknowledged (Redis 7.2 and later
        -- move a connection's offset only when it writes).
        put(rid, cur)
        res, att = OK, ca
      elseif cs == 'sending' then
        put(rid, 'in-doubt|' .. as .. '|' .. now .. '||k:' .. h .. '|claimed before a crash; the SMTP server may have accepted it')
        bump(ARGV[pi + 1], 'in-doubt', batch, 1)
        if ca == 1 then badd(batch, 'tried', 1) else decide(rid, batch, false) end
        res, att = DOUBT, ca
      else
        res, att = SKIP, ca
      end
    end
    if res == OK and rel == 0 then claimed = true end
    ncl = ncl + 1
    if res ~= OK or att ~= 1 then
      wrote[nw + 1], wrote[nw + 2], wrote[nw + 3] = -ncl, res, att
      nw = nw + 3
    end
  end
end
for i = 1, nsets, 1000 do redis.call('HSET', KEYS[1], unpack(sets, i, math.min(i + 999, nsets))) end
-- NUM[n] is n written out, 1 to 32: the increments below are handed to
-- redis.call as strings when they are in it. Redis prints a Lua number it
-- is handed with snprintf("%.17g"), about 2,200 instructions, a third of
-- what the HINCRBY costs (Lua's own tostring costs more; building this
-- table about 140 an entry: docs/benchmarks.md). The counts of a call of
-- one or two default windows are in it; a larger one, or a decrement, is
-- handed as the number.
local NUM = {'1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16',
  '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32'}
-- The hot path's sent, by pair: a language no other record counted is
-- written at once (no table of its counters is built: a table and its key
-- cost more than the field's name); two pairs of one language write its
-- field twice, which sums the same. A batch no other record counted is
-- summed in fb, fbn (the first such batch and its sent) and fsb (the
-- others: batch -> sent), and written below: a
-- call's records are of one batch but at a batch's end, and a table and
-- its key cost about 1,600 instructions. nsent: the hot path's sent.
local fb, fbn, fsb, nsent = nil, 0, nil, 0
for pi, n in pairs(firstSent) do
  local lang, batch = ARGV[pi + 1], ARGV[pi + 2]
  nsent = nsent + n
  local t = lcnt and lcnt[lang]
  if t then
    t.sent = (t.sent or 0) + n
  else
    redis.call('HINCRBY', KEYS[2], 'lang:' .. lang .. ':sent', NUM[n] or n)
  end
  t = bcnt and bcnt[batch]
  if t then
    t.sent = (t.sent or 0) + n
  elseif not fb or fb == batch then
    fb, fbn = batch, fbn + n
  else
    fsb = fsb or {}
    fsb[batch] = (fsb[batch] or 0) + n
  end
end
-- The first claim since the current batch's release or a resume ends its
-- idle time (idle_since, lua/tick.lua and lua/transition.lua): idle_ms is
-- no sending time of the batch (the ETA between batches, store.eta). The
-- pause a resume ended (idle_pending_ms) counts only now: a batch paused
-- after its last outcome claims nothing more, and its pause is no part of
-- the time it took to send. It ends at Redis's TIME, the clock that
-- started it, not at the worker's now (ARGV[8]).
if claimed and ctl[4] then
  local pend = redis.call('HGET', KEYS[3], 'idle_pending_ms') -- read here: a field of the control's HMGET costs every call
  local t = redis.call('TIME')
  local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HINCRBY', KEYS[3], 'idle_ms', math.max(clock - tonumber(ctl[4]), 0) + tonumber(pend or '0'))
  redis.call('HDEL', KEYS[3], 'idle_since', 'idle_pending_ms')
end
-- The answer's sent count is compared by the calling worker with its own
-- delivery journal before it sends to anyone it claimed: a Redis restored
-- from an older backup has forgotten deliveries, and its ledger would let
-- those recipients be claimed again. So it is the recipients this worker
-- recorded sent in the run (the other workers' deliveries would hide its
-- forgotten ones), kept in wsent, which a staging that continues the run
-- keeps, as the worker's journal does; without a field, the campaign's.
-- It comes back from the counter's increment, or is read when this call
-- sent nobody but made claims; -1 for a call with neither.
local ns = nsent
if cnt and cnt.sent then ns, cnt.sent = ns + cnt.sent, nil end
local sent = nil -- nil: no sent recorded
if ns ~= 0 then sent = redis.call('HINCRBY', KEYS[2], 'sent', NUM[ns] or ns) end
local key, field = KEYS[2], 'sent'
if ARGV[9] ~= '' then
  key, field = KEYS[10], ARGV[9]
  if sent then sent = redis.call('HINCRBY', key, field, NUM[ns] or ns) end
end
if not sent then sent = ncl > 0 and (tonumber(redis.call('HGET', key, field)) or 0) or -1 end
-- The other counters: only an operation off the hot path counts any
-- (offHot built its helpers: put is set); a call all on it has written
-- its counts above.
if put then
  -- flush writes the increments of t (counter -> n) to hash key, each
  -- counter's field being prefix .. counter.
  local function flush(key, prefix, t)
    for f, n in pairs(t) do
      if n ~= 0 then redis.call('HINCRBY', key, prefix .. f, NUM[n] or n) end
    end
  end
  flush(KEYS[2], '', cnt)
  for l, t in pairs(lcnt) do flush(KEYS[2], 'lang:' .. l .. ':', t) end
  for b, t in pairs(bcnt) do flush(KEYS[4], b .. ':', t) end
end
if fb then
  redis.call('HINCRBY', KEYS[4], fb .. ':sent', NUM[fbn] or fbn)
end
if fsb then
  for b, n in pairs(fsb) do
    redis.call('HINCRBY', KEYS[4], b .. ':sent', NUM[n] or n)
  end
end
if counted > 0 then redis.call('HINCRBY', KEYS[5], 'p', NUM[counted] or counted) end
if records > 0 then
  local n = records - deferrals
  -- Progress is an outcome: a deferral (a temporary failure retried
  -- later) moves no recipient on, so a relay that never answers shows no
  -- progress (store.Status.Stalled, the ETA).
  if n > 0 then redis.call('HINCRBY', KEYS[9], ssub(now, 1, -4), NUM[n] or n) end
  -- deferred_at:<attempts>: when a temporary failure of that attempt was
  -- last deferred; its retry is due the campaign's backoff for that attempt
  -- later (what a worker waits for), so the retries waiting are due by the
  -- latest of those (store.Status.RetriesDue, which the ETA waits for).
  -- Written with progress_at when the call also records an outcome: one
  -- command.
  if deferredAt then
    local dat, nd = {}, 0
    if n > 0 then dat[1], dat[2], nd = 'progress_at', now, 2 end
    for a in pairs(deferredAt) do
      dat[nd + 1], dat[nd + 2] = 'deferred_at:' .. a, now
      nd = nd + 2
    end
    redis.call('HSET', KEYS[2], unpack(dat))
  elseif n > 0 then
    redis.call('HSET', KEYS[2], 'progress_at', now)
  end
end
-- The auto-pause, when something is left to send: a recipient without a
-- final outcome (a claim in flight, one waiting for its retry, a batch not
-- released). After the campaign's last outcome it would stop nothing and
-- page on-call for a campaign with nothing left to send: it stays running
-- and the next tick marks it done, its failures in the done reason
-- (lua/tick.lua, whose done check the batch gate also yields to).
if paused ~= '' then
  if finalOf(KEYS[2]) >= tonumber(redis.call('HGET', KEYS[3], 'total') or '0') then
    paused, state = '', 'running'
  else
    -- At Redis's TIME, as a tick's and a control's state changes, not at
    -- the worker's now: status compares it with Redis's clock, and the
    -- audit log is read in order.
    local t = redis.call('TIME')
    local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    redis.call('HSET', KEYS[3], 'state', 'paused', 'reason', paused, 'by', 'auto-pause', 'at', at, 'action', 'auto-pause')
    redis.call('RPUSH', KEYS[8], cjson.encode({at = at, who = 'tidings-worker', host = ARGV[6], env = ARGV[7], action = 'auto-pause', reason = paused}))
  end
end
if pushed then redis.call('LTRIM', KEYS[7], 0, 99) end
wrote[1], wrote[2], wrote[3], wrote[4] = state, paused, sent, ncl
return wrote
