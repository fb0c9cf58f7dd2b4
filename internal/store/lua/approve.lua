-- approve.lua: approve a campaign's canary in one step. A campaign waiting
-- for approval runs at once; one whose canary is still running (or paused,
-- or staged) is approved in advance and will not stop after its canary.
--
-- KEYS: 1 control, 2 audit, 3 win, 4 winerr
-- ARGV: 1 reason, 2 by, 3 now (unix ms), 4 audit entry JSON
-- Returns {state found ('' = no such campaign), result}. Results:
local INVALID, RELEASED, IN_ADVANCE = 0, 1, 2
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'', INVALID} end
if st == 'awaiting-approval' then
  redis.call('HSET', KEYS[1], 'state', 'running', 'reason', ARGV[1], 'by', ARGV[2], 'at', ARGV[3], 'approved', '1', 'action', 'approve')
  redis.call('DEL', KEYS[3], KEYS[4])
  redis.call('RPUSH', KEYS[2], ARGV[4])
  return {st, RELEASED}
end
if st == 'running' or st == 'paused' or st == 'staged' then
  redis.call('HSET', KEYS[1], 'approved', '1')
  redis.call('RPUSH', KEYS[2], ARGV[4])
  return {st, IN_ADVANCE}
end
return {st, INVALID}
