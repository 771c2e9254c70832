package booking

// NoticeSetting is a kind of e-mail notice a member turns on or off
// (Preferences.Notices), with its default and what members read of it.
type NoticeSetting struct {
	Kind    string
	Default bool
	FR, EN  string
}

// NoticeSettings lists the kinds: what changes without the member is on by
// default, confirmations of what they did themselves are opt-in.
var NoticeSettings = []NoticeSetting{
	{"promoted", true, "une place s'est libérée (liste d'attente)", "a seat freed (waiting list)"},
	{"event_changed", true, "événement déplacé ou modifié", "event moved or changed"},
	{"event_cancelled", true, "événement annulé", "event cancelled"},
	{"confirmation", false, "confirmation de mes réservations et inscriptions", "confirmation of my bookings and registrations"},
	{"booking_removed", true, "réservation supprimée par quelqu'un d'autre", "booking removed by someone else"},
	{"booking_changed", true, "réservation déplacée, raccourcie ou en conflit", "booking moved, shortened or in conflict"},
	{"request_answered", true, "réponse à mes demandes de réservation", "answers to my booking requests"},
	{"reminder", false, "rappel la veille (réservations et inscriptions)", "reminder the day before (bookings and registrations)"},
}

// LookupNoticeSetting returns the kind named kind.
func LookupNoticeSetting(kind string) (NoticeSetting, bool) {
	for _, k := range NoticeSettings {
		if k.Kind == kind {
			return k, true
		}
	}
	return NoticeSetting{}, false
}
