package booking

import (
	"fmt"
	"time"
)

// CheckRules reports the first rule that booking [start, end) of room at
// site by m, asked at now, breaks, as a *RuleError; nil when it keeps them
// all. Wall-clock rules (opening hours, closures) are read in the site's
// time zone.
func CheckRules(site Site, room Room, m Member, start, end, now time.Time) error {
	r := room.Rules
	if !start.Before(end) {
		return Invalidf("la fin doit être après le début / end must be after start")
	}
	if room.Retired {
		return errRetired()
	}
	if !r.Allows(m) {
		return &RuleError{Rule: RuleAllowed, Detail: fmt.Sprintf("cette salle est réservée aux groupes %v / this room is for groups %v only", r.AllowedGroups, r.AllowedGroups)}
	}
	if start.Before(now) {
		return &RuleError{Rule: RuleInPast, Detail: "le créneau est déjà commencé ou passé / the slot has already started"}
	}
	if r.MinNotice > 0 && start.Before(now.Add(r.MinNotice)) {
		return &RuleError{Rule: RuleMinNotice, Detail: fmt.Sprintf("réservez au moins %s à l'avance / book at least %s ahead", human(r.MinNotice), human(r.MinNotice))}
	}
	if r.MaxAhead > 0 && start.After(now.Add(r.MaxAhead)) {
		return &RuleError{Rule: RuleMaxAhead, Detail: fmt.Sprintf("on ne peut pas réserver plus de %s à l'avance / cannot book more than %s ahead", human(r.MaxAhead), human(r.MaxAhead))}
	}
	if r.MaxDuration > 0 && end.Sub(start) > r.MaxDuration {
		return &RuleError{Rule: RuleMaxDuration, Detail: fmt.Sprintf("durée maximale %s / longest booking is %s", human(r.MaxDuration), human(r.MaxDuration))}
	}
	loc := site.Location
	for d := dateOf(start.In(loc)); !d.In(loc).After(end.In(loc).Add(-time.Nanosecond)); d = d.next() {
		for _, cl := range room.Hours.Closures {
			if !d.before(cl.From) && !cl.To.before(d) {
				reason := cl.Reason
				if reason == "" {
					reason = "fermeture"
				}
				// The closure's days as people write them (28/12/2026),
				// the whole span when it is longer than a day.
				day := func(x Date) string { return fmt.Sprintf("%02d/%02d/%04d", x.Day, x.Month, x.Year) }
				if cl.From == cl.To {
					return &RuleError{Rule: RuleClosure, Detail: fmt.Sprintf("salle fermée le %s (%s) / room closed on %s", day(d), reason, day(d))}
				}
				return &RuleError{Rule: RuleClosure, Detail: fmt.Sprintf("salle fermée du %s au %s (%s) / room closed from %s to %s",
					day(cl.From), day(cl.To), reason, day(cl.From), day(cl.To))}
			}
		}
	}
	if !room.Hours.covers(start.In(loc), end.In(loc)) {
		return &RuleError{Rule: RuleOpeningHours, Detail: "en dehors des heures d'ouverture / outside opening hours"}
	}
	return nil
}

// covers reports whether [start, end) lies inside the opening ranges,
// read on each day's wall clock (a range that ends at 24:00 joins the
// next day's range that starts at 00:00).
func (h OpeningHours) covers(start, end time.Time) bool {
	if len(h.Weekly) == 0 {
		return true
	}
	open := h.Open(start, end)
	return len(open) == 1 && !open[0].Start.After(start) && !open[0].End.Before(end)
}

// Open returns the opening intervals of the room that overlap
// [from, to), clipped to it and merged, in absolute time. Times are read
// in from's location, which must be the site's. Closures are left out.
func (h OpeningHours) Open(from, to time.Time) []Interval {
	loc := from.Location()
	var out []Interval
	add := func(s, e time.Time) {
		if s.Before(from) {
			s = from
		}
		if e.After(to) {
			e = to
		}
		if !s.Before(e) {
			return
		}
		if n := len(out); n > 0 && !out[n-1].End.Before(s) {
			if e.After(out[n-1].End) {
				out[n-1].End = e
			}
			return
		}
		out = append(out, Interval{Start: s, End: e})
	}
	for d := dateOf(from.In(loc)); d.In(loc).Before(to); d = d.next() {
		if h.closed(d) {
			continue
		}
		if len(h.Weekly) == 0 {
			add(d.In(loc), d.next().In(loc))
			continue
		}
		for _, tr := range h.Weekly[d.In(loc).Weekday()] {
			add(d.at(tr.From, loc), d.at(tr.To, loc))
		}
	}
	return out
}

func (h OpeningHours) closed(d Date) bool {
	for _, cl := range h.Closures {
		if !d.before(cl.From) && !cl.To.before(d) {
			return true
		}
	}
	return false
}

// Interval is a half-open span [Start, End) of absolute time.
type Interval struct {
	Start, End time.Time
}

func dateOf(t time.Time) Date { return Date{t.Year(), t.Month(), t.Day()} }

func (d Date) next() Date {
	t := time.Date(d.Year, d.Month, d.Day+1, 12, 0, 0, 0, time.UTC)
	return Date{t.Year(), t.Month(), t.Day()}
}

func (d Date) before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// at returns the wall-clock time c on day d in loc; 24:00 is the next
// day's midnight.
func (d Date) at(c ClockTime, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(c)/60, int(c)%60, 0, 0, loc)
}

// human writes a duration the way a member reads it: "15 min", "4 h",
// "90 jours".
func human(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d jours", int(d/(24*time.Hour)))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%d h %02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d min", int(d/time.Minute))
}

func errRetired() *RuleError {
	return &RuleError{Rule: RuleRetired, Detail: "cette salle n'est plus en service / this room is no longer in service"}
}
