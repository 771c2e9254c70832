package web

import (
	"github.com/roomcal/roomcal/booking"
)

// adminData is the rooms administration page's part of the view
// (templates/admin.html, static/admin.js): the sites the member
// administers, for the form's site list, and the weekdays, Monday first.
type adminData struct {
	Allowed bool
	Sites   []siteView
	// SitesJSON maps site id to its name and time zone, for the script.
	SitesJSON map[string]roomInfo
	Weekdays  []weekdayView
	CSS       string
	// NoShows: the member is an admin, who sees the no-shows counted
	// over every room (GET /api/v1/noshows).
	NoShows bool
}

type weekdayView struct{ Key, Name string }

func (s *Site) adminData(m booking.Member, msgs catalogue) adminData {
	d := adminData{Allowed: m.IsRoomAdmin(), SitesJSON: map[string]roomInfo{}, CSS: s.assetURL("admin.css"), NoShows: m.IsAdmin()}
	for _, st := range s.catalog.Sites() {
		if !m.AdministersSite(st.ID) {
			continue
		}
		d.Sites = append(d.Sites, siteView{ID: st.ID, Name: st.Name})
		d.SitesJSON[st.ID] = roomInfo{Name: st.Name, Timezone: st.Location.String()}
	}
	for _, k := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		d.Weekdays = append(d.Weekdays, weekdayView{Key: k, Name: msgs.t("weekday_" + k)})
	}
	return d
}
