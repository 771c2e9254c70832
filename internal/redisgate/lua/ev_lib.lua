-- ev_lib.lua: helpers prepended to every event script that takes an
-- event's keys (see events.go for the layout).
--
-- Every such script takes the same KEYS, all of one event (one hash tag,
-- so one slot): state members confirmed waiting tombs log fail lock.
--
-- A registration record (a value of members) is the cjson object
--   {status = 'confirmed'|'waitlisted', seq = arrival number,
--    ver = version of its last change, name, email,
--    at = registration time (Unix ms, as a string),
--    promoted = when it was confirmed from the waiting list (Unix ms, as
--    a string; absent when the seat was not won from the waiting list)}
-- confirmed and waiting hold the confirmed and waitlisted members scored
-- by seq; put_raw keeps them in step with members.
--
-- A decision that changes the state collects, in U, the before-image of
-- everything it touches (member records and tombstones: '' for absent;
-- the settings and info; the ETag), and finish stores U in log under the
-- decision's version, for Rollback to undo.

local K = {
  state = KEYS[1], members = KEYS[2], confirmed = KEYS[3], waiting = KEYS[4],
  tombs = KEYS[5], log = KEYS[6], fail = KEYS[7], lock = KEYS[8],
}

-- The st fields a Configure or Reconcile replaces (and an undo restores).
local SETTINGS = {'cap', 'wl', 'opens', 'closes', 'start', 'cancelled', 'info'}

-- Failed ranges are kept at least this long (ms).
local FAIL_KEEP = 600000

-- fmt writes an integer without an exponent (tostring would use %.14g).
local function fmt(n)
  return string.format('%d', n)
end

-- notify tells every replica that what key belongs to changed (a state
-- installed, a write recorded, a lock released): it publishes the key's
-- hash tag ("room:ID", "event:ID") on the channel PREFIX.."notices",
-- where waiters listen instead of polling (notices.go).
local function notify(key)
  local prefix, tag = string.match(key, '^(.-){(.-)}')
  if tag then redis.call('PUBLISH', prefix .. 'notices', tag) end
end

-- decode reads JSON written by roomcal, raising on anything else:
-- lua-cjson (Redis) raises on bad JSON, gopher-json (the embedded
-- engine) answers nil, and a script must stop the same way on both.
local function decode(raw)
  local v = cjson.decode(raw)
  if type(v) ~= 'table' then
    error('roomcal: not a JSON object or array: ' .. string.sub(tostring(raw), 1, 80))
  end
  return v
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function has_state()
  return redis.call('EXISTS', K.state) == 1
end

-- getn reads a numeric field of st (0 when missing).
local function getn(field)
  return tonumber(redis.call('HGET', K.state, field)) or 0
end

local function rec_of(member)
  local raw = redis.call('HGET', K.members, member)
  if not raw then return nil end
  return decode(raw)
end

-- put_raw sets member's record to raw ('' or nil: removes it), keeping
-- confirmed and waiting in step.
local function put_raw(member, raw)
  redis.call('ZREM', K.confirmed, member)
  redis.call('ZREM', K.waiting, member)
  if raw == nil or raw == '' then
    redis.call('HDEL', K.members, member)
    return
  end
  local r = decode(raw)
  redis.call('HSET', K.members, member, raw)
  if r.status == 'confirmed' then
    redis.call('ZADD', K.confirmed, fmt(r.seq), member)
  else
    redis.call('ZADD', K.waiting, fmt(r.seq), member)
  end
end

local function put_rec(member, r)
  put_raw(member, cjson.encode(r))
end

-- position is a member's place in the waiting list (0 when confirmed).
local function position(member, r)
  if r.status == 'confirmed' then return 0 end
  return redis.call('ZRANK', K.waiting, member) + 1
end

-- The undo record of the running decision.
local U = {members = {}, tombs = {}}

local function save_member(member)
  if U.members[member] == nil then
    U.members[member] = redis.call('HGET', K.members, member) or ''
  end
end

local function save_tomb(member)
  if U.tombs[member] == nil then
    U.tombs[member] = redis.call('HGET', K.tombs, member) or ''
  end
end

local function save_settings()
  if U.settings == nil then
    local v = redis.call('HMGET', K.state, unpack(SETTINGS))
    U.settings = {}
    for i, f in ipairs(SETTINGS) do U.settings[f] = v[i] or '' end
  end
end

local function save_etag()
  if U.etag == nil then
    U.etag = redis.call('HGET', K.state, 'etag') or ''
  end
end

-- finish makes ver the state's version and logs U under it.
local function finish(ver)
  redis.call('HSET', K.state, 'ver', fmt(ver))
  redis.call('HSET', K.log, fmt(ver), cjson.encode(U))
end

-- undo restores the before-images of one log entry.
local function undo(raw)
  local u = decode(raw)
  for member, before in pairs(u.members) do
    put_raw(member, before)
  end
  for member, before in pairs(u.tombs) do
    if before == '' then
      redis.call('HDEL', K.tombs, member)
    else
      redis.call('HSET', K.tombs, member, before)
    end
  end
  if u.settings then
    for f, v in pairs(u.settings) do redis.call('HSET', K.state, f, v) end
  end
  if u.etag then
    redis.call('HSET', K.state, 'etag', u.etag)
  end
end

-- gc forgets the undo records and tombstones of versions <= durable.
local function gc(durable)
  if durable >= getn('ver') then
    redis.call('DEL', K.log, K.tombs)
    return
  end
  for _, v in ipairs(redis.call('HKEYS', K.log)) do
    if tonumber(v) <= durable then redis.call('HDEL', K.log, v) end
  end
  local t = redis.call('HGETALL', K.tombs)
  for i = 1, #t, 2 do
    if tonumber(t[i + 1]) <= durable then redis.call('HDEL', K.tombs, t[i]) end
  end
end

-- open says whether registration is open at now (ms): from opens (0:
-- always) until closes, or start when closes is 0, exclusive. This is the
-- one place the window is decided (events.Gate documents it).
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
  local seq = redis.call('HINCRBY', K.state, 'seq', 1)
  put_rec(member, {status = status, seq = seq, ver = ver, name = name, email = email, at = at})
  redis.call('HDEL', K.tombs, member)
end

-- promote confirms the head of the waiting list (lowest seq) at version
-- ver, dated by the server's clock to the second (promoted, for the
-- member's "a seat came free" note: the calendar keeps it to the second,
-- so a state rebuilt after a flush is the same); false when no one waits.
local function promote(ver)
  local head = redis.call('ZRANGE', K.waiting, 0, 0)[1]
  if not head then return false end
  save_member(head)
  local r = rec_of(head)
  r.status, r.ver, r.promoted = 'confirmed', ver, fmt(math.floor(now_ms() / 1000) * 1000)
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
  redis.call('HSET', K.tombs, member, fmt(ver))
  if r.status == 'confirmed' and redis.call('ZCARD', K.confirmed) < cap then
    promote(ver)
  end
end

-- dump returns the whole state: {'OK', gen, ver, durable, etag, seq,
-- cap, wl, opens, closes, start, cancelled, info, nconfirmed,
-- (member, record) confirmed by seq..., (member, record) waitlisted by
-- seq...}.
local function dump()
  local h = redis.call('HMGET', K.state, 'gen', 'ver', 'durable', 'etag', 'seq',
    'cap', 'wl', 'opens', 'closes', 'start', 'cancelled', 'info')
  local out = {'OK'}
  for i = 1, 12 do out[#out + 1] = h[i] or '' end
  local c = redis.call('ZRANGE', K.confirmed, 0, -1)
  out[#out + 1] = #c
  for _, z in ipairs({c, redis.call('ZRANGE', K.waiting, 0, -1)}) do
    for _, member in ipairs(z) do
      out[#out + 1] = member
      out[#out + 1] = redis.call('HGET', K.members, member) or ''
    end
  end
  return out
end
