-- ev_idx_load.lua: install the events index, replacing any there was
-- (events.Gate.IndexLoad). Running it twice does the same.
--
-- KEYS: idx meta
-- ARGV: token, then id start_ms pairs
-- Returns {'OK'}.
redis.call('DEL', KEYS[1], KEYS[2])
local i = 2
while i <= #ARGV do
  local args = {}
  local j = i
  while j <= #ARGV and #args < 1000 do
    args[#args + 1] = ARGV[j + 1]
    args[#args + 1] = ARGV[j]
    j = j + 2
  end
  redis.call('ZADD', KEYS[1], unpack(args))
  i = j
end
redis.call('HSET', KEYS[2], 'v', '1', 'token', ARGV[1])
return {'OK'}
