-- stage_end.lua: the control fields and audit entry of a staging that
-- ends. The campaign becomes staged, or running when started, unless it is
-- paused (someone paused it before a re-staging, or while it was being
-- staged): the pause stays (nothing starts), and the audit entry says so.
-- Nothing is written when another staging has begun since.
--
-- When the ledger has no entry at all, no chunk of the staging can have
-- one: its chunks (0 to ARGV[7] - 1) are fresh (KEYS[5]), and the control's
-- fresh_stage names the staging they are fresh in. A worker that begins a
-- fresh chunk takes it out of the set in the round trip that reads the
-- chunk, before its first claim, and need not read the chunk's ledger
-- entries (store.StartChunk); any other ledger (a re-staging that kept
-- one, rows skipped as delivered) leaves no chunk fresh.
--
-- KEYS: 1 control, 2 audit, 3 staging (the lease of the staging running:
--       "<stage id>|<who>", let go here), 4 ledger, 5 fresh (SET of chunk
--       numbers)
-- ARGV: 1 stage id, 2 state (staged | running), 3 by, 4 now (unix ms, the
--       stager's clock: not used; the control's `at` and the audit
--       entry's are Redis's TIME, as lua/transition.lua's: status compares
--       them with Redis's TIME), 5 audit entry (JSON; its `at` is
--       replaced), 6 audit entry when a pause stays (JSON; likewise),
--       7 the number of chunks, then field, value pairs
-- Returns {the state the campaign is in after it ('' when another staging
-- has begun), by, reason}.
local cur = redis.call('HMGET', KEYS[1], 'state', 'stage')
if cur[2] ~= ARGV[1] then return {'', '', ''} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local audit = ARGV[6]
if cur[1] == 'staged' then
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'reason', '', 'by', ARGV[3], 'at', now, 'action', 'stage')
  audit = ARGV[5]
end
for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('DEL', KEYS[5])
redis.call('HDEL', KEYS[1], 'fresh_stage')
local n = tonumber(ARGV[7])
if n > 0 and redis.call('HLEN', KEYS[4]) == 0 then
  for i = 0, n - 1, 1000 do
    local ns = {}
    for j = i, math.min(i + 999, n - 1) do ns[#ns + 1] = j end
    redis.call('SADD', KEYS[5], unpack(ns))
  end
  redis.call('HSET', KEYS[1], 'fresh_stage', ARGV[1])
end
-- Who began the staging and when are the definition's now (created_by,
-- created_at): the control's, of a staging again not ended, go.
redis.call('HDEL', KEYS[1], 'staging_by', 'staging_at')
local e = cjson.decode(audit)
e.at = now
redis.call('RPUSH', KEYS[2], cjson.encode(e))
local lease = redis.call('GET', KEYS[3])
if lease and string.sub(lease, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then redis.call('DEL', KEYS[3]) end
return redis.call('HMGET', KEYS[1], 'state', 'by', 'reason')
