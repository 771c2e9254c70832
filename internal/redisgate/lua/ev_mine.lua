-- ev_mine.lua: one member's registration and its place in the waiting
-- list (events.Gate.Mine).
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- ARGV: member
-- Returns {'NOSTATE'}, {'OK', 0} (not registered) or
-- {'OK', 1, member, record, position}.
if not has_state() then
  return {'NOSTATE'}
end
local r = rec_of(ARGV[1])
if not r then
  return {'OK', 0}
end
return {'OK', 1, ARGV[1], redis.call('HGET', K.members, ARGV[1]), position(ARGV[1], r)}
