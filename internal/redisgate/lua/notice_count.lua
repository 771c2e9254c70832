-- notice_count.lua: count one message against a member's day
-- (NoticeClaims.Count) unless the day's limit is reached.
--
-- KEYS: counter (STRING, an integer)
-- ARGV: limit ttl_ms
-- Returns {ok (1|0), count after}. A refused message is not counted.
local limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= limit then
  return {0, n}
end
n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return {1, n}
