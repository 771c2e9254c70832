-- notice_release.lua: give back a claim (NoticeClaims.Release), only
-- when the caller still owns it.
--
-- KEYS: claim
-- ARGV: owner
-- Returns 1 when released, 0 when the claim was not the caller's.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
