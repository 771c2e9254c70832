-- release.lua: drop a hold.
--
-- KEYS: holds holdexp holdm hmax
-- ARGV: holdID
-- Returns {'OK'} or {'LOST'} when the hold was already gone.
local hk = {KEYS[1], KEYS[2], KEYS[3], KEYS[4]}
purge(hk, now_ms())
local id = ARGV[1]
local held = redis.call('HGET', hk[3], id)
if not held then
  return {'LOST'}
end
zrem_all(hk[1], split(held))
redis.call('HDEL', hk[3], id)
redis.call('ZREM', hk[2], id)
if redis.call('ZCARD', hk[2]) == 0 then
  redis.call('DEL', hk[1], hk[3], hk[4])
end
return {'OK'}
