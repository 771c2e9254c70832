-- objects.lua: the change token and the ETag of every known object.
--
-- KEYS: meta etags
-- Returns {'NOSTATE'} or {'OK', token, ref, etag, ref, etag...}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'NOSTATE'}
end
local out = {'OK', redis.call('HGET', KEYS[1], 'token') or ''}
local all = redis.call('HGETALL', KEYS[2])
for _, v in ipairs(all) do out[#out + 1] = v end
return out
