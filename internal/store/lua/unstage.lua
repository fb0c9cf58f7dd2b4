-- unstage.lua: let go of the lease of a staging that will not finish.
-- KEYS: 1 staging ("<stage id>|<who>"). ARGV: 1 stage id.
-- Returns 1 when it held the lease, else 0 (another staging's, or none).
local lease = redis.call('GET', KEYS[1])
if lease and string.sub(lease, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then return redis.call('DEL', KEYS[1]) end
return 0
