-- claim.lua: check a claim against a room's busy intervals and live holds
-- and the claimant's quota and, if nothing clashes and the quota allows
-- it, record one hold for all its intervals.
--
-- KEYS: meta busy long etags objm org holds holdexp holdm hmax, then per
--       other room of the quota's scope: meta org holdm holdexp
-- ARGV: holdID ttl_ms buffer_ms ignore quota weeks even_retired member...
--       (quota and weeks: see lib.lua, quota; '' for none)
-- Returns {'OK'}, {'NOSTATE'}, {'NOSTATE', i} (the i-th other room),
-- {'RETIRED'}, {'CONFLICT', index, member, ...} or
-- {'QUOTA', rule, used, limit, week}.
--
-- A room whose meta has 'retired' (retire.lua, or load.lua from the
-- settings record in the calendar) takes no claim, but with even_retired
-- '1' (an import of its history).
--
-- A live hold with the same id is the claimant's own: it does not clash
-- and is replaced (a retried Claim is idempotent), nor does it count
-- against the quota.
local sk = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}
local hk = {KEYS[7], KEYS[8], KEYS[9], KEYS[10]}
local now = now_ms()
purge(hk, now)
if redis.call('EXISTS', sk[1]) == 0 then
  return {'NOSTATE'}
end

local id, ttl, buf, ignore = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local spec, weeks = ARGV[5], ARGV[6]
local members = slice(ARGV, 8)
if ARGV[7] ~= '1' and redis.call('HEXISTS', sk[1], 'retired') == 1 then
  return {'RETIRED'}
end

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

local over = quota_claim(spec, weeks, members, sk, hk, skip, id, 11)
if over then
  return over
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
