// Package caldav is roomcal's way to calendars: the Store interface over
// calendar collections of iCalendar objects, with two implementations —
// Client, a CalDAV client on go-webdav for Nextcloud, Radicale and the
// like, and FileStore, an embedded store over files for the default
// set-up — plus the reading and writing of iCalendar (busy intervals,
// recurrence expansion, booking objects).
//
// Vocabulary:
//   - calendar: a collection, named by its path relative to the calendar
//     home (for example "salle-loire").
//   - object: one iCalendar resource in a calendar, named by its last path
//     segment (for example "8f3c….ics").
//   - ETag: an opaque version of an object. Callers compare ETags for
//     equality and hand them back unchanged; the Store adds whatever
//     quoting the wire needs.
//   - sync token: an opaque cursor of a calendar's change history.
package caldav
