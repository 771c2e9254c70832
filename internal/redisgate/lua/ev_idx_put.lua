-- ev_idx_put.lua: add or move an event in the index, or remove it
-- (events.Gate.IndexPut, IndexDel). Running it twice does the same.
--
-- KEYS: idx meta
-- ARGV: 'put' id start_ms | 'del' id
-- Returns {'NOSTATE'} (no index: nothing written; the next IndexLoad
-- builds it whole) or {'OK'}.
if redis.call('EXISTS', KEYS[2]) == 0 then
  return {'NOSTATE'}
end
if ARGV[1] == 'put' then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
else
  redis.call('ZREM', KEYS[1], ARGV[2])
end
return {'OK'}
