-- turn.lua: take, or keep, the turn to reconcile a campaign's chunks. The
-- worker holding it keeps it by asking again before it runs out, so one
-- worker reconciles the campaign for as long as it runs (its clocks of
-- abandoned tasks stay its own); another takes it only when it ran out.
-- KEYS: 1 reconcile (the worker id holding the turn)
-- ARGV: 1 worker id, 2 milliseconds the turn lasts unless asked again
-- Returns 1 when the turn is the caller's, else 0.
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
