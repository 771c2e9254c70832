// Package notices tells members by e-mail what changed without them,
// with an iCalendar invitation (RFC 6047 iMIP) so that the entry appears,
// moves or disappears in their own calendar app.
//
// # Where a notice comes from
//
// Notices are derived from the record, never from a queue: every
// registration's ATTENDEE line carries what its member was last told
// (events.Registration.Told, see events/notices.go). The Worker reads an
// event's object, compares each registrant's Told with what they would
// be told now (events.Mark), sends what differs, then writes the new
// Told under the event's write lock (events.Service.MarkTold). So a
// Redis FLUSHALL, a restart or a failover between the change and the
// send loses nothing (the difference is still in the record) and
// repeats nothing (once Told is written, there is no difference).
//
// Detection happens in one place, the Worker, whoever made the change:
// the events flusher (a member left and the head of the waiting list was
// promoted, an organiser moved or cancelled the event), the events sync
// loop (attendees removed straight in the calendar), or another replica.
// The flusher hints the local Worker after each write (low latency);
// every Worker also sweeps the events calendar's changes (sync-collection)
// every Sweep, which finds what other replicas wrote and, after a
// restart, everything still owed.
//
// # Once, across replicas
//
// Before sending, a Worker claims the notice (event, member, mark) in
// the gate (one Lua script: SET NX with a TTL) and reads the record
// again: a notice another replica claimed or already marked is left
// alone. A failed send releases the claim and is tried again with
// exponential backoff (Backoff, doubling, up to MaxBackoff). The only
// window for a repeat is a crash (or a flush of the gate) between the
// SMTP server's acceptance and the Told write: at least once, never lost.
//
// # Few and grouped
//
// A notice is sent Window (60 s) after its change was first seen: the
// changes to one event for one member within that minute make one
// message (counted as grouped). At most DailyCap messages a member a day,
// every kind together (events', bookings', reminders): counted in the
// gate (a set of the day's messages per member, Claims.Count) and
// recorded in the calendar store before each is sent (SentLog), from
// which the gate's count is rebuilt when a flush lost it. The rest wait
// for one daily digest sent at DigestAt, listing them all with their
// invitations attached.
//
// # Kinds
//
// Sent by default: promoted (a seat freed for a waiting member),
// event_changed (time or place), event_cancelled, booking_removed (see
// removals.go: kept in an Outbox, not on a record). Opt-in: confirmation
// (of one's own registration). Members turn kinds on and off on their
// page (booking.Preferences.Notices, kept in the calendar store); the
// List-Unsubscribe link of each message turns its kind off.
package notices
