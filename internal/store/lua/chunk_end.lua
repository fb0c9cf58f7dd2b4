-- chunk_end.lua: record the end of a pass over one chunk: it passed
-- (every recipient was attempted at least once; the batch's first pass
-- counts these) and, when "finished", every recipient has a final outcome,
-- nothing is left for this chunk. A pass read its recipients' entries when
-- it began: a retry since may have re-queued some it had recorded failed
-- (lua/sweep_chunk.lua, which names the chunk in requeued). Of a chunk
-- named there, "finished" is checked against the ledger: with a recipient
-- deferred, or being sent (claimed by another pass of the chunk since the
-- retry: a task the reconciler replaced, a task asynq ran twice), it is not
-- finished, and stays named in requeued: the reconciler runs it again, and
-- the pass that ends with every recipient final finishes it. (The pass
-- ending holds no claim of its own: it recorded or gave back each one
-- before it ends. A claim it has not seen may still end without an
-- outcome, given back at a pause: finished, nothing would run it again.)
--
--
-- It also says whether the campaign can move forward now (what
-- lua/tick.lua would do at its next run): this pass completed its batch's
-- first pass (the gate, the next batch), or, finished, every recipient of
-- the campaign has an outcome (done). The worker then ticks at once
-- instead of at its next tick.
--
-- KEYS: 1 passed (SET of chunks), 2 finished (SET of chunks), 3 bstats,
--       4 control, 5 ledger, 6 the chunk (JSON array of recipients),
--       7 requeued (SET of chunks a retry re-queued recipients of),
--       8 batches (HASH b -> JSON {first,last,size,canary}), 9 counts
-- ARGV: 1 chunk, 2 batch, 3 finished (1/0), 4 stage id
-- Returns 1, 2 when the campaign can move forward now, or 0 when the
-- campaign is gone or was staged anew.
-- include: final
local ctl = redis.call('HMGET', KEYS[4], 'stage', 'total')
if ctl[1] ~= ARGV[4] then return 0 end
local recorded = 1
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  local passed = redis.call('HINCRBY', KEYS[3], ARGV[2] .. ':chunks_done', 1)
  local b = redis.call('HGET', KEYS[8], ARGV[2])
  if b then
    b = cjson.decode(b)
    if passed >= b.last - b.first + 1 then recorded = 2 end
  end
end
if ARGV[3] ~= '1' then return recorded end
if redis.call('SISMEMBER', KEYS[7], ARGV[1]) == 1 then
  local chunk = redis.call('GET', KEYS[6])
  if chunk then
    local ids = {}
    for _, r in ipairs(cjson.decode(chunk)) do ids[#ids + 1] = r.i end
    for i = 1, #ids, 1000 do
      for _, v in ipairs(redis.call('HMGET', KEYS[5], unpack(ids, i, math.min(i + 999, #ids)))) do
        if v and (string.sub(v, 1, 9) == 'deferred|' or string.sub(v, 1, 8) == 'sending|') then return recorded end
      end
    end
  end
  redis.call('SREM', KEYS[7], ARGV[1])
end
redis.call('SADD', KEYS[2], ARGV[1])
-- Done: every recipient (staged and rejected) has a final outcome, as
-- lua/tick.lua counts them (lib/final.lua).
if finalOf(KEYS[9]) >= tonumber(ctl[2] or '0') then return 2 end
return recorded
