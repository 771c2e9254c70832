-- ev_summary.lua: an event and its counts, for lists
-- (events.Gate.Summaries, one per event, pipelined).
--
-- KEYS: state confirmed waiting
-- Returns {'NOSTATE'} or {'OK', info, cap, wl, opens, closes, start,
-- cancelled, nconfirmed, nwaitlisted}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'NOSTATE'}
end
local h = redis.call('HMGET', KEYS[1], 'info', 'cap', 'wl', 'opens', 'closes', 'start', 'cancelled')
local out = {'OK'}
for i = 1, 7 do out[#out + 1] = h[i] or '' end
out[#out + 1] = redis.call('ZCARD', KEYS[2])
out[#out + 1] = redis.call('ZCARD', KEYS[3])
return out
