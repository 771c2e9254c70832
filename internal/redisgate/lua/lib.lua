-- lib.lua: helpers prepended to every roomcal gate script (see redisgate.go).
--
-- A member of a busy or hold set is "START|END|JSON": START and END are
-- Unix milliseconds in decimal, JSON describes the interval (written and
-- read by Go only). Its score is START. Members whose END-START exceeds
-- LONG go to the room's long set instead of its busy set, so that the
-- lower bound of an overlap search on the busy set (START > s - maxlen)
-- stays tight even when the room has a few very long intervals.
--
-- Lists of members (an object's or a hold's) are stored joined by "\n":
-- JSON written by Go never contains a raw newline.

local LONG = 86400000

-- bump marks a change of the room's busy intervals or holds: meta's 'ver'
-- only grows (load starts it at the server's clock in microseconds), and
-- readers memoise answers on it (redisgate.go, Busy).
local function bump(meta)
  redis.call('HINCRBY', meta, 'ver', 1)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

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

-- span returns start and end of a member as numbers, and its start as
-- the string to use as score.
local function span(m)
  local s, e = string.match(m, '^(%-?%d+)|(%-?%d+)|')
  return tonumber(s), tonumber(e), s
end

local function split(str)
  local out = {}
  if str then
    for m in string.gmatch(str, '[^\n]+') do
      out[#out + 1] = m
    end
  end
  return out
end

-- zrem_all removes members in batches (unpack has a stack limit).
local function zrem_all(key, list)
  local i = 1
  while i <= #list do
    local j = math.min(i + 999, #list)
    redis.call('ZREM', key, unpack(list, i, j))
    i = j + 1
  end
end

local function num(v, default)
  local n = tonumber(v)
  if n == nil then return default end
  return n
end

-- purge drops expired holds. hk = {holds, holdexp, holdm, hmax}.
local function purge(hk, now)
  local gone = redis.call('ZRANGEBYSCORE', hk[2], '-inf', fmt(now))
  if #gone == 0 then return end
  for _, id in ipairs(gone) do
    zrem_all(hk[1], split(redis.call('HGET', hk[3], id)))
    redis.call('HDEL', hk[3], id)
  end
  redis.call('ZREMRANGEBYSCORE', hk[2], '-inf', fmt(now))
  if redis.call('ZCARD', hk[2]) == 0 then
    redis.call('DEL', hk[1], hk[3], hk[4])
  end
end

-- collect appends to out the members of set key overlapping
-- [s - buf, e + buf), except those in skip. maxlen bounds the length of
-- the set's members (nil: the set is empty).
local function collect(key, maxlen, s, e, buf, skip, out)
  if maxlen == nil then return end
  local lo = s - buf - maxlen
  local hi = e + buf
  local ms = redis.call('ZRANGEBYSCORE', key, '(' .. fmt(lo), '(' .. fmt(hi))
  for _, m in ipairs(ms) do
    if not skip[m] then
      local _, me = span(m)
      if me > s - buf then
        out[#out + 1] = m
      end
    end
  end
end

-- State keys: sk = {meta, busy, long, etags, objm}. meta holds the change
-- token, the marker v, and ms / ml: the longest member of busy / long.

-- unrecord removes the members of object ref from busy and long.
local function unrecord(sk, ref)
  local old = split(redis.call('HGET', sk[5], ref))
  if #old > 0 then
    zrem_all(sk[2], old)
    zrem_all(sk[3], old)
  end
  redis.call('HDEL', sk[4], ref)
  redis.call('HDEL', sk[5], ref)
end

-- record makes members (a list) the busy intervals of object ref, with
-- etag, replacing what ref had. It keeps meta's ms / ml up to date.
local function record(sk, ref, etag, members)
  unrecord(sk, ref)
  local ms = num(redis.call('HGET', sk[1], 'ms'), -1)
  local ml = num(redis.call('HGET', sk[1], 'ml'), -1)
  local ms0, ml0 = ms, ml
  for _, m in ipairs(members) do
    local s, e, ss = span(m)
    local len = e - s
    if len > LONG then
      redis.call('ZADD', sk[3], ss, m)
      if len > ml then ml = len end
    else
      redis.call('ZADD', sk[2], ss, m)
      if len > ms then ms = len end
    end
  end
  if ms ~= ms0 then redis.call('HSET', sk[1], 'ms', fmt(ms)) end
  if ml ~= ml0 then redis.call('HSET', sk[1], 'ml', fmt(ml)) end
  redis.call('HSET', sk[4], ref, etag)
  if #members > 0 then
    redis.call('HSET', sk[5], ref, table.concat(members, '\n'))
  end
end

-- same says whether object ref is already recorded with etag and exactly
-- members (a list): recording it again would change nothing.
local function same(sk, ref, etag, members)
  if redis.call('HGET', sk[4], ref) ~= etag then return false end
  local cur = redis.call('HGET', sk[5], ref)
  if #members == 0 then return cur == false end
  return cur == table.concat(members, '\n')
end

-- maxlens returns the bounds of busy and long, nil for an empty set.
local function maxlens(meta)
  local v = redis.call('HMGET', meta, 'ms', 'ml')
  local ms, ml = tonumber(v[1]), tonumber(v[2])
  if ms ~= nil and ms < 0 then ms = nil end
  if ml ~= nil and ml < 0 then ml = nil end
  return ms, ml
end

-- clashes lists, for each member of list, what it clashes with in the
-- room's state and holds: a flat list of index, member pairs.
local function clashes(sk, hk, list, buf, skip, hskip)
  local ms, ml = maxlens(sk[1])
  local hm = tonumber(redis.call('GET', hk[4]))
  local out = {}
  for i, m in ipairs(list) do
    local s, e = span(m)
    local found = {}
    collect(sk[2], ms, s, e, buf, skip, found)
    collect(sk[3], ml, s, e, buf, skip, found)
    collect(hk[1], hm, s, e, buf, hskip, found)
    for _, f in ipairs(found) do
      out[#out + 1] = tostring(i)
      out[#out + 1] = f
    end
  end
  return out
end

local function set_of(list)
  local set = {}
  for _, m in ipairs(list) do set[m] = true end
  return set
end

local function slice(t, from)
  local out = {}
  for i = from, #t do out[#out + 1] = t[i] end
  return out
end
