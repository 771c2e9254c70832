-- ev_drop.lua: forget an event (events.Gate.Drop). The write lock is
-- left to expire or be released by its holder.
--
-- KEYS: st m cz wz t log fail lock
-- Returns {'OK'}. Running it twice does the same.
redis.call('DEL', K.st, K.m, K.cz, K.wz, K.t, K.log, K.fail)
return {'OK'}
