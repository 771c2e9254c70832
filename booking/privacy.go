package booking

// What members see of others' bookings.
//
// A booking's organiser and admins see all of it. Other members see when
// a room is taken, by whom (the organiser's name) and, unless the site
// hides titles (Site.HideTitles), its title: never the description or
// the organiser's e-mail, which are the organiser's to share.

// SeenBy returns b as m may see it, in a site that hides titles or not.
func (b Booking) SeenBy(m Member, hideTitles bool) Booking {
	if b.Organizer.ID == m.ID || m.IsAdmin() {
		return b
	}
	b.Description = ""
	b.Organizer = Member{ID: b.Organizer.ID, Name: b.Organizer.Name}
	if hideTitles {
		b.Title = ""
	}
	return b
}

// SeenBy returns the busy interval as m may see it: the title is left
// out in a site that hides titles, unless the booking is m's or m is an
// admin. Events' titles are public (the events list shows them).
func (b Busy) SeenBy(m Member, hideTitles bool) Busy {
	if hideTitles && b.Kind != KindEvent && b.Organizer != m.ID && !m.IsAdmin() {
		b.Title = ""
	}
	return b
}

// seenByAnyone returns a copy of busy as a member who organised none of
// it sees it in a site that hides titles.
func seenByAnyone(busy []Busy) []Busy {
	out := make([]Busy, len(busy))
	for i, b := range busy {
		out[i] = b.SeenBy(Member{}, true)
	}
	return out
}
