-- ev_idx_range.lua: the ids of the events starting in [from, to), by
-- start (events.Gate.IndexRange).
--
-- KEYS: idx meta
-- ARGV: from_ms to_ms
-- Returns {'NOSTATE'} (no index) or {'OK', id...}.
if redis.call('EXISTS', KEYS[2]) == 0 then
  return {'NOSTATE'}
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '(' .. ARGV[2])
table.insert(ids, 1, 'OK')
return ids
