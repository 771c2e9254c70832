-- takeback.lua: forget a booking that was written to the calendar and
-- then taken back (deleted) because its commit was refused: its hold was
-- lost and the slot or the member's quota went to someone else meanwhile.
--
-- KEYS: meta busy long etags objm org lock
-- ARGV: ref
-- Returns {'OK'}.
--
-- The calendar held the booking from its write to its deletion; a state
-- read in between may list it. The caller runs this once the deletion is
-- done, so that no such reading outlives it:
--  * With state (loaded, or synced, while the booking was there), ref's
--    intervals go, and ref stays known as a tombstone: ETag '!taken-back'
--    and no interval. A sync pass whose reading of the calendar predates
--    the deletion puts ref fenced on the ETag it knew before reading ('-'
--    or the booking's own), which is no longer the gate's: the put is
--    skipped (apply.lua). A later pass finds ref gone from the calendar
--    and drops the tombstone (fenced on '!taken-back').
--  * Without state, a Load may be reading the calendar now, from before
--    the deletion: the refresh lock is dropped, so its lease no longer
--    holds and load.lua refuses its snapshot ({'LEASE'}); the next reader
--    reads the calendar as it is (as retire.lua does).
if redis.call('EXISTS', KEYS[1]) == 1 then
  local sk = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}
  local ref = ARGV[1]
  if not same(sk, ref, '!taken-back', {}) then
    record(sk, ref, '!taken-back', {})
    bump(sk[1])
  end
  return {'OK'}
end
if redis.call('DEL', KEYS[7]) == 1 then
  notify(KEYS[7])
end
return {'OK'}
