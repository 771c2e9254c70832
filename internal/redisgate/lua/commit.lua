-- commit.lua: turn a hold into the busy intervals of an object.
--
-- KEYS: meta busy long etags objm org holds holdexp holdm hmax, then per
--       other room of the quota's scope: meta org holdm holdexp
-- ARGV: holdID ref etag buffer_ms quota weeks member...
--       (quota and weeks: the claim's, see lib.lua, quota; '' for none)
-- Returns {'OK', 'held'} when the hold was live, {'OK', 'checked'} when it
-- was gone and the intervals were checked and found clear, {'NOSTATE'},
-- {'NOSTATE', i} (the i-th other room), {'CONFLICT', index, member, ...}
-- or {'QUOTA', rule, used, limit, week} (nothing recorded).
--
-- A hold that is gone (expired, or flushed and the state loaded again)
-- no longer counted in the decisions taken since: the commit takes the
-- claim's decision again, clashes and quota alike, as claim.lua would
-- (the object's own members, if the state has them already, excluded).
local sk = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}
local hk = {KEYS[7], KEYS[8], KEYS[9], KEYS[10]}
local now = now_ms()
purge(hk, now)
if redis.call('EXISTS', sk[1]) == 0 then
  return {'NOSTATE'}
end

local id, ref, etag, buf = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local spec, weeks = ARGV[5], ARGV[6]
local members = slice(ARGV, 7)

local held = nil
if id ~= '' then
  held = redis.call('HGET', hk[3], id)
end
if held then
  zrem_all(hk[1], split(held))
  redis.call('HDEL', hk[3], id)
  redis.call('ZREM', hk[2], id)
  if redis.call('ZCARD', hk[2]) == 0 then
    redis.call('DEL', hk[1], hk[3], hk[4])
  end
  record(sk, ref, etag, members)
  bump(sk[1])
  return {'OK', 'held'}
end

local skip = set_of(split(redis.call('HGET', sk[5], ref)))
local found = clashes(sk, hk, members, buf, skip, {})
if #found > 0 then
  table.insert(found, 1, 'CONFLICT')
  return found
end
local over = quota_claim(spec, weeks, members, sk, hk, skip, '', 11)
if over then
  return over
end
record(sk, ref, etag, members)
bump(sk[1])
return {'OK', 'checked'}
