-- tick.lua: move one campaign forward, atomically: release the first batch,
-- and when the current batch's first pass is complete, apply its gate
-- (failure rate), wait for approval after the canary when asked to, wait
-- the interval, release the next batch; mark the campaign done when every
-- recipient has an outcome. Any worker may run it at any time: every
-- decision and its effect are one step, so a failure can never let a gate
-- pass (the gates fail closed: a claim for a batch not released is refused).
--
-- KEYS: 1 control, 2 batches (HASH b -> JSON {first,last,size,canary}),
--       3 bstats, 4 counts, 5 errors, 6 audit
-- ARGV: 1 stage id, 2 now (unix ms, the worker's clock: not used; every
--       time this writes, a release's, its idle time's start, a state
--       change's and batch_done_at, is Redis's), 3 interval (ms), 4 approve after the
--       canary (1/0), 5 max failure rate of a batch (0: no gate), 6 host,
--       7 env, 8 who (the worker), 9 the campaign's max attempts (0: not
--       known)
-- The gate judges the first-attempt errors that stand (errors1, less those
-- of recipients a retry re-queued whose retried attempt has not ended,
-- retried1: lua/sweep_chunk.lua, lua/step.lua). While those retried can
-- still decide it (it passes without them and would not with them), it
-- waits: nothing is released, nothing paused, and the answer is NOOP
-- with the reason "batch gate: waiting for N retried recipients of batch
-- B". Errors that fail it without them pause it at once.
-- A release starts the batch's idle time (idle_since: until its first
-- claim, lua/step.lua; idle_ms, the pauses a resume adds once a claim
-- follows, lua/transition.lua).
-- Returns {code, batch, reason}. Codes (store.Tick* in Go):
local NOOP, RELEASED, GATED, AWAITING, DONE, GONE, LOST = 0, 1, 2, 3, 4, 5, 6
-- include: waiting
-- include: final

local c = redis.call('HMGET', KEYS[1], 'state', 'stage', 'cur_batch', 'batch_done_at', 'approved', 'nbatches', 'total')
local state, stage = c[1], c[2]
if not state or stage ~= ARGV[1] then return {GONE, -1, ''} end
if state ~= 'running' then return {NOOP, -1, state} end
local cur, doneAt, approved = tonumber(c[3] or '-1'), tonumber(c[4] or '0'), c[5] == '1'
local nb, total = tonumber(c[6] or '0'), tonumber(c[7] or '0')
-- The batch interval is timed in Redis's clock, not in ARGV[2] (the clock
-- of whichever worker ticks: a worker whose clock is ahead, or that set
-- batch_done_at while behind, would release the next batch early); so are
-- the release and the state changes, which status compares with
-- batch_done_at and with Redis's TIME (store.Status): a worker's skew
-- would be in its ETA, its ages and since when work is due.
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local now = clock

-- set moves the campaign to state, by by, for action, and audits it.
local function set(state, by, action, reason)
  redis.call('HSET', KEYS[1], 'state', state, 'reason', reason, 'by', by, 'at', now, 'action', action)
  redis.call('RPUSH', KEYS[6], cjson.encode({at = now, who = ARGV[8], host = ARGV[6], env = ARGV[7], action = action, reason = reason}))
end

-- release releases batch b now: its first pass and its time not sending
-- start afresh.
local function release(b)
  redis.call('HSET', KEYS[1], 'cur_batch', b, 'batch_done_at', 0, 'released_at', now, 'idle_ms', 0, 'idle_pending_ms', 0, 'idle_since', now)
  return {RELEASED, b, ''}
end

-- State loss: staging writes the field _ (store.tableField) in counts and
-- bstats alike, and nothing removes it; a ledger step's HINCRBY makes a
-- hash Redis lost (an eviction, an UNLINK, a partial restore) again
-- without it. Without its counts, the campaign's outcomes never add up
-- to its total (it would run for ever, silently, every recipient mailed
-- once); without its bstats, its batch's first pass never ends, and a
-- gate would judge the counters of part of it. Neither is read on: it
-- pauses as state loss, which resume refuses. Either without it is a
-- loss, both too: every build of a stored format (store.StoredFormat,
-- meta "format") wrote the field, and workers tick a campaign of their
-- own format alone (a build before stored formats, which may not have
-- written it, is FormatNone: no worker of this build ticks it).
-- So are its batches (which chunks each batch holds: staging writes one
-- entry a batch, nbatches in all, and nothing removes them): without them
-- no batch's first pass can be judged complete, and the campaign would
-- wait for ever, every tick failing (TestTickPausesOnLostBatches).
local hasCounts, hasBstats = redis.call('HEXISTS', KEYS[4], '_'), redis.call('HEXISTS', KEYS[3], '_')
local hasBatches = nb == 0 or redis.call('HLEN', KEYS[2]) >= nb
if hasCounts == 0 or hasBstats == 0 or not hasBatches then
  local lost = {}
  if hasCounts == 0 then lost[#lost + 1] = 'counts (how many recipients have each outcome)' end
  if hasBstats == 0 then lost[#lost + 1] = 'batch counters (each batch\'s attempts and errors, which its gate judges)' end
  if not hasBatches then lost[#lost + 1] = 'batches (which chunks each batch holds)' end
  local reason = 'state loss: Redis lost this campaign\'s ' .. table.concat(lost, ' and ') .. ' (part of its state: an eviction, a DEL; its ledger may have lost deliveries too): nothing more is sent; cancel it and stage it again excluding the deliveries recorded in the workers\' journals'
  set('paused', ARGV[8], 'state-loss', reason)
  return {LOST, cur, reason}
end

-- Done: every recipient (staged and rejected) has a final outcome.
local terminal, counts = finalOf(KEYS[4])
if terminal >= total then
  -- The current batch's gate has nothing left to hold back: it is not
  -- applied later, when a retry runs the campaign again.
  if doneAt == 0 and cur >= 0 then redis.call('HSET', KEYS[1], 'batch_done_at', clock) end
  -- Its figures add up to the total: sent, then every other outcome a
  -- row has, in the order of counts (store.Outcomes: status's order).
  local names = {'sent', 'failed', 'in doubt', 'refused', 'invalid', 'skipped', 'cancelled'}
  local parts = {}
  for i, v in ipairs(counts) do
    local n = tonumber(v or '0')
    if i == 1 or n > 0 then parts[#parts + 1] = string.format('%d %s', n, names[i]) end
  end
  local reason = 'every recipient has an outcome: ' .. table.concat(parts, ', ')
  set('done', ARGV[8], 'done', reason)
  return {DONE, cur, reason}
end
if nb == 0 then return {NOOP, -1, ''} end
if cur < 0 then return release(0) end

local b = cjson.decode(redis.call('HGET', KEYS[2], tostring(cur)))
local st = redis.call('HMGET', KEYS[3], cur .. ':chunks_done', cur .. ':tried', cur .. ':errors1', cur .. ':temp1', cur .. ':doubt1', cur .. ':retried1', cur .. ':retried1t', cur .. ':sent', cur .. ':sent_late', cur .. ':attempted', cur .. ':skipped')
-- Nothing more until the batch's first pass is complete.
if tonumber(st[1] or '0') < b.last - b.first + 1 then return {NOOP, cur, ''} end

if doneAt == 0 then
  -- attempted: tried + sent - sent_late (lua/step.lua), or what an
  -- earlier build's workers counted in attempted (a campaign they began)
  -- when that is more: without it, first attempts they recorded failing
  -- counted none, and a batch with no attempt passes the gate.
  local attempted = math.max(tonumber(st[2] or '0') + tonumber(st[8] or '0') - tonumber(st[9] or '0'), tonumber(st[10] or '0'))
  local errors1, max = tonumber(st[3] or '0'), tonumber(ARGV[5])
  local retried = tonumber(st[6] or '0')
  errors1 = errors1 - retried -- the errors that stand
  if max > 0 and attempted > 0 and retried > 0 and errors1 / attempted <= max and (errors1 + retried) / attempted > max then
    local whom = 'recipients'
    if retried == 1 then whom = 'recipient' end
    return {NOOP, cur, string.format('batch gate: waiting for %d retried %s of batch %d', retried, whom, cur)}
  end
  doneAt = clock
  redis.call('HSET', KEYS[1], 'batch_done_at', clock)
  if max > 0 and attempted > 0 and errors1 / attempted > max then
    -- Say one true thing: how many first attempts failed, how many of
    -- those failures were temporary (retried later), in doubt (the whole
    -- message went and no reply came: never sent again) or permanent, and
    -- the last error.
    local temp, doubt = tonumber(st[4] or '0') - tonumber(st[7] or '0'), tonumber(st[5] or '0')
    local perm = errors1 - temp - doubt
    local kinds = {}
    if temp > 0 then
      local again, maxAtt = '', tonumber(ARGV[9] or '0')
      if maxAtt > 1 then again = ', retried later' elseif maxAtt == 1 then again = ', not retried (max_attempts 1)' end
      kinds[#kinds + 1] = string.format('%d temporary%s', temp, again)
    end
    if doubt > 0 then
      kinds[#kinds + 1] = string.format('%d in doubt (no reply after the data: the relay may have delivered them; never sent again)', doubt)
    end
    if perm > 0 then kinds[#kinds + 1] = string.format('%d permanent', perm) end
    if retried > 0 then
      kinds[#kinds + 1] = string.format('%d more failed, re-queued by a retry that has not ended', retried)
    end
    local last = ''
    local e = redis.call('LINDEX', KEYS[5], 0)
    if e then
      local x = cjson.decode(e)
      local parts = {}
      for _, v in ipairs({x.code, x.r}) do
        if v and v ~= '' then parts[#parts + 1] = v end
      end
      if #parts > 0 then
        if x.doubt then table.insert(parts, 1, 'in doubt,') end
        kinds[#kinds + 1] = 'last error: ' .. table.concat(parts, ' ')
      end
    end
    if #kinds > 0 then last = ' (' .. table.concat(kinds, '; ') .. ')' end
    local failed = 'failed'
    if doubt > 0 then failed = 'failed or are in doubt' end
    local reason = string.format('batch gate: %d of the %d first attempts in batch %d %s (%d%%), above max_failure_rate %d%%%s',
      errors1, attempted, cur, failed, math.floor(errors1 * 100 / attempted + 0.5), math.floor(max * 100 + 0.5), last)
    set('paused', 'batch-gate', 'auto-pause', reason)
    return {GATED, cur, reason}
  end
end
-- Checked at every tick, not only when the batch passes: a campaign
-- paused while it awaited approval (or by the canary's gate) and resumed
-- must still wait for the approval.
if b.canary and ARGV[4] == '1' and not approved and cur + 1 < nb then
  -- Not while canary recipients wait for a retry (lib/waiting.lua): it
  -- runs them first (a canary being sent is not approved:
  -- lua/transition.lua, which counts them alike).
  local waiting = waitingOf(KEYS[3], cur)
  if waiting > 0 then return {NOOP, cur, string.format('canary: waiting for the retries of %d recipients', waiting)} end
  -- Say what it sent when not all of it was (every one failed, say):
  -- "canary sent" would say a canary QA can check went out.
  -- Rows a re-staging kept skipped (delivered in an earlier run) have no
  -- errors: the reason says so, and where they are listed.
  local sent, skipped = tonumber(st[8] or '0'), tonumber(st[11] or '0')
  local reason = string.format('canary sent (%d recipients): check it, then approve', b.size)
  if skipped > 0 and sent < b.size then
    local others = b.size - sent - skipped
    local why = string.format('%d skipped, listed with why in its report (outcome skipped)', skipped)
    if others > 0 then why = why .. string.format(', and why not the other %d (its errors)', others) end
    if sent == 0 then
      reason = string.format('canary done (%d recipients), none of them sent: %s; see them before you approve', b.size, why)
    else
      reason = string.format('canary done (%d recipients), %d of them sent: check them; %s; then approve', b.size, sent, why)
    end
  elseif sent == 0 then
    reason = string.format('canary done (%d recipients), none of them sent: see why in its errors before you approve', b.size)
  elseif sent < b.size then
    reason = string.format('canary done (%d recipients), %d of them sent: check them, and why not the others (its errors), then approve', b.size, sent)
  end
  set('awaiting-approval', ARGV[8], 'await-approval', reason)
  return {AWAITING, cur, reason}
end
if cur + 1 < nb and clock >= doneAt + tonumber(ARGV[3]) then return release(cur + 1) end
return {NOOP, cur, ''}
