-- ev_drop.lua: forget an event (events.Gate.Drop). The write lock is
-- left to expire or be released by its holder.
--
-- KEYS: state members confirmed waiting tombs log fail lock
-- Returns {'OK'}. Running it twice does the same.
redis.call('DEL', K.state, K.members, K.confirmed, K.waiting, K.tombs, K.log, K.fail)
notify(K.state)
return {'OK'}
