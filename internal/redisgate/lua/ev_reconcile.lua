-- ev_reconcile.lua: apply changes made to the calendar object outside
-- roomcal (events.Gate.Reconcile).
--
-- KEYS: st m cz wz t log fail lock
-- ARGV: etag info start_ms now_ms present
-- present is a JSON array of {m = member, n = name, e = email,
-- a = registration time in ms as a string, '0' for none}.
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
if redis.call('HGET', K.st, 'etag') == etag then
  return dump()
end
local durable, cap = getn('durable'), getn('cap')
local ver = getn('ver') + 1
local present = cjson.decode(ARGV[5])
local here = {}
for _, p in ipairs(present) do here[p.m] = true end

local gone = {}
for _, z in ipairs({K.wz, K.cz}) do
  for _, member in ipairs(redis.call('ZRANGE', z, 0, -1)) do
    if not here[member] and rec_of(member).v <= durable then
      gone[#gone + 1] = member
    end
  end
end
for _, member in ipairs(gone) do
  remove(member, ver, cap)
end
local changed = #gone > 0

for _, p in ipairs(present) do
  if redis.call('HEXISTS', K.m, p.m) == 0
      and (tonumber(redis.call('HGET', K.t, p.m)) or 0) <= durable then
    local status = 'w'
    if redis.call('ZCARD', K.cz) < cap then status = 'c' end
    local at = p.a
    if at == '0' then at = ARGV[4] end
    add(p.m, p.n, p.e, status, at, ver)
    changed = true
  end
end

local cur = redis.call('HMGET', K.st, 'info', 'start')
if cur[1] ~= ARGV[2] or cur[2] ~= ARGV[3] then
  save_settings()
  redis.call('HSET', K.st, 'info', ARGV[2], 'start', ARGV[3])
  changed = true
end

if changed then
  save_etag()
  redis.call('HSET', K.st, 'etag', etag)
  finish(ver)
else
  redis.call('HSET', K.st, 'etag', etag)
end
return dump()
