package booking

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Quotas are decided by the gate, in the claim's own step (see
// QuotaCheck): this file only says which quota applies to a claim, puts
// the gate's refusal in a member's words, and reads what is left for the
// page.

// exempt reports whether m has no quota in room r.
func exempt(r Room, m Member) bool {
	if m.IsAdmin() {
		return true
	}
	for _, g := range r.Rules.Quota.Exempt {
		if m.InGroup(g) {
			return true
		}
	}
	return false
}

// weekOf is the calendar week (Monday 00:00 to Monday 00:00, the site's
// wall clock) that t falls in.
func weekOf(t time.Time, loc *time.Location) Interval {
	l := t.In(loc)
	back := (int(l.Weekday()) + 6) % 7
	d := time.Date(l.Year(), l.Month(), l.Day()-back, 0, 0, 0, 0, loc)
	return Interval{Start: d, End: time.Date(d.Year(), d.Month(), d.Day()+7, 0, 0, 0, 0, loc)}
}

// scopeRooms lists the rooms whose bookings count in p's quota.
func (s *Service) scopeRooms(p place) []string {
	if p.room.Rules.Quota.Scope == ScopeRoom {
		return nil
	}
	rooms, err := s.cat.Rooms(RoomFilter{Site: p.site.ID})
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(rooms))
	for _, r := range rooms {
		out = append(out, r.ID)
	}
	return out
}

// quotaFor is the quota check of m's claim of busy in p, or nil (no
// quota, m exempt, or not a member's booking).
func (s *Service) quotaFor(p place, m Member, busy []Busy) *QuotaCheck {
	q := p.room.Rules.Quota
	if !q.Limited() || exempt(p.room, m) || len(busy) == 0 || busy[0].Kind != KindBooking {
		return nil
	}
	qc := &QuotaCheck{
		Member: busy[0].Organizer, Rooms: s.scopeRooms(p), Now: s.now(),
		PerWeek: q.PerWeek, Ahead: q.Ahead, Longest: q.Longest,
	}
	for _, b := range busy {
		qc.Weeks = append(qc.Weeks, weekOf(b.Start, p.site.Location))
	}
	return qc
}

// quotaRuleError puts the gate's refusal in a member's words, saying
// what is left.
func quotaRuleError(p place, qe *QuotaError) *RuleError {
	where, whereEn := "à "+p.site.Name, "at "+p.site.Name
	if p.room.Rules.Quota.Scope == ScopeRoom {
		where, whereEn = "dans la salle "+p.room.Name, "in "+p.room.Name
	}
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	switch qe.Rule {
	case QuotaWeek:
		left := max(ms(qe.Limit-qe.Used), 0)
		week := qe.Week.In(p.site.Location).Format("02/01")
		return &RuleError{Rule: Rule(QuotaWeek), Detail: fmt.Sprintf(
			"au plus %s par semaine %s : il vous reste %s la semaine du %s / at most %s a week %s: %s left in the week of %s",
			human(ms(qe.Limit)), where, humanLeft(left), week, human(ms(qe.Limit)), whereEn, humanLeft(left), week)}
	case QuotaAhead:
		return &RuleError{Rule: Rule(QuotaAhead), Detail: fmt.Sprintf(
			"vous avez déjà %s à venir %s, le maximum / you already have %s %s, the most allowed",
			plural(qe.Used, "réservation", "réservations"), where, plural(qe.Used, "upcoming booking", "upcoming bookings"), whereEn)}
	}
	return &RuleError{Rule: Rule(QuotaLongest), Detail: fmt.Sprintf(
		"une réservation dure au plus %s %s / a booking lasts at most %s %s", human(ms(qe.Limit)), where, human(ms(qe.Limit)), whereEn)}
}

func humanLeft(d time.Duration) string {
	if d <= 0 {
		return "0 h"
	}
	return human(d.Truncate(time.Minute))
}

// plural writes n and the word, in the French sense of the singular (0
// and 1) — "0 upcoming booking" reads oddly in English, but a refused
// quota of 0 cannot occur (a zero limit is no limit).
func plural(n int64, one, many string) string {
	if n == 1 || n == 0 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// QuotaStatus is what is left of one quota for a member now.
type QuotaStatus struct {
	Scope  QuotaScope
	SiteID string
	Site   string
	RoomID string // scope room only
	Room   string
	Rooms  []string // the rooms whose bookings count
	Week   Interval // this week
	// PerWeek and UsedWeek: the limit and what the member booked this
	// week (0 limit: none).
	PerWeek, UsedWeek time.Duration
	Ahead, UsedAhead  int
	Longest           time.Duration
}

// LeftWeek is the booked time still allowed this week.
func (q QuotaStatus) LeftWeek() time.Duration { return max(q.PerWeek-q.UsedWeek, 0) }

// Quotas lists the quotas that apply to m, one per site (or per room,
// for a room quota), with what m has used, read from the gate's copy of
// the calendars. It informs; the claim decides.
func (s *Service) Quotas(ctx context.Context, m Member) ([]QuotaStatus, error) {
	rooms, err := s.roomsFor("", "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	seen := map[string]bool{}
	var out []QuotaStatus
	for _, p := range rooms {
		q := p.room.Rules.Quota
		if !q.Limited() || exempt(p.room, m) {
			continue
		}
		st := QuotaStatus{Scope: ScopeSite, SiteID: p.site.ID, Site: p.site.Name, Week: weekOf(now, p.site.Location),
			PerWeek: q.PerWeek, Ahead: q.Ahead, Longest: q.Longest}
		scope := []place{}
		key := fmt.Sprintf("site:%s|%d|%d|%d", p.site.ID, q.PerWeek, q.Ahead, q.Longest)
		if q.Scope == ScopeRoom {
			st.Scope, st.RoomID, st.Room = ScopeRoom, p.room.ID, p.room.Name
			key = "room:" + p.room.ID
			scope = append(scope, p)
		} else {
			for _, o := range rooms {
				if o.site.ID == p.site.ID {
					scope = append(scope, o)
				}
			}
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		for _, sp := range scope {
			st.Rooms = append(st.Rooms, sp.room.ID)
		}
		refs := map[string]bool{}
		for _, sp := range scope {
			bs, _, err := s.busy(ctx, sp, st.Week.Start, s.window().End)
			if err != nil {
				return nil, err
			}
			for _, b := range bs {
				if b.Organizer != m.ID || (b.Kind != KindBooking && b.Kind != KindHold) {
					continue
				}
				if b.End.After(now) && !refs[b.Ref] {
					refs[b.Ref] = true
					st.UsedAhead++
				}
				if o := overlap(b, st.Week); o > 0 {
					st.UsedWeek += o
				}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func overlap(b Busy, w Interval) time.Duration {
	s, e := b.Start, b.End
	if s.Before(w.Start) {
		s = w.Start
	}
	if e.After(w.End) {
		e = w.End
	}
	if e.After(s) {
		return e.Sub(s)
	}
	return 0
}

// asRule turns the gate's refusals that are rules into the member's
// *RuleError: a *QuotaError, and ErrRetired (the room was retired on
// another replica, and this one's catalog does not know it yet).
func asRule(p place, err error) error {
	var qe *QuotaError
	if errors.As(err, &qe) {
		return quotaRuleError(p, qe)
	}
	if errors.Is(err, ErrRetired) {
		return errRetired()
	}
	return err
}
