-- approve.lua: approve a campaign's canary in one step. A campaign waiting
-- for approval runs at once; one whose canary is still running (or paused,
-- or staged) is approved in advance and will not stop after its canary.
--
-- KEYS: 1 control, 2 audit, 3 win, 4 winerr
-- ARGV: 1 reason, 2 by, 3 now (unix ms), 4 audit entry JSON
-- Returns {state found ('' = no such campaign), 1 when approved, 0 when the
-- state does not allow it}.
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'awaiting-approval' then
  redis.call('HSET', KEYS[1], 'state', 'running', 'reason', ARGV[1], 'by', ARGV[2], 'at', ARGV[3], 'action', 'approve')
  redis.call('DEL', KEYS[3], KEYS[4])
elseif st ~= 'running' and st ~= 'paused' and st ~= 'staged' then
  return {st or '', 0}
end
redis.call('HSET', KEYS[1], 'approved', '1')
redis.call('RPUSH', KEYS[2], ARGV[4])
return {st, 1}
