-- extend.lua: push a lock's expiry out only if it is still ours.
--
-- KEYS: lock
-- ARGV: token, ttl in milliseconds
-- Returns 1 when extended, 0 when the lock had expired or was taken by
-- someone else (the holder must then stop acting under it).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
