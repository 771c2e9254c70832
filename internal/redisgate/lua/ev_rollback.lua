-- ev_rollback.lua: undo the changes not yet durable
-- (events.Gate.Rollback).
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- ARGV: gen lease
-- Returns {'LEASE'} (the lock does not hold lease, or the state is of
-- another generation), {'NOSTATE'} or {'OK', from, to} (the versions
-- (from, to] undone; from = to when there was nothing to undo).
--
-- The undo records of versions (durable, ver] are applied newest first,
-- which leaves every registration, tombstone, setting, the info and the
-- ETag as they were at durable (seq is not restored). The range is
-- recorded as failed (with the server's time) and durable becomes ver,
-- so a retried Rollback finds nothing to undo.
if ARGV[2] == '' or redis.call('GET', K.lock) ~= ARGV[2] then
  return {'LEASE'}
end
if not has_state() then
  return {'NOSTATE'}
end
if redis.call('HGET', K.state, 'gen') ~= ARGV[1] then
  return {'LEASE'}
end
local durable, ver = getn('durable'), getn('ver')
for v = ver, durable + 1, -1 do
  local raw = redis.call('HGET', K.log, fmt(v))
  if raw then undo(raw) end
end
if ver > durable then
  local now = now_ms()
  redis.call('RPUSH', K.fail, fmt(durable) .. ' ' .. fmt(ver) .. ' ' .. fmt(now))
  -- Forget ranges older than FAIL_KEEP (the list is in time order).
  while true do
    local head = redis.call('LINDEX', K.fail, 0)
    if not head or tonumber(string.match(head, '(%-?%d+)$')) >= now - FAIL_KEEP then break end
    redis.call('LPOP', K.fail)
  end
  redis.call('HSET', K.state, 'durable', fmt(ver))
end
gc(ver)
notify(K.state)
return {'OK', durable, ver}
