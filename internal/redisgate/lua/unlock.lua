-- unlock.lua: delete the lock only if it is still ours.
--
-- KEYS: lock
-- ARGV: token
-- Returns 1 when deleted, 0 when the lock had expired or was taken by
-- someone else.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
