-- commit.lua: turn a hold into the busy intervals of an object.
--
-- KEYS: meta busy long etags objm org holds holdexp holdm hmax
-- ARGV: holdID ref etag buffer_ms member...
-- Returns {'OK', 'held'} when the hold was live, {'OK', 'checked'} when it
-- was gone and the intervals were checked and found clear, {'NOSTATE'},
-- or {'CONFLICT', index, member, ...} (nothing recorded).
local sk = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}
local hk = {KEYS[7], KEYS[8], KEYS[9], KEYS[10]}
local now = now_ms()
purge(hk, now)
if redis.call('EXISTS', sk[1]) == 0 then
  return {'NOSTATE'}
end

local id, ref, etag, buf = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local members = slice(ARGV, 5)

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
record(sk, ref, etag, members)
bump(sk[1])
return {'OK', 'checked'}
