-- ev_unregister.lua: remove a member's registration
-- (events.Gate.Unregister).
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- ARGV: member
-- Returns {'NOSTATE'} or {'OK', gen, ver, found (1|0)}.
--
-- A member not registered gets found 0 and the version of a removal not
-- durable yet (its tombstone), else 0. So an Unregister retried after a
-- lost reply answers found 0 with the version to wait for.
if not has_state() then
  return {'NOSTATE'}
end
local member = ARGV[1]
local gen = redis.call('HGET', K.state, 'gen')

if redis.call('HEXISTS', K.members, member) == 0 then
  local ver = tonumber(redis.call('HGET', K.tombs, member)) or 0
  if ver <= getn('durable') then ver = 0 end
  return {'OK', gen, ver, 0}
end

local ver = getn('ver') + 1
remove(member, ver, getn('cap'))
finish(ver)
return {'OK', gen, ver, 1}
