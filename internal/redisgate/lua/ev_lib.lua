-- ev_lib.lua: helpers prepended to every event script that takes an
-- event's keys (see events.go for the layout).
--
-- Every such script takes the same KEYS, all of one event (one hash tag,
-- so one slot): st m cz wz t log fail lock.
--
-- A registration record (a value of m) is the cjson object
--   {s = 'c'|'w', q = seq, v = version of its last change,
--    n = name, e = email, a = registration time (Unix ms, as a string)}
-- cz and wz hold the confirmed and waitlisted members scored by seq;
-- put_raw keeps them in step with m.
--
-- A decision that changes the state collects, in U, the before-image of
-- everything it touches (member records and tombstones: '' for absent;
-- the settings and info; the ETag), and finish stores U in log under the
-- decision's version, for Rollback to undo.

local K = {
  st = KEYS[1], m = KEYS[2], cz = KEYS[3], wz = KEYS[4],
  t = KEYS[5], log = KEYS[6], fail = KEYS[7], lock = KEYS[8],
}

-- The st fields a Configure or Reconcile replaces (and an undo restores).
local SETTINGS = {'cap', 'wl', 'opens', 'closes', 'start', 'cancelled', 'info'}

-- Failed ranges are kept at least this long (ms).
local FAIL_KEEP = 600000

-- fmt writes an integer without an exponent (tostring would use %.14g).
local function fmt(n)
  return string.format('%d', n)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function has_state()
  return redis.call('EXISTS', K.st) == 1
end

-- getn reads a numeric field of st (0 when missing).
local function getn(field)
  return tonumber(redis.call('HGET', K.st, field)) or 0
end

local function rec_of(member)
  local raw = redis.call('HGET', K.m, member)
  if not raw then return nil end
  return cjson.decode(raw)
end

-- put_raw sets member's record to raw ('' or nil: removes it), keeping
-- cz and wz in step.
local function put_raw(member, raw)
  redis.call('ZREM', K.cz, member)
  redis.call('ZREM', K.wz, member)
  if raw == nil or raw == '' then
    redis.call('HDEL', K.m, member)
    return
  end
  local r = cjson.decode(raw)
  redis.call('HSET', K.m, member, raw)
  if r.s == 'c' then
    redis.call('ZADD', K.cz, fmt(r.q), member)
  else
    redis.call('ZADD', K.wz, fmt(r.q), member)
  end
end

local function put_rec(member, r)
  put_raw(member, cjson.encode(r))
end

-- position is a member's place in the waiting list (0 when confirmed).
local function position(member, r)
  if r.s == 'c' then return 0 end
  return redis.call('ZRANK', K.wz, member) + 1
end

-- The undo record of the running decision.
local U = {m = {}, t = {}}

local function save_member(member)
  if U.m[member] == nil then
    U.m[member] = redis.call('HGET', K.m, member) or ''
  end
end

local function save_tomb(member)
  if U.t[member] == nil then
    U.t[member] = redis.call('HGET', K.t, member) or ''
  end
end

local function save_settings()
  if U.s == nil then
    local v = redis.call('HMGET', K.st, unpack(SETTINGS))
    U.s = {}
    for i, f in ipairs(SETTINGS) do U.s[f] = v[i] or '' end
  end
end

local function save_etag()
  if U.e == nil then
    U.e = redis.call('HGET', K.st, 'etag') or ''
  end
end

-- finish makes ver the state's version and logs U under it.
local function finish(ver)
  redis.call('HSET', K.st, 'ver', fmt(ver))
  redis.call('HSET', K.log, fmt(ver), cjson.encode(U))
end

-- undo restores the before-images of one log entry.
local function undo(raw)
  local u = cjson.decode(raw)
  for member, before in pairs(u.m) do
    put_raw(member, before)
  end
  for member, before in pairs(u.t) do
    if before == '' then
      redis.call('HDEL', K.t, member)
    else
      redis.call('HSET', K.t, member, before)
    end
  end
  if u.s then
    for f, v in pairs(u.s) do redis.call('HSET', K.st, f, v) end
  end
  if u.e then
    redis.call('HSET', K.st, 'etag', u.e)
  end
end

-- gc forgets the undo records and tombstones of versions <= durable.
local function gc(durable)
  if durable >= getn('ver') then
    redis.call('DEL', K.log, K.t)
    return
  end
  for _, v in ipairs(redis.call('HKEYS', K.log)) do
    if tonumber(v) <= durable then redis.call('HDEL', K.log, v) end
  end
  local t = redis.call('HGETALL', K.t)
  for i = 1, #t, 2 do
    if tonumber(t[i + 1]) <= durable then redis.call('HDEL', K.t, t[i]) end
  end
end

-- open says whether registration is open at now (ms): see
-- events.Settings.Open. A time of 0 is the zero time.
local function open(now)
  local opens, closes = getn('opens'), getn('closes')
  if opens ~= 0 and now < opens then return false end
  if closes == 0 then closes = getn('start') end
  return closes == 0 or now < closes
end

-- add registers member with the next seq at version ver.
local function add(member, name, email, status, at, ver)
  save_member(member)
  save_tomb(member)
  local seq = redis.call('HINCRBY', K.st, 'seq', 1)
  put_rec(member, {s = status, q = seq, v = ver, n = name, e = email, a = at})
  redis.call('HDEL', K.t, member)
end

-- promote confirms the head of the waiting list (lowest seq) at version
-- ver; false when no one waits.
local function promote(ver)
  local head = redis.call('ZRANGE', K.wz, 0, 0)[1]
  if not head then return false end
  save_member(head)
  local r = rec_of(head)
  r.s, r.v = 'c', ver
  put_rec(head, r)
  return true
end

-- remove unregisters member (who has a record) at version ver, leaving a
-- tombstone; a confirmed seat freed goes to the head of the waiting list
-- if confirmed < cap afterwards.
local function remove(member, ver, cap)
  local r = rec_of(member)
  save_member(member)
  save_tomb(member)
  put_raw(member, nil)
  redis.call('HSET', K.t, member, fmt(ver))
  if r.s == 'c' and redis.call('ZCARD', K.cz) < cap then
    promote(ver)
  end
end

-- dump returns the whole state: {'OK', gen, ver, durable, etag, seq,
-- cap, wl, opens, closes, start, cancelled, info, nconfirmed,
-- (member, record) confirmed by seq..., (member, record) waitlisted by
-- seq...}.
local function dump()
  local h = redis.call('HMGET', K.st, 'gen', 'ver', 'durable', 'etag', 'seq',
    'cap', 'wl', 'opens', 'closes', 'start', 'cancelled', 'info')
  local out = {'OK'}
  for i = 1, 12 do out[#out + 1] = h[i] or '' end
  local c = redis.call('ZRANGE', K.cz, 0, -1)
  out[#out + 1] = #c
  for _, z in ipairs({c, redis.call('ZRANGE', K.wz, 0, -1)}) do
    for _, member in ipairs(z) do
      out[#out + 1] = member
      out[#out + 1] = redis.call('HGET', K.m, member) or ''
    end
  end
  return out
end
