-- lib/final.lua, included by the scripts that name it on a line of its
-- own ("-- include: final", store.loadScript): the one list of the final
-- outcomes in Lua (store.terminal in Go: every outcome but pending).
--
-- finalOf reads the final outcomes' counts from the campaign's counts
-- hash (a key of the script's KEYS) and returns how many recipients have
-- one, and the counts as read, in store.Outcomes' order: sent, failed,
-- in-doubt, refused, invalid, skipped, cancelled. A campaign is done when
-- the sum reaches its total (staged and rejected rows: lua/tick.lua).
local function finalOf(counts)
  local v = redis.call('HMGET', counts, 'sent', 'failed', 'in-doubt', 'refused', 'invalid', 'skipped', 'cancelled')
  local n = 0
  for _, x in ipairs(v) do n = n + tonumber(x or '0') end
  return n, v
end
