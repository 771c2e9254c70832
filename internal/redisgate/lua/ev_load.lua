-- ev_load.lua: install an event's state read from the calendar
-- (events.Gate.Load).
--
-- KEYS: st m cz wz t log fail lock
-- ARGV: lease gen ver etag seq info cap wl(1|0) opens_ms closes_ms
--       start_ms cancelled(1|0) regs
-- regs is a JSON array of {m = member, n = name, e = email, s = 'c'|'w',
-- q = seq (0: not numbered), a = time in ms as a string, '0' for none}.
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
redis.call('DEL', K.st, K.m, K.cz, K.wz, K.t, K.log, K.fail)
redis.call('HSET', K.st, 'gen', ARGV[2], 'ver', ARGV[3], 'durable', ARGV[3], 'etag', ARGV[4],
  'seq', '0', 'info', ARGV[6], 'cap', ARGV[7], 'wl', ARGV[8], 'opens', ARGV[9],
  'closes', ARGV[10], 'start', ARGV[11], 'cancelled', ARGV[12])

local regs = cjson.decode(ARGV[13])
local top = tonumber(ARGV[5])
for _, r in ipairs(regs) do
  if r.q > 0 and redis.call('HEXISTS', K.m, r.m) == 0 then
    put_rec(r.m, {s = r.s, q = r.q, v = 0, n = r.n, e = r.e, a = r.a})
    if r.q > top then top = r.q end
  end
end
redis.call('HSET', K.st, 'seq', fmt(top))

local cap, now = getn('cap'), nil
for _, r in ipairs(regs) do
  if r.q <= 0 and redis.call('HEXISTS', K.m, r.m) == 0 then
    local status = 'w'
    if redis.call('ZCARD', K.cz) < cap then status = 'c' end
    local at = r.a
    if at == '0' then
      now = now or now_ms()
      at = fmt(now)
    end
    add(r.m, r.n, r.e, status, at, 0)
  end
end
return {'OK'}
