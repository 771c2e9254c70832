-- unlock.lua: delete the lock only if it is still ours.
--
-- KEYS: lock
-- ARGV: token
-- Returns 1 when deleted, 0 when the lock had expired or was taken by
-- someone else. A release is published (as notify does in lib.lua) for
-- the replicas waiting for the lock.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  local prefix, tag = string.match(KEYS[1], '^(.-){(.-)}')
  if tag then redis.call('PUBLISH', prefix .. 'notices', tag) end
  return 1
end
return 0
