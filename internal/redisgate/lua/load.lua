-- load.lua: one chunk of a Load. A Load writes its snapshot into staging
-- keys of its own (KEYS 7-12, named after a load id, expiring if the
-- loader dies) and the last chunk swaps them in at once with the meta
-- marker: until then the room's previous state, or its absence, stands.
-- Holds are not touched: live holds survive a Load.
--
-- KEYS: meta busy long etags objm org smeta sbusy slong setags sobjm sorg lock
-- ARGV: token seq last('1'|'0') staging_ttl_ms lease load_id retired('1'|'0'),
--       then per object: ref etag nmembers member...
-- retired (the snapshot's: the room's settings record said so) is
-- installed with the state, as meta's 'retired' (claim.lua).
-- With a lease, the last chunk swaps in only if the lock key still holds
-- the lease ({'LEASE'} otherwise: flushed or expired since the calendar
-- was read) and the room has no state (else it leaves the state alone
-- and answers {'OK'}).
-- seq counts chunks from 1; a chunk whose predecessor is missing from the
-- staging keys (expired or flushed) gets {'INTERRUPTED'}.
-- The room's version starts at the server's clock in microseconds, and
-- meta's 'lid' names the load: a version is the pair, so a state loaded
-- again (after a flush) never shows an earlier state's version, whatever
-- the clock says.
-- Returns {'OK'} or {'INTERRUPTED'}.
local live = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}
local stg = {KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]}
local token, seq, last, ttl, lease, lid = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', ARGV[4], ARGV[5], ARGV[6]
local retired = ARGV[7] == '1'

if seq == 1 then
  redis.call('DEL', stg[1], stg[2], stg[3], stg[4], stg[5], stg[6])
elseif num(redis.call('HGET', stg[1], 'seq'), 0) ~= seq - 1 then
  return {'INTERRUPTED'}
end
redis.call('HSET', stg[1], 'seq', fmt(seq))

local i = 8
while i <= #ARGV do
  local ref, etag, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local members = {}
  for j = 1, n do members[j] = ARGV[i + 2 + j] end
  record(stg, ref, etag, members)
  i = i + 3 + n
end

if not last then
  for _, k in ipairs(stg) do redis.call('PEXPIRE', k, ttl) end
  return {'OK'}
end

if lease ~= '' then
  if redis.call('GET', KEYS[13]) ~= lease then
    redis.call('DEL', stg[1], stg[2], stg[3], stg[4], stg[5], stg[6])
    return {'LEASE'}
  end
  if redis.call('EXISTS', live[1]) == 1 then
    redis.call('DEL', stg[1], stg[2], stg[3], stg[4], stg[5], stg[6])
    return {'OK'}
  end
end

for j = 2, 6 do
  if redis.call('EXISTS', stg[j]) == 1 then
    redis.call('RENAME', stg[j], live[j])
    redis.call('PERSIST', live[j])
  else
    redis.call('DEL', live[j])
  end
end
local v = redis.call('HMGET', stg[1], 'ms', 'ml')
redis.call('DEL', live[1], stg[1])
local t = redis.call('TIME')
redis.call('HSET', live[1], 'v', '1', 'token', token, 'ms', v[1] or '-1', 'ml', v[2] or '-1',
  'ver', t[1] .. string.format('%06d', tonumber(t[2])), 'lid', lid)
if retired then
  redis.call('HSET', live[1], 'retired', '1')
end
notify(live[1])
return {'OK'}
