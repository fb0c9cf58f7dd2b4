-- alive.lua: a worker says it is alive (Store.Alive), in Redis's own time.
-- KEYS: 1 workers (worker id -> "<first ms> <seen ms>")
-- ARGV: 1 worker id, 2 the window in ms, 3 "1" to list the workers
-- alive (a claim's wait asks; the worker's own word every 400 ms does not,
-- and then reads the registry only to drop the silent once it is large)
-- A worker seen within the window, and not in the future of Redis's clock,
-- is alive. Its first ms is when it began
-- saying so without a gap longer than the window: a registry lost, or
-- restored from an older backup, starts again. Workers not seen for an
-- hour are dropped.
-- Returns {1 when the caller has been alive for the window (0: not yet),
-- the ids of the workers alive (when listed)}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local win = tonumber(ARGV[2])
local first = now
local prev = redis.call('HGET', KEYS[1], ARGV[1])
if prev then
  local f, s = string.match(prev, '^(%d+) (%d+)$')
  -- A word from the future (a clock that went back: a failover, a
  -- restore of another server's data) is a gap too.
  if f and now - tonumber(s) <= win and tonumber(s) <= now then first = tonumber(f) end
end
redis.call('HSET', KEYS[1], ARGV[1], first .. ' ' .. now)
local live = {}
local settled = 0
if now - first >= win then settled = 1 end
if ARGV[3] ~= '1' and redis.call('HLEN', KEYS[1]) <= 64 then return {settled, live} end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local s = tonumber(string.match(all[i + 1], ' (%d+)$') or 0)
  if now - s > 3600000 then
    redis.call('HDEL', KEYS[1], all[i])
  elseif now - s <= win and s <= now then
    live[#live + 1] = all[i]
  end
end
return {settled, live}
