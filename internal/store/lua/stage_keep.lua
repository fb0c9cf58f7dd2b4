-- stage_keep.lua: a re-staging keeps in doubt the recipients whose ledger
-- entry holds a claim of a staging before (sending, or in doubt with
-- "k:<token>"), and records where it counted each in held, only where the
-- entry is still the one it read. The window of that claim, stopping when
-- it finds the campaign staged again, gives the claim back (lua/step.lua,
-- giveBackStale): before this script it finds no held entry and makes the
-- recipient pending (or cancelled), so the staging must not write it back
-- in doubt; after it, it finds held and takes the recipient out of the
-- staging's counts. One atomic script orders the two.
-- KEYS (of one campaign): 1 ledger, 2 held
-- ARGV: per recipient 6 values: id (as staged now), from (the id its entry
--   was read under), the entry as read, the entry to write (under from,
--   and under id when it is another id), the claim's token, the held value
--   (JSON {i, l, b, c}; for a recipient the staging puts in no chunk, a
--   suppressed one, {i, s: true, k: its code, r: its reason}, so that a
--   give-back of the claim makes it skipped, never pending in a chunk that
--   does not hold it)
-- Returns one value per recipient: 1 when written; otherwise its entry
-- under from now (0 when it has none), which the staging counts instead.
local out = {}
for i = 1, #ARGV, 6 do
  local id, from, read, v, tok, h = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local cur = redis.call('HGET', KEYS[1], from)
  if cur == read then
    if v ~= read then redis.call('HSET', KEYS[1], from, v) end
    if from ~= id then redis.call('HSET', KEYS[1], id, v) end
    if h ~= '' then redis.call('HSET', KEYS[2], tok, h) end
    out[#out + 1] = 1
  else
    out[#out + 1] = cur or 0
  end
end
return out
