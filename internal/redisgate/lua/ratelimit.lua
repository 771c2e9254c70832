-- ratelimit.lua: count one event of a key in its current window
-- (Limiter.Allow).
--
-- KEYS: counter (STRING, an integer: the events of the current window)
-- ARGV: n per_ms
-- Returns {allowed (1|0), ms until the window ends (at least 1)}.
--
-- A window starts with the first event counted after the previous one
-- ended and lasts per_ms by the server's clock: the counter is created by
-- INCR and given that life by PEXPIRE, so its expiry is the end of the
-- window, the same for every replica whatever their own clocks say.
-- Refused events are counted too but never lengthen the window.
local n, per = tonumber(ARGV[1]), tonumber(ARGV[2])
local count = redis.call('INCR', KEYS[1])
local ttl = per
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], per)
else
  ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 or ttl > per then
    -- A counter without expiry (written by hand) or with a longer one
    -- would never end its window: end it per_ms from now.
    redis.call('PEXPIRE', KEYS[1], per)
    ttl = per
  end
end
if ttl < 1 then
  ttl = 1
end
if count <= n then
  return {1, ttl}
end
return {0, ttl}
