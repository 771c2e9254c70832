-- ev_load.lua: install an event's state read from the calendar
-- (events.Gate.Load).
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- ARGV: lease gen ver etag seq info cap wl(1|0) opens_ms closes_ms
--       start_ms cancelled(1|0) regs
-- regs is a JSON array of {member, name, email, status =
-- 'confirmed'|'waitlisted', seq (0: not numbered), at = time in ms as a
-- string, '0' for none, promoted = time in ms as a string, absent for
-- none (kept for numbered confirmed registrations only)}.
-- Returns {'OK'} or {'LEASE'}.
--
-- With a lease, installs only while the lock holds it ({'LEASE'}
-- otherwise) and the event has no state (a state present is left as it
-- is: {'OK'}); a retried Load finds the state it installed. With an
-- empty lease, the old state (undo log, tombstones and failed ranges
-- included) is deleted and replaced: running it twice installs the same.
--
-- Numbered registrations are installed as given (a member listed twice:
-- the first wins); the seq counter starts after the highest seq (or at
-- the seq given, if higher); unnumbered ones are then numbered in order,
-- confirmed while seats are free, else waitlisted. Every registration is
-- durable (version 0); ver and durable are the version given.
local lease = ARGV[1]
if lease ~= '' then
  if redis.call('GET', K.lock) ~= lease then
    return {'LEASE'}
  end
  if has_state() then
    return {'OK'}
  end
end
redis.call('DEL', K.state, K.members, K.confirmed, K.waiting, K.tombs, K.log, K.fail)
redis.call('HSET', K.state, 'gen', ARGV[2], 'ver', ARGV[3], 'durable', ARGV[3], 'etag', ARGV[4],
  'seq', '0', 'info', ARGV[6], 'cap', ARGV[7], 'wl', ARGV[8], 'opens', ARGV[9],
  'closes', ARGV[10], 'start', ARGV[11], 'cancelled', ARGV[12])

local regs = decode(ARGV[13])
local top = tonumber(ARGV[5])
for _, r in ipairs(regs) do
  if r.seq > 0 and redis.call('HEXISTS', K.members, r.member) == 0 then
    local promoted = nil
    if r.status == 'confirmed' and r.promoted and r.promoted ~= '' and r.promoted ~= '0' then
      promoted = r.promoted
    end
    put_rec(r.member, {status = r.status, seq = r.seq, ver = 0, name = r.name, email = r.email, at = r.at,
      promoted = promoted})
    if r.seq > top then top = r.seq end
  end
end
redis.call('HSET', K.state, 'seq', fmt(top))

local cap, now = getn('cap'), nil
for _, r in ipairs(regs) do
  if r.seq <= 0 and redis.call('HEXISTS', K.members, r.member) == 0 then
    local status = 'waitlisted'
    if redis.call('ZCARD', K.confirmed) < cap then status = 'confirmed' end
    local at = r.at
    if at == '0' then
      now = now or now_ms()
      at = fmt(now)
    end
    add(r.member, r.name, r.email, status, at, 0)
  end
end
notify(K.state)
return {'OK'}
