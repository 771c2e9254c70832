-- busy.lua: the busy intervals and live holds overlapping [from, to).
--
-- KEYS: meta busy long holds holdexp holdm hmax
-- ARGV: from_ms to_ms
-- Returns {'NOSTATE'} or {'OK', n, busy member x n, hold member...}.
local meta = KEYS[1]
local hk = {KEYS[4], KEYS[5], KEYS[6], KEYS[7]}
purge(hk, now_ms())
if redis.call('EXISTS', meta) == 0 then
  return {'NOSTATE'}
end
local from, to = tonumber(ARGV[1]), tonumber(ARGV[2])
local ms, ml = maxlens(meta)
local busy = {}
collect(KEYS[2], ms, from, to, 0, {}, busy)
collect(KEYS[3], ml, from, to, 0, {}, busy)
local holds = {}
collect(hk[1], tonumber(redis.call('GET', hk[4])), from, to, 0, {}, holds)
local out = {'OK', #busy}
for _, m in ipairs(busy) do out[#out + 1] = m end
for _, m in ipairs(holds) do out[#out + 1] = m end
return out
