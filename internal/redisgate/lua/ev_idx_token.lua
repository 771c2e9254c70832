-- ev_idx_token.lua: set the events calendar's change token
-- (events.Gate.SetIndexToken).
--
-- KEYS: idx meta
-- ARGV: token
-- Returns {'NOSTATE'} (no index: a token alone would make an empty
-- index look present) or {'OK'}.
if redis.call('EXISTS', KEYS[2]) == 0 then
  return {'NOSTATE'}
end
redis.call('HSET', KEYS[2], 'token', ARGV[1])
return {'OK'}
