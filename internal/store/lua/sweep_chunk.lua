-- sweep_chunk.lua: rewrite the ledger entries of one chunk's recipients for
-- a control action, so that counts reconcile:
--   cancel: every recipient pending (never claimed) or deferred (waiting
--     for a retry) becomes cancelled; recipients already final (sent,
--     failed, in doubt, refused, invalid, skipped) stay as they are. One still
--     "sending" (in the SMTP server's hands right now) becomes in-doubt; its
--     sender's late record replaces that with the real outcome, and a
--     give-back of its claim (never sent) makes it cancelled: the entry
--     keeps the claim's token as its flag, "k:<token>" (lua/step.lua).
--   retry: every recipient whose temporary failures ran out of attempts
--     gets one more: failed (temporary) -> deferred, due now.
--   retry-permanent: the same, and so does every recipient failed for good
--     by an SMTP 5xx reply (its code starts with 5xx: a definite refusal,
--     so never delivered); the entry keeps its flag ('' for those), code
--     and reply until the next attempt's outcome replaces them.
--   A recipient re-queued whose first-attempt error the batch gate counts
--     (gate1 't' or 'p', written by lua/step.lua) has that error marked
--     retried ('rt', 'rp'; bstats <batch>:retried1, and retried1t of the
--     temporary ones): it stands until the retried attempt ends, when
--     lua/step.lua takes it back (sent) or lets it stand again (any other
--     outcome); meanwhile the gate waits for it (lua/tick.lua). When the
--     batch gate holds the campaign paused and the retry re-queued some of
--     that batch's, the gate is applied again (batch_done_at 0) once the
--     campaign is resumed and the retries have ended.
--   A cancel lets the errors of the retried it cancels (or leaves in
--     doubt) stand again.
--   A retry never touches anyone sent, in doubt, failed without a reply
--     (no code), refused or skipped; nobody once the campaign is cancelled
--     (a cancel that lands during a retry would otherwise leave recipients
--     deferred, never sent nor cancelled); with a code (ARGV[6]), only the
--     failures whose last reply has that code, basic (554) or enhanced
--     (5.7.1): the ledger's code is "554 5.7.1".
--
-- KEYS: 1 ledger, 2 counts, 3 bstats, 4 finished (SET of chunks), 5 control,
--       6 gate1 (HASH id -> first-attempt error: lua/step.lua), 7 requeued
--       (SET of chunks: a pass that read the chunk before this sweep does
--       not mark it finished, lua/chunk_end.lua), 8 fresh (SET of the
--       chunks nobody has begun: lua/stage_end.lua), 9 doubted (HASH id ->
--       "<lang>|<claim token>" of each recipient a cancel recorded in doubt:
--       lua/doubted.lua takes it for a worker to count once its claimer can
--       no longer record it)
-- ARGV: 1 action (cancel | retry | retry-permanent), 2 now (unix ms),
--       3 batch, 4 chunk, 5 the stage id swept, 6 the reply code a retry
--       keeps ('' for any), then id, lang pairs
-- The control's cancel_swept and cancel_sending sum a cancel's n and
-- sending over all its sweeps.
-- Returns {n, sending}: n the number of recipients it cancelled or
-- re-queued, sending (a cancel's) the number it found being sent and
-- recorded in doubt until their senders record the real outcome; {0, 0}
-- once another staging of the campaign has begun (its ledger and counters
-- are not this sweep's).
local retry, permanent, want = ARGV[1] ~= 'cancel', ARGV[1] == 'retry-permanent', ARGV[6]
local ctl = redis.call('HMGET', KEYS[5], 'state', 'stage')
if ctl[2] ~= ARGV[5] or (retry and ctl[1] == 'cancelled') then return {0, 0} end
-- The chunk's entries are written here, by no claim: a worker that begins
-- it must read them (store.StartChunk), so it is begun for good.
redis.call('SREM', KEYS[8], ARGV[4])
-- The counters' increments are summed here and written once each at the
-- end (flush), and the ledger's entries read in one HMGET and written in
-- one HSET a slice (bulk): a cancel of 200,000 recipients made five calls
-- a recipient, a million in all, and took seconds.
local incs = {[2] = {}, [3] = {}}
local function incr(k, field, n) incs[k][field] = (incs[k][field] or 0) + n end
local function flush()
  for k, fields in pairs(incs) do
    for field, n in pairs(fields) do redis.call('HINCRBY', KEYS[k], field, n) end
    incs[k] = {}
  end
end
-- bulk calls cmd on KEYS[1] with args, in slices of at most 1000 of them
-- (unpack's stack is limited), and returns the replies concatenated.
local function bulk(cmd, args)
  local out = {}
  for i = 1, #args, 1000 do
    local r = redis.call(cmd, KEYS[1], unpack(args, i, math.min(i + 999, #args)))
    if type(r) == 'table' then
      for _, v in ipairs(r) do out[#out + 1] = v end
    end
  end
  return out
end
local function count(lang, outcome, n)
  incr(2, outcome, n)
  incr(2, 'lang:' .. lang .. ':' .. outcome, n)
  incr(3, ARGV[3] .. ':' .. outcome, n)
end
-- requeuedPerm counts the permanent failures a retry re-queued that wait
-- to be sent again (their deferred entries keep the flag ''; counts and
-- bstats deferred_perm, of deferred): lua/step.lua takes one back when it
-- claims it, a cancel when it cancels it.
local function requeuedPerm(n)
  incr(2, 'deferred_perm', n)
  incr(3, ARGV[3] .. ':deferred_perm', n)
end
-- requeued: whether a retry re-queues a failure of this flag and code.
local function requeued(flag, code)
  if not (flag == 't' or (permanent and flag == '' and string.find(code, '^5%d%d'))) then return false end
  if want == '' then return true end
  for c in string.gmatch(code, '%S+') do
    if c == want then return true end
  end
  return false
end
local n, sending = 0, 0
local ids, sets = {}, {}
for i = 7, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
local curs = bulk('HMGET', ids)
for i = 7, #ARGV, 2 do
  local id, lang = ARGV[i], ARGV[i + 1]
  local cur = curs[(i - 5) / 2] or 'none|0||||'
  local st, a, code, flag, resp = string.match(cur, '^([^|]*)|(%d+)|[^|]*|([^|]*)|([^|]*)|(.*)$')
  if retry and st == 'failed' and requeued(flag, code) then
    sets[#sets + 1], sets[#sets + 2] = id, 'deferred|' .. a .. '|0|' .. code .. '|' .. flag .. '|' .. resp
    count(lang, 'failed', -1)
    -- Its failed first attempt, when the gate counts it, is retried: not
    -- taken back now (a relay still broken fails the retry too, and the
    -- gate must not pass for it), nor left to pause a campaign resumed
    -- after the fix for the failures fixed: the retry's outcome decides.
    local g = redis.call('HGET', KEYS[6], id)
    if g == 't' or g == 'p' then
      redis.call('HSET', KEYS[6], id, 'r' .. g)
      incr(3, ARGV[3] .. ':retried1', 1)
      if g == 't' then incr(3, ARGV[3] .. ':retried1t', 1) end
    end
    incr(2, 'deferred', 1)
    if flag == '' then requeuedPerm(1) end
    n = n + 1
  elseif not retry and (st == 'none' or st == 'deferred' or st == 'sending') then
    local to, kept, why, c = 'cancelled', '', 'cancelled', ''
    if st == 'sending' then
      to, kept, why = 'in-doubt', 'k:' .. resp, 'being sent when the campaign was cancelled; the SMTP server may have accepted it'
      sending = sending + 1
      redis.call('HSET', KEYS[9], id, lang .. '|' .. resp)
      -- Its first attempt counts now, as lua/step.lua counts a claim a
      -- crash left in doubt: the late record of an entry in doubt does not.
      if a == '1' then incr(3, ARGV[3] .. ':tried', 1) end
    end
    if st == 'deferred' then
      incr(2, 'deferred', -1)
      if flag == '' then requeuedPerm(-1) end
      -- Waiting for its retry: the server's last reply says why it was not
      -- sent (a claim given back has none). As lua/step.lua words it; a
      -- permanent failure re-queued keeps the flag ''.
      if code ~= '' then
        c, why = code, 'cancelled after a ' .. (flag == 't' and 'temporary' or 'permanent') .. ' failure; last reply: ' .. resp
      end
    end
    sets[#sets + 1], sets[#sets + 2] = id, to .. '|' .. a .. '|' .. ARGV[2] .. '|' .. c .. '|' .. kept .. '|' .. why
    count(lang, to, 1)
    -- A retried recipient's error stands again: its retry never ends.
    local g = st ~= 'none' and redis.call('HGET', KEYS[6], id)
    if g == 'rt' or g == 'rp' then
      redis.call('HSET', KEYS[6], id, string.sub(g, 2))
      incr(3, ARGV[3] .. ':retried1', -1)
      if g == 'rt' then incr(3, ARGV[3] .. ':retried1t', -1) end
    end
    if to == 'cancelled' then n = n + 1 end
  end
end
bulk('HSET', sets)
flush()
-- A cancel's sums, over every sweep of the campaign's cancel (two cancels
-- at once share its chunks; one run again after an interruption sweeps
-- the rest), so that each can say the whole (store.Cancelled.Total):
-- lua/transition.lua starts them afresh when it moves it to cancelled.
if not retry then
  if n > 0 then redis.call('HINCRBY', KEYS[5], 'cancel_swept', n) end
  if sending > 0 then redis.call('HINCRBY', KEYS[5], 'cancel_sending', sending) end
end
if retry and n > 0 then
  redis.call('SREM', KEYS[4], ARGV[4])
  redis.call('SADD', KEYS[7], ARGV[4])
  -- The batch gate holds the campaign paused for this batch, whose
  -- retried the gate now waits for: it judges again after them.
  local c = redis.call('HMGET', KEYS[5], 'by', 'cur_batch')
  if ctl[1] == 'paused' and c[1] == 'batch-gate' and c[2] == ARGV[3] and tonumber(redis.call('HGET', KEYS[3], ARGV[3] .. ':retried1') or '0') > 0 then
    redis.call('HSET', KEYS[5], 'batch_done_at', 0)
  end
end
return {n, sending}
