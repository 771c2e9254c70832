-- ev_register.lua: register a member (events.Gate.Register).
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- ARGV: member name email now_ms
-- Returns {'NOSTATE'}, {'CLOSED'}, {'FULL'} or
-- {'OK', gen, ver, created (1|0), member, record, position}.
--
-- A live registration is answered as it is (created 0, ver its version
-- if not durable yet, else 0). So a Register retried after a lost reply
-- finds its own registration and answers created 0.
if not has_state() then
  return {'NOSTATE'}
end
local member, now = ARGV[1], tonumber(ARGV[4])
local gen = redis.call('HGET', K.state, 'gen')

local r = rec_of(member)
if r then
  local ver = 0
  if r.ver > getn('durable') then ver = r.ver end
  return {'OK', gen, ver, 0, member, redis.call('HGET', K.members, member), position(member, r)}
end

if getn('cancelled') == 1 or not open(now) then
  return {'CLOSED'}
end
local status
if redis.call('ZCARD', K.confirmed) < getn('cap') then
  status = 'confirmed'
elseif getn('wl') == 1 then
  status = 'waitlisted'
else
  return {'FULL'}
end

local ver = getn('ver') + 1
add(member, ARGV[2], ARGV[3], status, ARGV[4], ver)
finish(ver)
r = rec_of(member)
return {'OK', gen, ver, 1, member, redis.call('HGET', K.members, member), position(member, r)}
