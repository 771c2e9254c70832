-- apply.lua: record changes read from the calendar.
--
-- KEYS: meta busy long etags objm
-- ARGV: settoken('1'|'0') token ndeleted ref... then, per object put:
--       ref etag nmembers member...
-- Deletions are applied before puts. The token is set only when settoken
-- is '1' (the last chunk of a large Apply, and a token was given).
-- Returns {'OK'} or {'NOSTATE'}.
local sk = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]}
if redis.call('EXISTS', sk[1]) == 0 then
  return {'NOSTATE'}
end
local i = 3
local ndel = tonumber(ARGV[i])
for j = 1, ndel do
  unrecord(sk, ARGV[i + j])
end
i = i + ndel + 1
while i <= #ARGV do
  local ref, etag, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local members = {}
  for j = 1, n do members[j] = ARGV[i + 2 + j] end
  record(sk, ref, etag, members)
  i = i + 3 + n
end
if ARGV[1] == '1' then
  redis.call('HSET', sk[1], 'token', ARGV[2])
end
return {'OK'}
