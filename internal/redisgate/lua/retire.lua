-- retire.lua: mark a room retired, or back in service.
--
-- KEYS: meta lock
-- ARGV: retired ('1'|'0')
-- Returns {'OK'}.
--
-- With state, meta's 'retired' is set or cleared: claim.lua reads it in
-- the claim's own step, so no claim passes once this has run. Without
-- state there is nothing to mark: the next Load derives it from the
-- room's settings record in its calendar, which the caller wrote before.
-- A Load reading the calendar now may have read it before that write:
-- the refresh lock is dropped, so its lease no longer holds and
-- load.lua refuses its snapshot ({'LEASE'}); the replicas waiting for it
-- are told (notify), and the next reader reads the record as it is.
if redis.call('EXISTS', KEYS[1]) == 1 then
  if ARGV[1] == '1' then
    redis.call('HSET', KEYS[1], 'retired', '1')
  else
    redis.call('HDEL', KEYS[1], 'retired')
  end
  return {'OK'}
end
if redis.call('DEL', KEYS[2]) == 1 then
  notify(KEYS[2])
end
return {'OK'}
