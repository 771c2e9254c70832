-- retire.lua: mark a room retired, or back in service.
--
-- KEYS: meta lock busy long holds holdexp holdm hmax
-- ARGV: retired ('1'|'0') [clear_after]
-- Returns {'OK'}, {'NOSTATE'} or {'FUTURE', holds, ref...}.
--
-- With state, meta's 'retired' is set or cleared: claim.lua reads it in
-- the claim's own step, so no claim passes once this has run. Without
-- state there is nothing to mark: the next Load derives it from the
-- room's settings record in its calendar, which the caller wrote before.
-- A Load reading the calendar now may have read it before that write:
-- the refresh lock is dropped, so its lease no longer holds and
-- load.lua refuses its snapshot ({'LEASE'}); the replicas waiting for it
-- are told (notify), and the next reader reads the record as it is.
--
-- With clear_after (Unix ms, retired '1'), the room is marked retired
-- only if nothing would be left in it: no booking or event's booking
-- (members of kind booking or event) ending after clear_after, and no
-- live hold (a booking being written, which may still commit). Else it
-- marks nothing and answers {'FUTURE', holds, ref...}: the number of
-- live holds and the refs of those bookings. That check needs state
-- ({'NOSTATE'}: load the room, ask again); it is decided in the same
-- step as the mark, so no booking slips in between.
local meta = KEYS[1]
local clear = ARGV[2]
if clear ~= nil and clear ~= '' and ARGV[1] == '1' then
  if redis.call('EXISTS', meta) == 0 then
    return {'NOSTATE'}
  end
  local hk = {KEYS[5], KEYS[6], KEYS[7], KEYS[8]}
  purge(hk, now_ms())
  local after = tonumber(clear)
  local ms, ml = maxlens(meta)
  local refs, seen = {}, {}
  for _, set in ipairs({{KEYS[3], ms}, {KEYS[4], ml}}) do
    if set[2] ~= nil then
      local found = redis.call('ZRANGEBYSCORE', set[1], '(' .. fmt(after - set[2]), '+inf')
      for _, m in ipairs(found) do
        local _, e = span(m)
        if e > after and (string.find(m, '"k":"booking"', 1, true) or string.find(m, '"k":"event"', 1, true)) then
          local r = ref_of(m)
          if r and not seen[r] then
            seen[r] = true
            refs[#refs + 1] = r
          end
        end
      end
    end
  end
  local holds = redis.call('ZCARD', hk[2])
  if #refs > 0 or holds > 0 then
    local out = {'FUTURE', tostring(holds)}
    for _, r in ipairs(refs) do out[#out + 1] = r end
    return out
  end
end
if redis.call('EXISTS', meta) == 1 then
  if ARGV[1] == '1' then
    redis.call('HSET', meta, 'retired', '1')
  else
    redis.call('HDEL', meta, 'retired')
  end
  return {'OK'}
end
if redis.call('DEL', KEYS[2]) == 1 then
  notify(KEYS[2])
end
return {'OK'}
