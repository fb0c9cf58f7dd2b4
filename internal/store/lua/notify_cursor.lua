-- notify_cursor.lua: move the audit-log cursor of notifications forward
-- only, and delete the delivery fields of events below it.
--
-- KEYS: 1 notify
-- ARGV: 1 new cursor, 2.. delivery fields to delete
-- Returns 1.
local cur = tonumber(redis.call('HGET', KEYS[1], 'cursor') or '0')
if tonumber(ARGV[1]) > cur then
  redis.call('HSET', KEYS[1], 'cursor', ARGV[1])
  for i = 2, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
