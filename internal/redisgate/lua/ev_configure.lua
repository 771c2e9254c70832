-- ev_configure.lua: replace an event's fields and settings
-- (events.Gate.Configure), then confirm from the head of the waiting
-- list while seats are free.
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- ARGV: info cap wl(1|0) opens_ms closes_ms start_ms cancelled(1|0)
-- Returns {'NOSTATE'} or {'OK', gen, ver}.
--
-- Every Configure takes a new version, even one that changes nothing: a
-- retried Configure takes one more (harmless: it is written like any).
if not has_state() then
  return {'NOSTATE'}
end
save_settings()
local ver = getn('ver') + 1
redis.call('HSET', K.state, 'info', ARGV[1], 'cap', ARGV[2], 'wl', ARGV[3],
  'opens', ARGV[4], 'closes', ARGV[5], 'start', ARGV[6], 'cancelled', ARGV[7])
local cap = tonumber(ARGV[2])
while redis.call('ZCARD', K.confirmed) < cap and promote(ver) do end
finish(ver)
return {'OK', redis.call('HGET', K.state, 'gen'), ver}
