-- bump_gen.lua: move a chunk's task to its next generation, if it is still
-- at the generation the caller saw (two workers replacing the same lost
-- task at once: one wins). The task id of a chunk is derived from it.
--
-- KEYS: 1 gen (HASH chunk -> generation), 2 control
-- ARGV: 1 chunk, 2 generation seen, 3 stage id
-- Returns the new generation, or -1 when another caller moved it first or
-- the campaign is gone.
if redis.call('HGET', KEYS[2], 'stage') ~= ARGV[3] then return -1 end
if (redis.call('HGET', KEYS[1], ARGV[1]) or '0') ~= ARGV[2] then return -1 end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
