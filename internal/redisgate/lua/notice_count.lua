-- notice_count.lua: count one message against a member's day
-- (NoticeClaims.Count) unless the day's limit is reached. One set a
-- member and day, across every kind of notice: its members are the
-- messages counted (a token of each Message-ID), so a message counted
-- again (a retry, another replica) is not counted twice.
--
-- The set is rebuilt from what the calendar store recorded as sent that
-- day (the seed) whenever it is missing: the first message of the day,
-- or after a flush. Called without a seed on a missing set, the script
-- answers {-1, 0} and the caller calls again with the seed.
--
-- KEYS: day (SET of message tokens, and "-" once seeded)
-- ARGV: msg limit ttl_ms seeded(0|1) seed...
-- Returns {ok (1|0|-1), count after}. A refused message is not counted.
local msg, limit, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[4] ~= '1' then
    return {-1, 0}
  end
  redis.call('SADD', KEYS[1], '-')
  for i = 5, #ARGV do
    redis.call('SADD', KEYS[1], ARGV[i])
  end
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local n = redis.call('SCARD', KEYS[1]) - 1
if redis.call('SISMEMBER', KEYS[1], msg) == 1 then
  return {1, n}
end
if n >= limit then
  return {0, n}
end
redis.call('SADD', KEYS[1], msg)
return {1, n + 1}
