package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// The start page answers "for when, for how many, where?": chips for the
// day and the slot, the number of people and the site, then the rooms free
// for that slot, best fit first, each one tap from a booking
// (web/static/start.js). What the script needs to draw the chips without a
// request is here, in a JSON data block: each site's rooms (those the
// member may book), its next open days and their opening hours.

// startDays is how many open days the day chips offer (another day is
// one date field away).
const startDays = 6

// startRange is a span of wall-clock time, "HH:MM".
type startRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// startDay is one day chip: the date in the site's zone, what it is to
// today (0 today, 1 tomorrow…) and when at least one room is open.
type startDay struct {
	Date   string       `json:"date"`
	Offset int          `json:"offset"`
	Open   []startRange `json:"open"`
}

// startRoom is one room the member may book.
type startRoom struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Capacity  int      `json:"capacity"`
	Equipment []string `json:"equipment"`
	// MaxMinutes is the longest booking (0: no limit).
	MaxMinutes int    `json:"max_minutes"`
	URL        string `json:"url"`
}

// startSite is one site of the start page.
type startSite struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	TZ   string `json:"tz"`
	// Today is today's date in the site's zone.
	Today string     `json:"today"`
	Days  []startDay `json:"days"`
	// NowOpen: a room of the site is open now ("maintenant" is offered).
	NowOpen bool `json:"now_open"`
	// Notice is the longest minimum notice of its rooms, in minutes: the
	// soonest a booking "now" can start.
	Notice   int         `json:"notice"`
	Rooms    []startRoom `json:"rooms"`
	Planning string      `json:"planning"`
}

// startData is the start page's part of the view.
type startData struct {
	Sites []startSite `json:"sites"`
	// Site is the site chosen first: ?site=, else the member's
	// preference, else the first.
	Site string `json:"site"`
	// FirstName is the member's first name, for the default title.
	FirstName string `json:"first_name"`
	// Equipment lists every equipment of the rooms, for the wish list.
	Equipment []string `json:"equipment"`
}

// startData prepares the start page for m, whose preferred site is
// preferred ("" none).
func (s *Site) startData(r *http.Request, m booking.Member, preferred string) startData {
	d := startData{FirstName: firstName(m.Name)}
	now := s.now()
	seen := map[string]bool{}
	for _, st := range s.catalog.Sites() {
		rooms, err := s.catalog.Rooms(booking.RoomFilter{Site: st.ID})
		if err != nil {
			continue
		}
		ss := startSite{ID: st.ID, Name: st.Name, TZ: st.Location.String(), Planning: "/sites/" + url.PathEscape(st.ID)}
		var hours []booking.OpeningHours
		for _, rm := range rooms {
			if !rm.Rules.Allows(m) {
				continue
			}
			ss.Rooms = append(ss.Rooms, startRoom{ID: rm.ID, Name: rm.Name, Capacity: rm.Capacity, Equipment: nonNil(rm.Equipment),
				MaxMinutes: int(rm.Rules.MaxDuration / time.Minute), URL: "/salles/" + url.PathEscape(rm.ID)})
			hours = append(hours, rm.Hours)
			ss.Notice = max(ss.Notice, int((rm.Rules.MinNotice+time.Minute-1)/time.Minute))
			for _, e := range rm.Equipment {
				if !seen[e] {
					seen[e] = true
					d.Equipment = append(d.Equipment, e)
				}
			}
		}
		if len(ss.Rooms) == 0 {
			continue
		}
		ss.Today, ss.Days, ss.NowOpen = openDays(hours, now.In(st.Location), time.Duration(ss.Notice)*time.Minute)
		d.Sites = append(d.Sites, ss)
	}
	pick := func(id string) bool {
		for _, ss := range d.Sites {
			if id != "" && ss.ID == id {
				d.Site = id
				return true
			}
		}
		return false
	}
	if !pick(r.URL.Query().Get("site")) && !pick(preferred) && len(d.Sites) > 0 {
		d.Site = d.Sites[0].ID
	}
	return d
}

// openDays lists the next startDays days on which one of the rooms (their
// hours) is open, from now (in the site's zone), looking at most four
// weeks ahead. Today is left out once no room can still be booked today
// (its last opening hour, less notice, is past). nowOpen says a room is
// open now.
func openDays(hours []booking.OpeningHours, now time.Time, notice time.Duration) (today string, days []startDay, nowOpen bool) {
	loc := now.Location()
	y, m, dd := now.Date()
	midnight := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	today = midnight.Format(time.DateOnly)
	for i := 0; i < 28 && len(days) < startDays; i++ {
		from, to := midnight.AddDate(0, 0, i), midnight.AddDate(0, 0, i+1)
		var open []booking.Interval
		for _, h := range hours {
			open = union(open, h.Open(from, to))
		}
		if i == 0 {
			for _, iv := range open {
				if !now.Before(iv.Start) && now.Before(iv.End) {
					nowOpen = true
				}
			}
			open = clipFrom(open, now.Add(notice))
		}
		if len(open) == 0 {
			continue
		}
		day := startDay{Date: from.Format(time.DateOnly), Offset: i}
		for _, iv := range open {
			end := iv.End.In(loc).Format("15:04")
			if !iv.End.Before(to) {
				end = "24:00"
			}
			day.Open = append(day.Open, startRange{iv.Start.In(loc).Format("15:04"), end})
		}
		days = append(days, day)
	}
	return today, days, nowOpen
}

// union merges two sorted lists of intervals into one sorted list of
// disjoint intervals.
func union(a, b []booking.Interval) []booking.Interval {
	all := append(append([]booking.Interval(nil), a...), b...)
	for i := 1; i < len(all); i++ { // insertion sort: a handful of intervals
		for j := i; j > 0 && all[j].Start.Before(all[j-1].Start); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	var out []booking.Interval
	for _, iv := range all {
		if n := len(out); n > 0 && !out[n-1].End.Before(iv.Start) {
			if iv.End.After(out[n-1].End) {
				out[n-1].End = iv.End
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// clipFrom keeps what of the intervals lies after t.
func clipFrom(ivs []booking.Interval, t time.Time) []booking.Interval {
	var out []booking.Interval
	for _, iv := range ivs {
		if !iv.End.After(t) {
			continue
		}
		if iv.Start.Before(t) {
			iv.Start = t
		}
		out = append(out, iv)
	}
	return out
}

// firstName is the first word of a member's name ("Amina" of "Amina
// Diallo"), for the default title "Réunion de Amina".
func firstName(name string) string {
	for i, r := range name {
		if r == ' ' {
			return name[:i]
		}
	}
	return name
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// preferredSite is the site m chose or last booked at ("" when unknown).
// The start page does not wait long for it: after prefsWait, or when
// the store fails, it opens on the first site.
func (s *Site) preferredSite(r *http.Request, m booking.Member) string {
	if s.prefs == nil || m.ID == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(r.Context(), prefsWait)
	defer cancel()
	p, err := s.prefs.Preferences(ctx, m.ID)
	if err != nil {
		s.log.WarnContext(r.Context(), "web: the member's preferences could not be read; the start page opens on the first site", "err", err)
		return ""
	}
	return p.Site
}

// prefsWait bounds the read of a member's preferences for a page.
const prefsWait = 2 * time.Second
