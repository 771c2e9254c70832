-- ev_written.lua: record that the calendar holds the state up to a
-- version (events.Gate.Written).
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- ARGV: gen ver etag
-- Returns {'NOSTATE'} (no state, or another generation: nothing changed)
-- or {'OK', durable}.
--
-- Durable becomes max(durable, ver), bounded by the state's version (a
-- version not taken yet cannot be on the calendar). The undo records and
-- tombstones up to it are forgotten. Running it twice does the same.
if not has_state() or redis.call('HGET', K.state, 'gen') ~= ARGV[1] then
  return {'NOSTATE'}
end
local durable = math.max(getn('durable'), math.min(tonumber(ARGV[2]), getn('ver')))
redis.call('HSET', K.state, 'durable', fmt(durable), 'etag', ARGV[3])
gc(durable)
notify(K.state)
return {'OK', durable}
