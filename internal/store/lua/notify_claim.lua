-- notify_claim.lua: claim one delivery of a campaign event to a sink
-- (internal/notify), so that each is delivered once however many processes
-- run a notifier.
--
-- KEYS: 1 notify (HASH of the campaign: cursor, e:<event> deliveries)
-- ARGV: 1 field (e:<event>), 2 owner, 3 now (unix ms: a retry's due time
--       is compared with it), 4 lease until (unix ms; only its distance
--       from 3 counts: the lease runs that long in Redis's clock), 5 the event's audit-log index (-1: not an audit event), 6 '1'
--       when the event is too old to begin delivering (the notifier's
--       MaxAge), '0' otherwise
-- Returns {result, attempts so far}. Results (store.Notify* in Go):
-- 1 acquired, 2 delivered already (an audit event below the cursor was
-- delivered: its record was deleted when the cursor passed), 3 held by
-- another process, 4 a failed delivery's retry is not due yet, 5 too old
-- and never attempted (nothing is written). A delivery once attempted (it
-- has a record) is claimed however old: the age limit is for events first
-- seen late, not for a delivery that failed and is being retried.
-- The lease is timed in Redis's clock, not in now (the claimer's clock):
-- a notifier whose clock is ahead, or a holder's behind, would take a
-- delivery another process holds and send the event twice. ARGV[4] less
-- ARGV[3] is the lease's length.
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[5]) >= 0 and tonumber(ARGV[5]) < tonumber(redis.call('HGET', KEYS[1], 'cursor') or '0') then
  return {2, 0}
end
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
local kind, attempts = string.match(cur, '^(%a+)|'), 0
if kind == nil and ARGV[6] == '1' then return {5, 0} end
if kind == 'done' then return {2, 0} end
if kind == 'held' then
  local owner, untl, a = string.match(cur, '^held|(.*)|(%d+)|(%d+)$')
  attempts = tonumber(a)
  if tonumber(untl) > clock and owner ~= ARGV[2] then return {3, attempts} end
elseif kind == 'retry' then
  local a, due = string.match(cur, '^retry|(%d+)|(%d+)$')
  attempts = tonumber(a)
  if tonumber(due) > tonumber(ARGV[3]) then return {4, attempts} end
end
redis.call('HSET', KEYS[1], ARGV[1], 'held|' .. ARGV[2] .. '|' .. (clock + tonumber(ARGV[4]) - tonumber(ARGV[3])) .. '|' .. attempts)
return {1, attempts}
