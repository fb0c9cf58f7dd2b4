-- retry_chunk.lua: give the recipients of one chunk whose temporary
-- failures ran out of attempts one more attempt: failed (temporary) ->
-- deferred, due now. Never touches anyone sent, in doubt or failed for good.
--
-- KEYS: 1 ledger, 2 counts, 3 bstats, 4 finished (SET of chunks), 5 control
-- ARGV: 1 now (unix ms), 2 batch, 3 chunk, then id, lang pairs
-- Returns the number of recipients it re-queued: none once the campaign is
-- cancelled (a cancel that lands during a retry would otherwise leave
-- recipients deferred, never sent nor cancelled).
if redis.call('HGET', KEYS[5], 'state') == 'cancelled' then return 0 end
local n = 0
for i = 4, #ARGV, 2 do
  local id, lang = ARGV[i], ARGV[i + 1]
  local cur = redis.call('HGET', KEYS[1], id)
  if cur then
    local st, a, t, code, flag, resp = string.match(cur, '^([^|]*)|(%d+)|(%d*)|([^|]*)|([^|]*)|(.*)$')
    if st == 'failed' and flag == 't' then
      redis.call('HSET', KEYS[1], id, 'deferred|' .. a .. '|0|' .. code .. '|t|' .. resp)
      redis.call('HINCRBY', KEYS[2], 'failed', -1)
      redis.call('HINCRBY', KEYS[2], 'lang:' .. lang .. ':failed', -1)
      redis.call('HINCRBY', KEYS[2], 'deferred', 1)
      redis.call('HINCRBY', KEYS[3], ARGV[2] .. ':failed', -1)
      n = n + 1
    end
  end
end
if n > 0 then redis.call('SREM', KEYS[4], ARGV[3]) end
return n
