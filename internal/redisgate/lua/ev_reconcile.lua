-- ev_reconcile.lua: apply changes made to the calendar object outside
-- roomcal (events.Gate.Reconcile).
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- ARGV: etag info start_ms now_ms present
-- present is a JSON array of {member, name, email, at = registration
-- time in ms as a string, '0' for none}.
-- Returns {'NOSTATE'} or the state after, as ev_state.lua.
--
-- When etag is the state's nothing is done: a retried Reconcile finds
-- its own etag and only reads.
--
-- Live registrations whose last change is durable and that are not
-- present are removed first (the waitlisted ones, then the confirmed ones
-- by seq, so no one about to be removed is promoted); then the present
-- members with no live registration and no pending removal are added in
-- the order given, confirmed while seats are free, else waitlisted. The
-- event's info and start are replaced. All this takes one version; when
-- it changes nothing but the etag, no version is taken.
if not has_state() then
  return {'NOSTATE'}
end
local etag = ARGV[1]
if redis.call('HGET', K.state, 'etag') == etag then
  return dump()
end
local durable, cap = getn('durable'), getn('cap')
local ver = getn('ver') + 1
local present = decode(ARGV[5])
local here = {}
for _, p in ipairs(present) do here[p.member] = true end

local gone = {}
for _, z in ipairs({K.waiting, K.confirmed}) do
  for _, member in ipairs(redis.call('ZRANGE', z, 0, -1)) do
    if not here[member] and rec_of(member).ver <= durable then
      gone[#gone + 1] = member
    end
  end
end
for _, member in ipairs(gone) do
  remove(member, ver, cap)
end
local changed = #gone > 0

for _, p in ipairs(present) do
  if redis.call('HEXISTS', K.members, p.member) == 0
      and (tonumber(redis.call('HGET', K.tombs, p.member)) or 0) <= durable then
    local status = 'waitlisted'
    if redis.call('ZCARD', K.confirmed) < cap then status = 'confirmed' end
    local at = p.at
    if at == '0' then at = ARGV[4] end
    add(p.member, p.name, p.email, status, at, ver)
    changed = true
  end
end

local cur = redis.call('HMGET', K.state, 'info', 'start')
if cur[1] ~= ARGV[2] or cur[2] ~= ARGV[3] then
  save_settings()
  redis.call('HSET', K.state, 'info', ARGV[2], 'start', ARGV[3])
  changed = true
end

if changed then
  save_etag()
  redis.call('HSET', K.state, 'etag', etag)
  finish(ver)
else
  redis.call('HSET', K.state, 'etag', etag)
end
return dump()
