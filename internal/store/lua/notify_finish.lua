-- notify_finish.lua: end a delivery held by owner: done, or retry later.
--
-- KEYS: 1 notify
-- ARGV: 1 field, 2 owner, 3 new value ("done|<ms>", or "retry|" to which
--       the attempts and ARGV[4] are appended), 4 retry due (unix ms)
-- Returns 1 when the caller still held the delivery, 0 when it had lost it
-- (its lease ran out and another process claimed it).
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local owner, a = string.match(cur, '^held|(.*)|%d+|(%d+)$')
if owner ~= ARGV[2] then return 0 end
if ARGV[3] == 'retry|' then
  redis.call('HSET', KEYS[1], ARGV[1], 'retry|' .. (tonumber(a) + 1) .. '|' .. ARGV[4])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
