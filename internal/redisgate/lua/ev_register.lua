-- ev_register.lua: register a member (events.Gate.Register).
--
-- KEYS: st m cz wz t log fail lock
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
local gen = redis.call('HGET', K.st, 'gen')

local r = rec_of(member)
if r then
  local ver = 0
  if r.v > getn('durable') then ver = r.v end
  return {'OK', gen, ver, 0, member, redis.call('HGET', K.m, member), position(member, r)}
end

if getn('cancelled') == 1 or not open(now) then
  return {'CLOSED'}
end
local status
if redis.call('ZCARD', K.cz) < getn('cap') then
  status = 'c'
elseif getn('wl') == 1 then
  status = 'w'
else
  return {'FULL'}
end

local ver = getn('ver') + 1
add(member, ARGV[2], ARGV[3], status, ARGV[4], ver)
finish(ver)
r = rec_of(member)
return {'OK', gen, ver, 1, member, redis.call('HGET', K.m, member), position(member, r)}
