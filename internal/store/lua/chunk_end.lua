-- chunk_end.lua: record the end of a pass over one chunk: it passed
-- (every recipient was attempted at least once; the batch's first pass
-- counts these) and, when "finished", every recipient has a final outcome,
-- nothing is left for this chunk.
--
-- KEYS: 1 passed (SET of chunks), 2 finished (SET of chunks), 3 bstats,
--       4 control
-- ARGV: 1 chunk, 2 batch, 3 finished (1/0), 4 stage id
-- Returns 1, or 0 when the campaign is gone or was staged anew.
if redis.call('HGET', KEYS[4], 'stage') ~= ARGV[4] then return 0 end
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[3], ARGV[2] .. ':chunks_done', 1)
end
if ARGV[3] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) end
return 1
