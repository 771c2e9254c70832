package booking

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Series: a booking repeated by a recurrence rule, some of whose dates
// may be left out (Request.Skip, written as EXDATE). A member sees, before
// anything is written, which dates are taken or refused (Preview) and
// chooses to book the series without them or not at all.

// SeriesDate is one date of a series as Preview finds it: free (With and
// Refused empty), taken (With lists what is in the way, holds of
// bookings being written included), or refused by a rule of the room
// (closed that day, too far ahead…).
type SeriesDate struct {
	Start, End time.Time
	With       []Busy
	Refused    *RuleError
}

// Free reports whether nothing stands in the way of the date.
func (d SeriesDate) Free() bool { return len(d.With) == 0 && d.Refused == nil }

// Preview says, date by date, what booking r would meet, and writes
// nothing. The dates are the rule's (r.Skip is not applied); a date is
// taken when a busy interval or a live hold overlaps it widened by the
// room's buffer, which is what the gate's claim checks (claim.lua), and
// refused when a rule of the room refuses it, as Book would. The title
// may be empty. Errors are Book's for what concerns the series as a
// whole: an invalid request or rule, too many dates, or a first date
// the rules refuse (the member picked it: it is said as Book says it).
// Quotas are not counted: Book checks them when it claims. With
// r.Repeats, the dates are those of that booking made a series (Move
// with Change.Recurrence): its own slot, the first date, is neither taken
// by itself nor checked against the rules again.
func (s *Service) Preview(ctx context.Context, m Member, r Request) ([]SeriesDate, error) {
	if strings.TrimSpace(CleanText(r.Title)) == "" {
		r.Title = "-" // the preview needs none
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	p, err := s.place(r.Room)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := CheckDateRange(r.Start, r.End, now); err != nil {
		return nil, err
	}
	occ := []Interval{{Start: r.Start, End: r.End}}
	if r.Recurrence != "" {
		occ, err = s.rec.Occurrences(r.Recurrence, r.Start, r.End, p.site.Location, s.opt.MaxOccurrences+1)
		if err != nil {
			return nil, err
		}
		switch {
		case len(occ) > s.opt.MaxOccurrences:
			return nil, &RuleError{Rule: RuleMaxAhead, Detail: fmt.Sprintf("au plus %d occurrences ; ajoutez COUNT ou UNTIL / at most %d occurrences: add COUNT or UNTIL", s.opt.MaxOccurrences, s.opt.MaxOccurrences)}
		case len(occ) == 0:
			return nil, Invalidf("la récurrence ne donne aucune occurrence / the recurrence has no occurrence")
		case len(occ) == 1:
			return nil, errLoneOccurrence()
		}
	}
	out := make([]SeriesDate, len(occ))
	for i, o := range occ {
		out[i] = SeriesDate{Start: o.Start, End: o.End}
		if i == 0 && r.Repeats != "" {
			continue // the booking's own slot
		}
		if err := CheckDateRange(o.Start, o.End, now); err != nil {
			return nil, err
		}
		if err := CheckRules(p.site, p.room, m, o.Start, o.End, now); err != nil {
			var re *RuleError
			if i == 0 || !errors.As(err, &re) {
				return nil, err
			}
			out[i].Refused = re
		}
	}
	buf := p.room.Rules.Buffer
	busy, _, err := s.busy(ctx, p, occ[0].Start.Add(-buf), occ[len(occ)-1].End.Add(buf))
	if err != nil {
		return nil, fmt.Errorf("preview of a series in %s: %w", p.room.ID, err)
	}
	for i := range out {
		for _, b := range busy {
			if r.Repeats != "" && b.Ref == r.Repeats {
				continue // the booking the series would make repeat
			}
			if b.Overlaps(out[i].Start, out[i].End, buf) {
				out[i].With = append(out[i].With, b)
			}
		}
	}
	return out, nil
}

// skipDates removes from occ the occurrences starting at one of skip;
// each of skip must start one, and at least one must remain.
func skipDates(occ []Interval, skip []time.Time) ([]Interval, error) {
	if len(skip) == 0 {
		return occ, nil
	}
	left := make(map[int64]bool, len(skip))
	for _, t := range skip {
		left[t.UnixNano()] = true
	}
	out := make([]Interval, 0, len(occ))
	for _, o := range occ {
		if left[o.Start.UnixNano()] {
			delete(left, o.Start.UnixNano())
			continue
		}
		out = append(out, o)
	}
	if len(left) > 0 {
		for _, t := range skip {
			if left[t.UnixNano()] {
				return nil, Invalidf("%s n'est pas une date de la série / is not a date of the series", t.Format(time.RFC3339))
			}
		}
	}
	if len(out) == 0 {
		return nil, Invalidf("toutes les dates de la série sont sautées / every date of the series is skipped")
	}
	return out, nil
}

// skippedOf is the sorted, de-duplicated copy of skip a booking keeps.
func skippedOf(skip []time.Time) []time.Time {
	if len(skip) == 0 {
		return nil
	}
	out := append([]time.Time(nil), skip...)
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	j := 0
	for i := range out {
		if i == 0 || !out[i].Equal(out[j-1]) {
			out[j] = out[i]
			j++
		}
	}
	return out[:j]
}

// seriesOf expands a booking's recurrence without its skipped dates (a
// skipped date the rule no longer gives is ignored: the calendar may
// have been edited).
func (s *Service) seriesOf(p place, b Booking) ([]Interval, error) {
	occ, err := s.rec.Occurrences(b.Recurrence, b.Start, b.End, p.site.Location, s.opt.MaxOccurrences)
	if err != nil || len(b.Skipped) == 0 {
		return occ, err
	}
	skip := make(map[int64]bool, len(b.Skipped))
	for _, t := range b.Skipped {
		skip[t.UnixNano()] = true
	}
	out := occ[:0:0]
	for _, o := range occ {
		if !skip[o.Start.UnixNano()] {
			out = append(out, o)
		}
	}
	return out, nil
}

// SkipDate leaves one date of a series out: the booking is written again
// with that date as an EXDATE, through the gate like any change of it (the
// other dates claimed again with the booking's own intervals ignored, then
// committed), so the date is free for others as soon as SkipDate returns
// and the rest of the series stays held. start names the date by its
// start, as the booking's dates list it. m must own the booking (or be an
// admin). Errors: ErrInvalid for a booking that is no series, a start that
// is none of its dates (or already left out), a date already over, or the
// last date left (cancel the booking instead); ErrNotFound, ErrForbidden,
// ErrStale (the booking changed meanwhile), ErrUnavailable.
func (s *Service) SkipDate(ctx context.Context, m Member, id string, start time.Time) (Booking, error) {
	lease, err := s.lockBooking(ctx, id)
	if err != nil {
		return Booking{}, err
	}
	defer lease.Release()
	p, b, read, err := s.owned(ctx, m, id, false)
	if err != nil {
		return Booking{}, err
	}
	if b.Recurrence == "" {
		return Booking{}, Invalidf("cette réservation n'est pas une série ; annulez-la / this booking is not a series: cancel it")
	}
	occ, err := s.seriesOf(p, b)
	if err != nil {
		return Booking{}, fmt.Errorf("dates of %s: %w", id, err)
	}
	i := sort.Search(len(occ), func(i int) bool { return !occ[i].Start.Before(start) })
	if i == len(occ) || !occ[i].Start.Equal(start) {
		return Booking{}, Invalidf("%s n'est pas une date de la série / is not a date of the series", start.Format(time.RFC3339))
	}
	if !occ[i].End.After(s.now()) {
		return Booking{}, Invalidf("cette date est passée / this date is over")
	}
	if len(occ) == 1 {
		return Booking{}, Invalidf("c'est la dernière date de la série ; annulez la réservation / it is the series' last date: cancel the booking")
	}
	prev := b
	b.Skipped = skippedOf(append(append([]time.Time(nil), b.Skipped...), occ[i].Start))
	left := append(occ[:i:i], occ[i+1:]...)
	if err := s.write(ctx, p, b, left, &prev, read, m); err != nil {
		return Booking{}, err
	}
	return b, nil
}
