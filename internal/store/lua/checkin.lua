-- checkin.lua: a worker says which state of the campaign it has checked
-- its delivery journals against (Store.CheckIn), in Redis's own time, and,
-- when asked, which of the live workers have not checked a state.
-- KEYS: 1 checkins (worker id -> "<seen ms> <checked>"), 2 control
-- ARGV: 1 worker id, 2 the state it has checked ("*": it keeps no journal,
-- so has nothing to check), 3 the window in ms, 4 the state a claim needs
-- ("": none, only check in), 5... the ids of the workers alive (Alive)
-- A state is "<control at ms>/<Redis run id>"; a worker whose Redis user
-- may not run INFO knows no run id, and its "<at>/" matches any run id of
-- the same at (Store.Checked).
-- Returns the live workers that have not checked ARGV[4] within the
-- window (none checked in, an older state, or not lately), and drops the
-- entries of workers silent for an hour; nil, writing nothing, when the
-- campaign is gone (Redis lost it: nothing of it is written back).
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local win = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], now .. ' ' .. ARGV[2])
local behind = {}
local function prune(keep)
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local s = tonumber(string.match(all[i + 1], '^(%d+) ') or 0)
    if not keep[all[i]] and now - s > 3600000 then redis.call('HDEL', KEYS[1], all[i]) end
  end
end
if ARGV[4] == '' then
  -- A long campaign sees a new worker id at every restart: dropped here
  -- too once there are many, not only when a claim asks.
  if redis.call('HLEN', KEYS[1]) > 64 then prune({}) end
  return behind
end
local function same(checked, need)
  if checked == '*' or checked == need then return true end
  local a1, r1 = string.match(checked, '^(%d+)/(.*)$')
  local a2, r2 = string.match(need, '^(%d+)/(.*)$')
  return a1 ~= nil and a1 == a2 and (r1 == '' or r2 == '')
end
local live = {}
for i = 5, #ARGV do
  live[ARGV[i]] = true
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  local s, checked = string.match(v or '', '^(%d+) (.*)$')
  if not s or now - tonumber(s) > win or tonumber(s) > now or not same(checked, ARGV[4]) then
    behind[#behind + 1] = ARGV[i]
  end
end
prune(live)
return behind
