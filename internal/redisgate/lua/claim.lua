-- claim.lua: check a claim against a room's busy intervals and live holds
-- and, if nothing clashes, record one hold for all its intervals.
--
-- KEYS: meta busy long etags objm holds holdexp holdm hmax
-- ARGV: holdID ttl_ms buffer_ms ignore member...
-- Returns {'OK'}, {'NOSTATE'} or {'CONFLICT', index, member, ...}.
--
-- A live hold with the same id is the claimant's own: it does not clash
-- and is replaced (a retried Claim is idempotent).
local sk = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]}
local hk = {KEYS[6], KEYS[7], KEYS[8], KEYS[9]}
local now = now_ms()
purge(hk, now)
if redis.call('EXISTS', sk[1]) == 0 then
  return {'NOSTATE'}
end

local id, ttl, buf, ignore = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local members = slice(ARGV, 5)

local skip = {}
if ignore ~= '' then
  skip = set_of(split(redis.call('HGET', sk[5], ignore)))
end
local own = split(redis.call('HGET', hk[3], id))

local found = clashes(sk, hk, members, buf, skip, set_of(own))
if #found > 0 then
  table.insert(found, 1, 'CONFLICT')
  return found
end

zrem_all(hk[1], own)
local hmax = num(redis.call('GET', hk[4]), 0)
for _, m in ipairs(members) do
  local s, e, ss = span(m)
  redis.call('ZADD', hk[1], ss, m)
  if e - s > hmax then hmax = e - s end
end
redis.call('HSET', hk[3], id, table.concat(members, '\n'))
redis.call('ZADD', hk[2], fmt(now + ttl), id)
redis.call('SET', hk[4], fmt(hmax))
bump(sk[1])
return {'OK'}
