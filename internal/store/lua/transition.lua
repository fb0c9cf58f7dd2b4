-- transition.lua: move a campaign's control state from one of a list of
-- states to another and append the audit entry, atomically; in one of the
-- states the action keeps (approve in advance, retry of a campaign not
-- done), take the action without a move. The set of active campaigns (a
-- key of another Cluster slot) is updated by the caller afterwards, and
-- rebuilt by workers from the campaigns' own state.
--
-- A campaign being staged (its control names a staging its meta does not
-- record yet: send is writing it, or a send was interrupted) can only be
-- paused; the pause stays when the staging ends (stage_end.lua).
--
-- KEYS: 1 control, 2 audit, 3 win, 4 winerr, 5 meta, 6 batches, 7 bstats,
--       8 errors, 9 staging (the lease of a send staging the campaign)
-- ARGV: 1 states it may move from (space list), 2 state to move to,
--       3 reason, 4 by, 5 now (unix ms, the caller's clock: not used; the
--       times this writes, the control's and the audit entry's `at` and
--       the idle time's start, are Redis's TIME, as lua/tick.lua's: status
--       compares them with each other and with Redis's TIME),
--       6 audit entry JSON ('' = none; its `at` is replaced),
--       7 reset the auto-pause window (1/0), 8 the move's audit action
--       (kept as the control's 'action': why the campaign is in its
--       state), 9 an action that, when it made the current state, forbids
--       the move ('' = none), 10 states the action keeps (space list),
--       11 mark the canary approved (1/0), 12 allowed while the campaign
--       is being staged (1/0), 13 the caller's environment ('' = any),
--       14 move only while the control's 'at' is this (0 = always),
--       15 act only while the control's stage id is this ('' = any):
--          else nothing is written, and the answer says 'staged-again',
--       16 approve only a canary that is done (1/0): an approval of a
--          campaign whose first batch is still being sent (or not yet
--          released), not approved before, writes nothing and answers
--          'canary-running'; so does one of a canary whose recipients
--          wait for a retry (lua/tick.lua awaits approval only once
--          none does; in awaiting-approval, a retry that re-queued some
--          and has not moved it yet, ARGV[17]), with two more elements:
--          how many wait, and the last error ('' = none),
--       17 a retry (1/0): a campaign in awaiting-approval whose canary's
--          recipients wait for a retry (the retry re-queued some) moves
--          to ARGV[2] (running: it sends them, and lua/tick.lua awaits
--          approval again once none waits); else the state is kept,
--       18 allowed when Redis lost the meta of a campaign staged (1/0: a
--          cancel; see metaLost below)
-- Returns {state found ('' = no such campaign), moved (1/0), the action
-- that forbade the move ('' = none; 'staging': being staged; 'env:<e>':
-- the campaign is environment e's, not the caller's; 'staged-again': not
-- the staging ARGV[15] names; 'approved': an approval of a campaign
-- approved already, in a state kept, which writes nothing)}. In a state of
-- neither list nothing is written.
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'', 0, ''} end
local env = redis.call('HGET', KEYS[5], 'env')
if env and env ~= '' and ARGV[13] ~= '' and env ~= ARGV[13] then return {st, 0, 'env:' .. env} end
-- metaLost: Redis lost the meta of a campaign whose staging ended once
-- (its control has the cur_batch stage_end.lua writes), and no send
-- stages it (no lease): no staging under way, nor a first one interrupted
-- (whose record as begun store.cancel drops first). A staging again that
-- died (its staging_by stays) is one too: a staging again keeps the meta
-- until its end rewrites it, so without the meta it cannot end, and a
-- send run again is refused (store.MetaLostError): the cancel is the way
-- out. Only a cancel (ARGV[18]) takes it for what it is.
local function metaLost()
  if redis.call('EXISTS', KEYS[5]) == 1 or redis.call('EXISTS', KEYS[9]) == 1 then return false end
  return redis.call('HEXISTS', KEYS[1], 'cur_batch') == 1
end
if ARGV[12] ~= '1' and redis.call('HGET', KEYS[5], 'stage') ~= redis.call('HGET', KEYS[1], 'stage') and not (ARGV[18] == '1' and metaLost()) then return {st, 0, 'staging'} end
-- include: waiting
-- canaryWaiting returns how many recipients of the canary (batch 0, when
-- the campaign was staged with one) wait for a retry (lib/waiting.lua,
-- which lua/tick.lua counts them with too).
local function canaryWaiting()
  local bj = redis.call('HGET', KEYS[6], '0')
  if not (bj and cjson.decode(bj).canary) then return 0 end
  return waitingOf(KEYS[7], 0)
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local move = string.find(' ' .. ARGV[1] .. ' ', ' ' .. st .. ' ', 1, true)
if not move and not string.find(' ' .. ARGV[10] .. ' ', ' ' .. st .. ' ', 1, true) then return {st, 0, ''} end
-- A retry that re-queued canary recipients of a campaign awaiting
-- approval: nothing is claimed there, so it runs its canary again.
if ARGV[17] == '1' and st == 'awaiting-approval' and canaryWaiting() > 0 then move = true end
if ARGV[9] ~= '' and redis.call('HGET', KEYS[1], 'action') == ARGV[9] then return {st, 0, ARGV[9]} end
if move and ARGV[14] ~= '0' and redis.call('HGET', KEYS[1], 'at') ~= ARGV[14] then return {st, 0, ''} end
if ARGV[15] ~= '' and redis.call('HGET', KEYS[1], 'stage') ~= ARGV[15] then return {st, 0, 'staged-again'} end
if ARGV[16] == '1' and redis.call('HGET', KEYS[1], 'approved') ~= '1' then
  -- Done: awaiting approval (a tick saw it done), a later batch
  -- released, or the canary's marked done (a tick), or its first pass
  -- complete (a campaign paused before the tick that would mark it: by
  -- an operator, or by the auto-pause its last failure tripped).
  local b = redis.call('HMGET', KEYS[1], 'cur_batch', 'batch_done_at')
  local cur = tonumber(b[1] or '-1')
  local done = st == 'awaiting-approval' or cur >= 1 or tonumber(b[2] or '0') ~= 0
  if not done and cur == 0 then
    local bj = redis.call('HGET', KEYS[6], '0')
    if bj then
      local c0 = cjson.decode(bj)
      done = tonumber(redis.call('HGET', KEYS[7], '0:chunks_done') or '0') >= c0.last - c0.first + 1
    end
  end
  if not done then return {st, 0, 'canary-running'} end
  -- Nor while a recipient of the canary waits for a retry (deferred after
  -- a temporary failure, re-queued by a retry, or being sent again), as
  -- after the canary's gate paused it with the relay down: nobody can
  -- have checked what was not delivered. Also in awaiting-approval: a
  -- retry re-queued some and has not moved it back to running yet (or
  -- was interrupted before: a retry again moves it). The answer adds how
  -- many wait, and the campaign's last error.
  local waiting = canaryWaiting()
  if waiting > 0 then
    local last, e = '', redis.call('LINDEX', KEYS[8], 0)
    if e then
      local x = cjson.decode(e)
      last = table.concat({x.code or '', x.r or ''}, ' '):gsub('^ +', ''):gsub(' +$', '')
    end
    return {st, 0, 'canary-running', waiting, last}
  end
end
if not move and ARGV[11] == '1' and redis.call('HGET', KEYS[1], 'approved') == '1' then return {st, 0, 'approved'} end
if move then
  if ARGV[2] == 'running' and st ~= 'running' then
    -- Back to running while the current batch's first pass runs: the time
    -- since the last state change (a pause), and from now to the next
    -- claim, is no sending time of the batch (idle_ms, idle_since: see
    -- lua/step.lua and lua/tick.lua), which the ETA between batches
    -- divides by (store.eta). Already idle (nothing claimed since the
    -- release or the last resume): idle it stays, since then. The pause
    -- is pending (idle_pending_ms) until the next claim of the batch: one
    -- paused after its last outcome, before a tick saw it pass, claims
    -- nothing more, and its pause (after that outcome) is not subtracted
    -- from the time it took, which would make its rate, and so the ETA,
    -- look faster than it went.
    local b = redis.call('HMGET', KEYS[1], 'cur_batch', 'batch_done_at', 'at', 'idle_since')
    local since = tonumber(b[3] or '0')
    if tonumber(b[1] or '-1') >= 0 and tonumber(b[2] or '0') == 0 and not b[4] then
      if since > 0 and now > since then redis.call('HINCRBY', KEYS[1], 'idle_pending_ms', now - since) end
      redis.call('HSET', KEYS[1], 'idle_since', now)
    end
  end
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'reason', ARGV[3], 'by', ARGV[4], 'at', now, 'action', ARGV[8])
  -- The sums of the sweeps of this cancel (lua/sweep_chunk.lua) start now.
  if ARGV[2] == 'cancelled' then redis.call('HDEL', KEYS[1], 'cancel_swept', 'cancel_sending') end
  if ARGV[7] == '1' then redis.call('DEL', KEYS[3], KEYS[4]) end
end
if ARGV[11] == '1' then redis.call('HSET', KEYS[1], 'approved', '1') end
if ARGV[6] ~= '' then
  local e = cjson.decode(ARGV[6])
  e.at = now
  redis.call('RPUSH', KEYS[2], cjson.encode(e))
end
return {st, move and 1 or 0, ''}
