-- signout.lua: remember when a member last signed out, never going back.
--
-- KEYS: the member's sign-out key
-- ARGV: the sign-out time in Unix microseconds (0: never signed out),
--       the key's time to live in milliseconds
-- Returns the time kept, which is the greater of the one there and the
-- one given: a reader filling the cache from the calendar store with an
-- older time never hides a sign-out made meanwhile.
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
local at = tonumber(ARGV[1])
if at > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return at
end
return cur
