-- notify_progress.lua: record the number of recipients with an outcome and
-- return when it last changed (for "no progress" notifications).
--
-- KEYS: 1 notify
-- ARGV: 1 recipients with an outcome, 2 now (unix ms)
-- Returns the unix ms of the last change.
local n, at = string.match(redis.call('HGET', KEYS[1], 'progress') or '', '^(%d+)|(%d+)$')
if n == ARGV[1] then return tonumber(at) end
redis.call('HSET', KEYS[1], 'progress', ARGV[1] .. '|' .. ARGV[2])
return tonumber(ARGV[2])
