-- ev_progress.lua: where an event's state stands, for callers waiting
-- for their change (events.Gate.Progress).
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- Returns {'NOSTATE'} or {'OK', gen, ver, durable, from, to, ...}: the
-- failed ranges (from, to] recorded in the last ten minutes (server
-- time), oldest first.
if not has_state() then
  return {'NOSTATE'}
end
local h = redis.call('HMGET', K.state, 'gen', 'ver', 'durable')
local out = {'OK', h[1] or '', tonumber(h[2]) or 0, tonumber(h[3]) or 0}
local since = now_ms() - FAIL_KEEP
for _, f in ipairs(redis.call('LRANGE', K.fail, 0, -1)) do
  local from, to, at = string.match(f, '^(%-?%d+) (%-?%d+) (%-?%d+)$')
  if tonumber(at) >= since then
    out[#out + 1] = tonumber(from)
    out[#out + 1] = tonumber(to)
  end
end
return out
