-- notify_finish.lua: end a delivery held by owner: delivered (done), or
-- failed (retry later, with one more attempt counted).
--
-- KEYS: 1 notify
-- ARGV: 1 field, 2 owner, 3 now (unix ms), 4 retry due (unix ms; 0 when
--       delivered)
-- Returns 1 when the caller still held the delivery, 0 when it had lost it
-- (its lease ran out and another process claimed it; nothing is written).
local owner, a = string.match(redis.call('HGET', KEYS[1], ARGV[1]) or '', '^held|(.*)|%d+|(%d+)$')
if owner ~= ARGV[2] then return 0 end
local v = 'done|' .. ARGV[3]
if ARGV[4] ~= '0' then v = 'retry|' .. (tonumber(a) + 1) .. '|' .. ARGV[4] end
redis.call('HSET', KEYS[1], ARGV[1], v)
return 1
