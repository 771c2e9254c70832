-- notice_claim.lua: claim one notice (or a digest) for one sender
-- (NoticeClaims.Claim), so that replicas never send it twice.
--
-- KEYS: claim (STRING, the owner)
-- ARGV: owner ttl_ms
-- Returns 1 when the claim is the caller's now (new, or already its
-- own: the TTL is renewed), 0 when another owner holds it.
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
