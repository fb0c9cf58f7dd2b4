-- cancel_chunk.lua: after a cancel, record every recipient of one chunk
-- that was not sent as cancelled, so that counts reconcile. One still
-- "sending" (in the SMTP server's hands right now) becomes in-doubt; its
-- sender's late record replaces that with the real outcome.
--
-- KEYS: 1 ledger, 2 counts, 3 bstats (retry_chunk.lua's keys: 4 and 5
-- unused)
-- ARGV: 1 now (unix ms), 2 batch, 3 chunk (unused), then id, lang pairs
-- Returns the number of recipients it cancelled.
local n = 0
for i = 4, #ARGV, 2 do
  local id, lang = ARGV[i], ARGV[i + 1]
  local cur = redis.call('HGET', KEYS[1], id)
  local st, a = 'none', '0'
  if cur then st, a = string.match(cur, '^([^|]*)|(%d+)|') end
  local to, resp = nil, 'cancelled'
  if st == 'none' or st == 'deferred' then to = 'cancelled' end
  if st == 'sending' then to, resp = 'in-doubt', 'being sent when the campaign was cancelled; the SMTP server may have accepted it' end
  if to then
    if st == 'deferred' then redis.call('HINCRBY', KEYS[2], 'deferred', -1) end
    redis.call('HSET', KEYS[1], id, to .. '|' .. a .. '|' .. ARGV[1] .. '|||' .. resp)
    redis.call('HINCRBY', KEYS[2], to, 1)
    redis.call('HINCRBY', KEYS[2], 'lang:' .. lang .. ':' .. to, 1)
    redis.call('HINCRBY', KEYS[3], ARGV[2] .. ':' .. to, 1)
    if to == 'cancelled' then n = n + 1 end
  end
end
return n
