-- doubted.lua: take the recipients a cancel recorded in doubt
-- (lua/sweep_chunk.lua) whose claimer can no longer record them, for a
-- worker to count in tidings_messages_total{outcome="in-doubt"}: nobody
-- else can (no claim finds them again in a cancelled campaign, and their
-- claimer never learnt their outcome). Each is taken once, by one caller.
-- KEYS: 1 ledger, 2 doubted (HASH id -> "<lang>|<claim token>", written by
--       lua/sweep_chunk.lua)
-- ARGV: the ids of the workers alive (Store.Alive), none or more
-- A claim token is "<worker id>/<number>" (worker/token.go). An entry is
-- - still in doubt under that token, its worker alive: left, as its late
--   record may still replace it with the real outcome, which that worker
--   counts;
-- - still in doubt under that token, its worker not alive: taken, and
--   counted by its language;
-- - anything else (its late record or a give-back replaced it, a staging
--   or a loss of Redis state cleared it): taken, not counted.
-- Returns {left, lang1, n1, lang2, n2, ...}: left the entries still
-- waiting for their claimer, then the counts taken by language.
local alive = {}
for i = 1, #ARGV do alive[ARGV[i]] = true end
local all = redis.call('HGETALL', KEYS[2])
local counts, langs, gone, left = {}, {}, {}, 0
for i = 1, #all, 2 do
  local id = all[i]
  local lang, tok = string.match(all[i + 1], '^([^|]*)|(.*)$')
  local cur = redis.call('HGET', KEYS[1], id) or ''
  local st, flag = string.match(cur, '^([^|]*)|[^|]*|[^|]*|[^|]*|([^|]*)|')
  local held = tok ~= nil and st == 'in-doubt' and flag == 'k:' .. tok
  if held and alive[string.match(tok, '^(.*)/[^/]*$') or tok] then
    left = left + 1
  else
    gone[#gone + 1] = id
    if held then
      if not counts[lang] then langs[#langs + 1] = lang end
      counts[lang] = (counts[lang] or 0) + 1
    end
  end
end
for i = 1, #gone, 1000 do
  redis.call('HDEL', KEYS[2], unpack(gone, i, math.min(i + 999, #gone)))
end
local out = {left}
for _, lang in ipairs(langs) do
  out[#out + 1], out[#out + 2] = lang, counts[lang]
end
return out
