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

-- State keys: sk = {meta, busy, long, etags, objm, org}. meta holds the
-- change token, the marker v, and ms / ml: the longest member of busy /
-- long. org indexes the members of bookings by their organizer: each entry
-- is ORG.."\0"..member with score 0, so one ZRANGEBYLEX finds one member's
-- bookings in the room (quotas, in quota below). It is derived from the
-- members alone, so a state loaded again from the calendar has it whole.

-- organizer returns the organizer id of a member of kind booking (as it
-- is written in its JSON, escapes included), or nil. The JSON is Go's
-- encoding of {r,k,t,o}: "o" comes last, and a literal ,"o":" cannot
-- occur inside an escaped string.
local function organizer(m)
  if not string.find(m, '"k":"booking"', 1, true) then return nil end
  return string.match(m, ',"o":"(.*)"}$')
end

local function org_entry(m)
  local o = organizer(m)
  if o == nil or o == '' then return nil end
  return o .. '\0' .. m
end

local function org_index(key, list, add)
  for _, m in ipairs(list) do
    local e = org_entry(m)
    if e then
      if add then redis.call('ZADD', key, 0, e) else redis.call('ZREM', key, e) end
    end
  end
end

-- unrecord removes the members of object ref from busy and long.
local function unrecord(sk, ref)
  local old = split(redis.call('HGET', sk[5], ref))
  if #old > 0 then
    zrem_all(sk[2], old)
    zrem_all(sk[3], old)
    org_index(sk[6], old, false)
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
  org_index(sk[6], members, true)
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

-- ---- quotas ----
--
-- A quota spec (ARGV of claim) is '' (no quota) or
-- "WHO\tNOW\tWEEK\tAHEAD\tLONGEST": WHO the member's id as the members'
-- JSON writes it, NOW Unix ms, WEEK the most booked time a week may hold
-- (ms, 0: none), AHEAD the most bookings (a series counts once) that may
-- end after NOW (0: none), LONGEST the longest interval (ms, 0: none).
-- The weeks are "WS,WE;WS,WE;...": the week each claimed member falls in
-- (Unix ms, the site's weeks: Go knows the time zone).
--
-- What counts is the member's bookings as the rooms' states have them
-- (the org index, rebuilt with the state from the calendar) and the
-- member's live holds: claims being written, so that parallel claims
-- cannot pass a quota together.

local function fields(str, sep)
  local out = {}
  for f in string.gmatch(str, '([^' .. sep .. ']+)') do out[#out + 1] = f end
  return out
end

local function ref_of(m)
  return string.match(m, '^%-?%d+|%-?%d+|{"r":"(.-)","')
end

-- mine appends to out the members of who's bookings in one room (its org
-- index, but the members in skip) and of who's live holds there (but the
-- hold skiphold); holds expire on the server's clock, now.
local function mine(org, holdm, holdexp, who, now, skip, skiphold, out)
  local es = redis.call('ZRANGEBYLEX', org, '[' .. who .. '\0', '(' .. who .. '\1')
  for _, e in ipairs(es) do
    local m = string.sub(e, #who + 2)
    if not skip[m] then out[#out + 1] = m end
  end
  local hs = redis.call('HGETALL', holdm)
  for i = 1, #hs, 2 do
    local id = hs[i]
    if id ~= skiphold then
      local exp = tonumber(redis.call('ZSCORE', holdexp, id))
      if exp ~= nil and exp > now then
        for _, m in ipairs(split(hs[i + 1])) do
          if string.match(m, ',"o":"(.*)"}$') == who then out[#out + 1] = m end
        end
      end
    end
  end
end

local function clipped(m, ws, we)
  local s, e = span(m)
  if s < ws then s = ws end
  if e > we then e = we end
  if e > s then return e - s end
  return 0
end

-- quota checks the claimed members (a list) against spec, counting what
-- list have (the member's other bookings and holds). It returns nil, or
-- {'QUOTA', rule, used, limit, week start} with rule week, ahead or
-- longest; used is what the member had without this claim.
local function quota(spec, weekstr, members, have)
  local f = fields(spec, '\t')
  local now, wlim, alim, longest = tonumber(f[2]), tonumber(f[3]), tonumber(f[4]), tonumber(f[5])
  if longest > 0 then
    for _, m in ipairs(members) do
      local s, e = span(m)
      if e - s > longest then
        return {'QUOTA', 'longest', fmt(e - s), fmt(longest), '0'}
      end
    end
  end
  if alim > 0 then
    local refs, n = {}, 0
    for _, m in ipairs(have) do
      local _, e = span(m)
      local r = ref_of(m)
      if e > now and not refs[r] then
        refs[r] = true
        n = n + 1
      end
    end
    local future = false
    for _, m in ipairs(members) do
      local _, e = span(m)
      if e > now then future = true end
    end
    if future and n + 1 > alim then
      return {'QUOTA', 'ahead', fmt(n), fmt(alim), '0'}
    end
  end
  if wlim > 0 then
    local done = {}
    for _, w in ipairs(fields(weekstr, ';')) do
      if not done[w] then
        done[w] = true
        local b = fields(w, ',')
        local ws, we = tonumber(b[1]), tonumber(b[2])
        local used, add = 0, 0
        for _, m in ipairs(have) do used = used + clipped(m, ws, we) end
        for _, m in ipairs(members) do add = add + clipped(m, ws, we) end
        if add > 0 and used + add > wlim then
          return {'QUOTA', 'week', fmt(used), fmt(wlim), fmt(ws)}
        end
      end
    end
  end
  return nil
end

-- quota_claim gathers what the member has in the claimed room (sk, hk;
-- skipping the members in skip and the hold skiphold) and in the other
-- rooms of the quota's scope, whose keys start at KEYS[first] four by
-- four (meta org holdm holdexp), and checks the claim. It returns nil or
-- the script's answer: {'QUOTA', ...}, or {'NOSTATE', i} when the i-th
-- other room has no state (its bookings cannot be counted).
local function quota_claim(spec, weekstr, members, sk, hk, skip, skiphold, first)
  if spec == '' then return nil end
  local who = fields(spec, '\t')[1]
  local now = now_ms()
  local have = {}
  mine(sk[6], hk[3], hk[2], who, now, skip, skiphold, have)
  local i, n = first, 1
  while i + 3 <= #KEYS do
    if redis.call('EXISTS', KEYS[i]) == 0 then
      return {'NOSTATE', tostring(n)}
    end
    mine(KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], who, now, {}, '', have)
    i = i + 4
    n = n + 1
  end
  return quota(spec, weekstr, members, have)
end
