-- apply.lua: record changes read from the calendar.
--
-- KEYS: meta busy long etags objm org
-- ARGV: settoken('1'|'0') token ndeleted (ref fence)... then, per object
--       put: ref fence etag nmembers member...
-- fence is '*' (apply), '-' (apply only if the gate does not know ref) or
-- '=ETAG' (apply only if the gate's ETag for ref is ETAG): changes read
-- from the calendar never undo a commit made while it was being read.
-- Deletions are applied before puts. The token is set only when settoken
-- is '1' (the last chunk of a large Apply, and a token was given).
-- The room's version moves only when its busy intervals changed: an
-- object put again as it is (same ETag, same intervals), a deletion of
-- an unknown object or a new token leave every answer memoised on the
-- version valid, so a quiet sync pass costs the readers nothing.
-- Returns {'OK', changed (1|0)} or {'NOSTATE'}.
local sk = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}
if redis.call('EXISTS', sk[1]) == 0 then
  return {'NOSTATE'}
end
local function fenced(ref, fence)
  if fence == '*' then
    return true
  end
  local cur = redis.call('HGET', sk[4], ref)
  if fence == '-' then
    return cur == false
  end
  return cur == string.sub(fence, 2)
end
local changed = false
local i = 3
local ndel = tonumber(ARGV[i])
for j = 1, ndel do
  local ref, fence = ARGV[i + 2 * j - 1], ARGV[i + 2 * j]
  if fenced(ref, fence) and redis.call('HEXISTS', sk[4], ref) == 1 then
    unrecord(sk, ref)
    changed = true
  end
end
i = i + 2 * ndel + 1
while i <= #ARGV do
  local ref, fence, etag, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  if fenced(ref, fence) then
    local members = {}
    for j = 1, n do members[j] = ARGV[i + 3 + j] end
    if not same(sk, ref, etag, members) then
      record(sk, ref, etag, members)
      changed = true
    end
  end
  i = i + 4 + n
end
if ARGV[1] == '1' then
  redis.call('HSET', sk[1], 'token', ARGV[2])
end
if changed then
  bump(sk[1])
  return {'OK', 1}
end
return {'OK', 0}
