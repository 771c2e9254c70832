-- ev_state.lua: the whole state of an event, read at once
-- (events.Gate.State).
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- Returns {'NOSTATE'} or {'OK', gen, ver, durable, etag, seq, cap, wl,
-- opens, closes, start, cancelled, info, nconfirmed, (member, record)
-- confirmed by seq..., (member, record) waitlisted by seq...}.
if not has_state() then
  return {'NOSTATE'}
end
return dump()
