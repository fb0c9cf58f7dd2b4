-- free.lua: unlink what a finished campaign keeps in Redis but its ledger
-- and audit log (Store.Free), once its state is checked in the same step:
-- done or cancelled, and no staging under way.
-- KEYS: 1 control, 2 staging (the staging lease), 3 audit, 4 ledger,
-- 5... the keys to unlink (every key of the campaign but its ledger, audit
-- log and staging lease; all in the campaign's hash slot)
-- ARGV: 1 the audit entry to append (JSON)
-- Returns {'freed', n unlinked}; {'state', state} (not done nor
-- cancelled: nothing changed); {'staging'} (a send stages it now:
-- nothing changed); {'gone'} (no control: nothing changed); {'kept', key}
-- (the ledger or audit log among the keys to unlink: a caller's defect,
-- refused before anything is unlinked, since the ledger is what keeps a
-- send again from mailing anyone twice).
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'staging'} end
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'done' and st ~= 'cancelled' then return {'state', st or ''} end
for i = 5, #KEYS do
  if KEYS[i] == KEYS[3] or KEYS[i] == KEYS[4] then return {'kept', KEYS[i]} end
end
local n = 0
for i = 5, #KEYS do
  n = n + redis.call('UNLINK', KEYS[i])
end
redis.call('RPUSH', KEYS[3], ARGV[1])
return {'freed', n}
