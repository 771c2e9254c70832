-- takeback.lua: record a booking that was written to the calendar and
-- then taken back because its commit was refused (its hold was lost and
-- the slot or the member's quota went to someone else meanwhile): a new
-- booking deleted again, a change written back as it was.
--
-- KEYS: meta busy long etags objm org lock
-- ARGV: ref etag member...
--       (a deletion: etag '!taken-back' and no member; a change written
--       back: its ETag now and its members)
-- Returns {'OK'}.
--
-- The calendar held the refused version from its write to its taking
-- back; a state read in between may list it. The caller runs this once
-- the taking back is done, so that no such reading outlives it:
--  * With state (loaded, or synced, while the refused version was
--    there), ref is recorded as it now is: deleted, it stays known as a
--    tombstone (ETag '!taken-back', no interval). A sync pass whose
--    reading of the calendar predates the taking back puts ref fenced on
--    the ETag it knew before reading ('-', or an earlier one), which is
--    no longer the gate's: the put is skipped (apply.lua). A later pass
--    finds a deleted ref gone from the calendar and drops the tombstone
--    (fenced on '!taken-back').
--  * Without state, a Load may be reading the calendar now, from before
--    the taking back: the refresh lock is dropped, so its lease no longer
--    holds and load.lua refuses its snapshot ({'LEASE'}); the next reader
--    reads the calendar as it is (as retire.lua does).
if redis.call('EXISTS', KEYS[1]) == 1 then
  local sk = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}
  local ref, etag = ARGV[1], ARGV[2]
  local members = slice(ARGV, 3)
  if not same(sk, ref, etag, members) then
    record(sk, ref, etag, members)
    bump(sk[1])
  end
  return {'OK'}
end
if redis.call('DEL', KEYS[7]) == 1 then
  notify(KEYS[7])
end
return {'OK'}
