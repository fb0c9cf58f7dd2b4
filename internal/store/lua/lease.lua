-- lease.lua: renew or let go of the lease of a staging.
-- KEYS: 1 staging ("<stage id>|<who>")
-- ARGV: 1 stage id, 2 milliseconds to renew it for (0: let go)
-- Returns 1 when the lease was this staging's, else 0 (it ran out, and
-- maybe another staging holds it now).
local lease = redis.call('GET', KEYS[1])
if not lease or string.sub(lease, 1, #ARGV[1] + 1) ~= ARGV[1] .. '|' then return 0 end
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
