// Package booking is the room-booking domain: sites, rooms, their opening
// hours and rules, bookings, and availability (busy and free intervals).
//
// It knows nothing of HTTP, Redis or CalDAV wire formats: it declares the
// ports it needs (the calendar of a room, the gate that decides who gets a
// slot) and the adapters in other packages implement them.
//
// Vocabulary:
//   - site: a place with a time zone (Nantes, Saint-Nazaire…); rooms'
//     opening hours and wall-clock times are read in its zone.
//   - room: a bookable room, backed by one calendar collection.
//   - interval: a half-open [Start, End) span of absolute time.
//   - busy: an interval in which a room is taken, of kind booking (made
//     through roomcal), event (an internal event held there) or external
//     (put in the calendar by someone else).
package booking
