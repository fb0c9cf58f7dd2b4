-- lib/waiting.lua, included by the scripts that name it on a line of its
-- own ("-- include: waiting", store.loadScript): one count, in one place.
--
-- waitingOf returns how many recipients of batch b wait for a retry, by
-- the batch's stats in hash bstats (a key of the script's KEYS): those
-- attempted with no outcome yet (deferred after a temporary failure,
-- re-queued by a retry, or being sent again). Skipped rows are not among
-- the outcomes: a re-staging counts those it keeps skipped as delivered,
-- never attempted (store.Stager.count), so subtracting them would let one
-- cancel out a recipient waiting.
-- (Attempted less sent is tried less sent_late: lua/step.lua.)
local function waitingOf(bstats, b)
  local n = redis.call('HMGET', bstats, b .. ':tried', b .. ':sent_late', b .. ':failed', b .. ':refused', b .. ':invalid', b .. ':in-doubt', b .. ':cancelled')
  local waiting = tonumber(n[1] or '0')
  for i = 2, #n do waiting = waiting - tonumber(n[i] or '0') end
  return waiting
end
