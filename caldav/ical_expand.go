package caldav

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Expansion of an Item into instances.
//
// The recurrence set is built here rather than with go-ical's
// RecurrenceSet (which ignores RDATE and RECURRENCE-ID and fails on a
// multi-valued EXDATE): the RRULE is iterated with rrule-go from DTSTART
// in the event's own location (so a weekly 09:30 stays 09:30 across DST),
// merged with DTSTART and the RDATEs, minus the EXDATEs (every
// comma-separated value) and the instances that an override replaces; the
// overrides are then added with their own times, each instance with its
// own duration.
//
// Readings of the unclear cases, chosen so that doubt makes a room busy
// rather than free:
//   - DTSTART is always an instance, even when the RRULE does not produce
//     it (RFC 5545 3.8.5.3).
//   - An override whose RECURRENCE-ID names no occurrence is an extra
//     instance; RANGE=THISANDFUTURE is read as a single-instance override;
//     of two overrides of one occurrence, the higher SEQUENCE wins.
//   - EXRULE (deprecated) is ignored (kept in Event.Extra).
//   - A date EXDATE on a date-time event removes that day's occurrences; a
//     date UNTIL on a date-time rule keeps the whole of that day.
//   - An RRULE on an override is ignored.
//   - Every FREQ is read, SECONDLY and MINUTELY included, in the wall
//     clock of DTSTART's zone (as dateutil does); a local time an
//     occurrence lands on twice (clocks going back) is its first
//     occurrence, one that does not exist (clocks going forward) keeps the
//     offset before the gap, and a rule occurrence falling on an instant
//     already given is given once.
//   - rrule-go cannot be interrupted: an HOURLY, MINUTELY or SECONDLY rule
//     whose BYHOUR, BYMINUTE and BYSECOND it can never reach (it would loop
//     forever) and a rule with no occurrence at all (it would search to the
//     year 9999 on every query) are found once at parse time and yield only
//     DTSTART. BYSETPOS with a FREQ shorter than a day is refused (rrule-go
//     does not implement it).
//   - rrule-go ends a rule without COUNT or UNTIL 292 years after its
//     DTSTART (its largest time.Duration).
//
// Bounds: one Busy or Instances call walks at most MaxExpandSteps
// occurrences of an item, the bound that also refuses a recurring booking
// with too many occurrences (RoomCalendars.Occurrences). What lies beyond
// it is never dropped: the call returns the occurrences walked, one
// instance marked Beyond that covers the rest (from the first occurrence
// not walked to the end of the recurrence or of the window), and an
// error matching ErrTooManyInstances that says so.

// MaxExpandSteps bounds how many occurrences one Busy or Instances call
// walks through for one item (see Item.Busy for what happens beyond).
// Rules without COUNT are started near the query window, so only the
// occurrences inside the window count in practice.
const MaxExpandSteps = 50_000

// maxCountToUntil is the largest COUNT turned into an UNTIL at parse time
// (which lets the expansion start near the query window); rules with a
// larger COUNT are walked from DTSTART on every query.
const maxCountToUntil = 20_000

// Instance is one occurrence of an event.
type Instance struct {
	UID string
	// RecurrenceID is the original start of the occurrence (what a
	// RECURRENCE-ID names) for instances of a recurring event, zero for
	// a single event.
	RecurrenceID time.Time
	// Start and End (exclusive) of the occurrence, in the event's location
	// (all-day events: midnight to midnight in the site's location).
	// Compare them as instants (Equal, Before), not with ==.
	Start, End time.Time
	AllDay     bool

	Summary     string
	Description string
	Location    string
	// Organizer is the organizer's address without "mailto:", and
	// OrganizerName its CN.
	Organizer     string
	OrganizerName string

	Status      string // STATUS in upper case ("" when absent)
	Transparent bool   // TRANSP:TRANSPARENT
	// Beyond marks the one instance that stands for the occurrences past
	// MaxExpandSteps: it spans from the first occurrence not walked to
	// the end of the recurrence, or of the query window when that is
	// sooner, and comes with an ErrTooManyInstances error.
	Beyond bool
	// Props are the X-ROOMCAL-* properties (full upper-case names). The map
	// is shared between instances of one event: do not modify it.
	Props map[string]string
}

// IsBusy reports whether the instance makes its room busy: not
// transparent, not cancelled and of non-zero length.
func (in Instance) IsBusy() bool {
	return !in.Transparent && in.Status != "CANCELLED" && in.End.After(in.Start)
}

// Busy returns the instances that make the room busy and overlap the
// half-open window [from, to) (an instance [s, e) overlaps when s < to and
// e > from), sorted by start. Transparent and cancelled instances and
// zero-length ones are left out.
//
// The only error is an *ObjectError wrapping ErrTooManyInstances: the
// recurrence has more than MaxExpandSteps occurrences to walk for this
// window. The instances are then still returned: those walked, and one
// instance marked Beyond covering the rest, busy all along. The caller
// counts them busy and reports the error; it never reads the item as
// free.
func (it *Item) Busy(from, to time.Time) ([]Instance, error) {
	return it.expand(from, to, true)
}

// Instances is Busy without the filter: every instance overlapping
// [from, to), transparent and cancelled ones included (use
// Instance.IsBusy), and zero-length instances starting in [from, to).
// Past the bound it returns what Busy returns, with the same error.
func (it *Item) Instances(from, to time.Time) ([]Instance, error) {
	return it.expand(from, to, false)
}

// Span returns bounds of the item's instances: start is the earliest
// start, end the latest end or later. end is zero when the recurrence has
// no end (an RRULE without UNTIL, or with a COUNT too large to resolve).
// An item without events returns two zero times.
func (it *Item) Span() (start, end time.Time) {
	first := true
	unbounded := false
	add := func(s, e time.Time) {
		if first || s.Before(start) {
			start = s
		}
		if first || e.After(end) {
			end = e
		}
		first = false
	}
	if m := it.master; m != nil {
		add(m.start, m.dur.after(m.start))
		for _, r := range m.rdates {
			d := m.dur
			if r.hasDur {
				d = r.dur
			}
			add(r.t, d.after(r.t))
		}
		if rs := m.rule; rs != nil && !rs.empty {
			if rs.opt.Until.IsZero() || rs.opt.Count > 0 {
				unbounded = true
			} else {
				add(rs.opt.Until, rs.opt.Until.Add(m.maxDur()))
			}
		}
	}
	for _, o := range it.overrides {
		add(o.start, o.dur.after(o.start))
	}
	if unbounded {
		end = time.Time{}
	}
	return start, end
}

func (it *Item) expand(from, to time.Time, busyOnly bool) ([]Instance, error) {
	if !from.Before(to) {
		return nil, nil
	}
	keep := func(s, e time.Time) bool {
		if !s.Before(to) {
			return false
		}
		if e.After(s) {
			return e.After(from)
		}
		return !busyOnly && !s.Before(from)
	}
	var out []Instance
	var overridden map[int64]bool
	if len(it.overrides) > 0 {
		overridden = make(map[int64]bool, len(it.overrides))
		for _, o := range it.overrides {
			overridden[o.recurrenceID.Unix()] = true
		}
	}
	recurring := it.Recurring()
	var tooMany error
	if m := it.master; m != nil && (!busyOnly || m.opaque()) {
		beyond, err := m.occurrences(from, to, func(s time.Time, d durSpan) {
			if overridden[s.Unix()] || m.excluded(s) {
				return
			}
			if e := d.after(s); keep(s, e) {
				in := m.instance(nil, s, e)
				if recurring {
					in.RecurrenceID = s
				}
				out = append(out, in)
			}
		})
		if err != nil {
			// Past the bound: the rest of the recurrence is one busy
			// block, never free time.
			s := beyond
			if s.Before(from) {
				s = from
			}
			e := to
			if _, end := it.Span(); !end.IsZero() && end.Before(e) {
				e = end
			}
			if s.Before(e) {
				in := m.instance(nil, s, e)
				in.Beyond = true
				out = append(out, in)
			}
			tooMany = &ObjectError{Name: it.Name, UID: it.UID, Err: err}
		}
	}
	for _, o := range it.overrides {
		if busyOnly && !o.opaque() {
			continue
		}
		s := o.start
		if e := o.dur.after(s); keep(s, e) {
			in := o.instance(it.master, s, e)
			in.RecurrenceID = o.recurrenceID
			out = append(out, in)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, tooMany
}

// instance describes one occurrence of ev; an override takes the
// descriptive fields it lacks (summary, description, location, organizer,
// X-ROOMCAL properties) from master. Busy-ness (STATUS, TRANSP) is always
// the component's own.
func (ev *vevent) instance(master *vevent, s, e time.Time) Instance {
	in := Instance{
		UID:           ev.uid,
		Start:         s,
		End:           e,
		AllDay:        ev.allDay,
		Summary:       ev.summary,
		Description:   ev.description,
		Location:      ev.location,
		Organizer:     ev.organizer.Email,
		OrganizerName: ev.organizer.Name,
		Status:        ev.status,
		Transparent:   ev.transp == "TRANSPARENT",
		Props:         ev.xprops,
	}
	if master != nil {
		if in.Summary == "" {
			in.Summary = master.summary
		}
		if in.Description == "" {
			in.Description = master.description
		}
		if in.Location == "" {
			in.Location = master.location
		}
		if in.Organizer == "" {
			in.Organizer, in.OrganizerName = master.organizer.Email, master.organizer.Name
		}
		if in.Props == nil {
			in.Props = master.xprops
		}
	}
	return in
}

// maxDur is an upper bound of the length of any instance of ev.
func (ev *vevent) maxDur() time.Duration {
	d := ev.dur.max()
	for _, r := range ev.rdates {
		if r.hasDur && r.dur.max() > d {
			d = r.dur.max()
		}
	}
	return d
}

// occurrences calls fn, in order of start, for the starts of the master's
// recurrence set (DTSTART, RRULE and RDATE, before EXDATE and overrides)
// that may overlap [from, to), with the duration of each. After
// MaxExpandSteps occurrences it stops with an error wrapping
// ErrTooManyInstances, and beyond is the start of the first occurrence
// not given to fn.
func (ev *vevent) occurrences(from, to time.Time, fn func(time.Time, durSpan)) (beyond time.Time, err error) {
	if !ev.recurring() {
		fn(ev.start, ev.dur)
		return time.Time{}, nil
	}
	lower := from.Add(-ev.maxDur())
	// DTSTART is always an instance (RFC 5545 3.8.5.3), even when the
	// rule does not produce it; RDATEs are merged in order.
	extras := make([]timeItem, 0, 1+len(ev.rdates))
	extras = append(extras, timeItem{t: ev.start})
	extras = append(extras, ev.rdates...)
	sort.SliceStable(extras, func(i, j int) bool { return extras[i].t.Before(extras[j].t) })
	i := sort.Search(len(extras), func(i int) bool { return !extras[i].t.Before(lower) })

	var next rrule.Next
	var rt time.Time
	rok := false
	if ev.rule != nil && !ev.rule.empty {
		next = ev.rule.iterator(lower)
		rt, rok = next()
	}
	var last time.Time
	for steps := 0; ; steps++ {
		var s time.Time
		d := ev.dur
		fromRule := rok && (i >= len(extras) || !extras[i].t.Before(rt))
		switch {
		case fromRule:
			s = rt
		case i < len(extras):
			s = extras[i].t
		default:
			return time.Time{}, nil
		}
		if steps >= MaxExpandSteps && s.Before(to) {
			return s, fmt.Errorf("%w: more than %d occurrences to walk for [%s, %s); those from %s on are counted busy as one block",
				ErrTooManyInstances, MaxExpandSteps, from.Format(time.RFC3339), to.Format(time.RFC3339), s.Format(time.RFC3339))
		}
		if fromRule {
			rt, rok = next()
		} else {
			if extras[i].hasDur {
				d = extras[i].dur
			}
			i++
		}
		// An RDATE on a rule occurrence is one instance (its PERIOD wins).
		for i < len(extras) && extras[i].t.Equal(s) {
			if extras[i].hasDur {
				d = extras[i].dur
			}
			i++
		}
		if !s.Before(to) {
			return time.Time{}, nil
		}
		if s.Before(lower) || (!last.IsZero() && s.Equal(last)) {
			continue
		}
		last = s
		fn(s, d)
	}
}

// ruleSpec is a validated RRULE ready to iterate.
type ruleSpec struct {
	// opt has DTSTART set and the defaults rrule-go would take from
	// DTSTART written out, so that the start can be moved; a small COUNT
	// has been turned into the equivalent UNTIL.
	opt       rrule.ROption
	skippable bool // no COUNT left: iteration may start near the window
	empty     bool // the rule yields no occurrence at all
}

var rruleWeekday = [...]rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}

// parseRule validates an RRULE value for an event starting at dtstart.
// Errors wrap ErrICalInvalid. Every FREQ is read; BYSETPOS with FREQ=HOURLY,
// MINUTELY or SECONDLY is refused (rrule-go does not implement it).
func parseRule(value string, dtstart time.Time, allDay bool) (*ruleSpec, error) {
	v := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(value)), "RRULE:")
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: RRULE %q: %s", ErrICalInvalid, value, fmt.Sprintf(format, args...))
	}
	parts := make(map[string]string)
	for _, kv := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" || val == "" {
			return nil, bad("malformed part %q", kv)
		}
		if _, dup := parts[k]; dup {
			return nil, bad("%s given twice", k)
		}
		parts[k] = val
	}
	for _, k := range []string{"COUNT", "INTERVAL"} {
		if s, ok := parts[k]; ok {
			if n, err := strconv.Atoi(s); err != nil || n < 1 {
				return nil, bad("%s=%s is not a positive integer", k, s)
			}
		}
	}
	opt, err := rrule.StrToROptionInLocation(v, dtstart.Location())
	if err != nil {
		return nil, bad("%v", err)
	}
	if opt.Freq >= rrule.HOURLY && len(opt.Bysetpos) > 0 {
		return nil, bad("BYSETPOS with FREQ=%s is not supported", parts["FREQ"])
	}
	switch u := parts["UNTIL"]; {
	case len(u) == len(icalDate) && !allDay:
		// A date UNTIL on a date-time rule (RFC 5545 wants a date-time):
		// the whole of that day counts.
		y, m, d := opt.Until.Date()
		opt.Until = time.Date(y, m, d+1, 0, 0, -1, 0, dtstart.Location())
	case strings.HasSuffix(u, "Z"):
		// rrule-go compares UNTIL with occurrences that have not yet
		// been moved to the first occurrence of a repeated local time.
		opt.Until = rawUntil(opt.Until.In(dtstart.Location()))
	}
	opt.Dtstart = dtstart
	pinDefaults(opt)
	if _, err := rrule.NewRRule(*opt); err != nil {
		return nil, bad("%v", err)
	}
	rs := &ruleSpec{opt: *opt}
	if !clockReachable(opt.Freq, dtstart, opt.Interval, opt.Byhour, opt.Byminute, opt.Bysecond) {
		// rrule-go loops forever looking for such a time of day: the
		// rule yields nothing (only DTSTART counts).
		rs.empty = true
		return rs, nil
	}
	rs.prepare()
	return rs, nil
}

// clockReachable reports whether a rule of a FREQ shorter than a day,
// stepping by interval units from the wall clock of dtstart, ever lands
// on a time of day its BYHOUR, BYMINUTE and BYSECOND allow (rrule-go
// steps its counter until it does, forever if it never does). Rules of a
// day or longer always do.
func clockReachable(freq rrule.Frequency, dtstart time.Time, interval int, byhour, byminute, bysecond []int) bool {
	all := func(list []int, n int) []int {
		if len(list) > 0 {
			return list
		}
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	var unit, perDay int // seconds in one step of the rule, steps in a day
	hours, mins, secs := all(byhour, 24), all(byminute, 60), all(bysecond, 60)
	switch freq {
	case rrule.HOURLY:
		// Minutes and seconds come from the rule's time set: only the
		// hour is stepped.
		unit, perDay, mins, secs = 3600, 24, []int{0}, []int{0}
	case rrule.MINUTELY:
		unit, perDay, secs = 60, 24*60, []int{0}
	case rrule.SECONDLY:
		unit, perDay = 1, 24*3600
	default:
		return true
	}
	h0, m0, s0 := dtstart.Clock()
	p0 := (h0*3600 + m0*60 + s0) / unit
	g := gcdInt(interval, perDay)
	// The counter takes every position of the day congruent to p0
	// modulo g: is one of them allowed?
	for _, h := range hours {
		for _, m := range mins {
			for _, sec := range secs {
				if p := (h*3600 + m*60 + sec) / unit; ((p-p0)%g+g)%g == 0 {
					return true
				}
			}
		}
	}
	return false
}

func gcdInt(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// pinDefaults writes out the values rrule-go derives from DTSTART (see
// buildRRule), so that moving DTSTART does not change the rule.
func pinDefaults(o *rrule.ROption) {
	d := o.Dtstart
	if len(o.Byweekno) == 0 && len(o.Byyearday) == 0 && len(o.Bymonthday) == 0 &&
		len(o.Byweekday) == 0 && len(o.Byeaster) == 0 {
		switch o.Freq {
		case rrule.YEARLY:
			if len(o.Bymonth) == 0 {
				o.Bymonth = []int{int(d.Month())}
			}
			o.Bymonthday = []int{d.Day()}
		case rrule.MONTHLY:
			o.Bymonthday = []int{d.Day()}
		case rrule.WEEKLY:
			o.Byweekday = []rrule.Weekday{rruleWeekday[d.Weekday()]}
		}
	}
	if len(o.Byhour) == 0 && o.Freq < rrule.HOURLY {
		o.Byhour = []int{d.Hour()}
	}
	if len(o.Byminute) == 0 && o.Freq < rrule.MINUTELY {
		o.Byminute = []int{d.Minute()}
	}
	if len(o.Bysecond) == 0 && o.Freq < rrule.SECONDLY {
		o.Bysecond = []int{d.Second()}
	}
	if o.Interval < 1 {
		o.Interval = 1
	}
}

// prepare finds out whether the rule yields anything (rrule-go walks to
// the year 9999 looking for a first occurrence of an impossible rule,
// such as the 30th of February: do it once here, not on every query) and
// turns a small COUNT into UNTIL.
func (rs *ruleSpec) prepare() {
	r, err := rrule.NewRRule(rs.opt)
	if err != nil {
		rs.empty = true
		return
	}
	next := r.Iterator()
	if rs.opt.Count > 0 && rs.opt.Count <= maxCountToUntil {
		var last time.Time
		n := 0
		for t, ok := next(); ok; t, ok = next() {
			last = t
			n++
		}
		if n == 0 {
			rs.empty = true
			return
		}
		rs.opt.Count = 0
		rs.opt.Until = last
		rs.skippable = true
		return
	}
	_, ok := next()
	rs.empty = !ok
	rs.skippable = rs.opt.Count == 0
}

// iterator returns an iterator over the rule's occurrences, starting at
// or before target (or at DTSTART).
func (rs *ruleSpec) iterator(target time.Time) rrule.Next {
	opt := rs.opt
	if rs.skippable {
		if s, ok := skipStart(opt.Dtstart, opt.Freq, opt.Interval, target); ok {
			opt.Dtstart = s
		}
	}
	r, err := rrule.NewRRule(opt)
	if err != nil { // validated by parseRule: not expected
		return func() (time.Time, bool) { return time.Time{}, false }
	}
	next := r.Iterator()
	var last time.Time
	return func() (time.Time, bool) {
		for {
			t, ok := next()
			if !ok {
				return time.Time{}, false
			}
			// rrule-go places a repeated local time at its second
			// occurrence: RFC 5545 3.3.5 wants the first. A wall time
			// in a spring gap (read with the offset before it) can land
			// on an instant already given: it is given once, in order.
			t = firstOccurrence(t)
			if t.Before(rs.opt.Dtstart) || (!last.IsZero() && !t.After(last)) {
				continue
			}
			last = t
			return t, true
		}
	}
}

// skipStart moves a rule's DTSTART forward by whole multiples of its
// INTERVAL, to at least two periods before target, keeping the periods
// aligned: the occurrences from the new start on are those of the
// original rule. It needs the defaults pinned and no COUNT.
func skipStart(d time.Time, freq rrule.Frequency, n int, target time.Time) (time.Time, bool) {
	if freq == rrule.MINUTELY || freq == rrule.SECONDLY {
		return skipStartClock(d, freq, n, target)
	}
	loc := d.Location()
	tw := target.In(loc)
	if !tw.After(d) || n < 1 {
		return d, false
	}
	y, m, day := d.Date()
	days := int(civilDay(tw) - civilDay(d))
	var k int
	var s time.Time
	switch freq {
	case rrule.YEARLY:
		k = (tw.Year()-y)/n - 2
		s = time.Date(y+k*n, m, 1, 0, 0, 0, 0, loc)
	case rrule.MONTHLY:
		months := (tw.Year()-y)*12 + int(tw.Month()) - int(m)
		k = months/n - 2
		s = time.Date(y, m+time.Month(k*n), 1, 0, 0, 0, 0, loc)
	case rrule.WEEKLY:
		k = (days/7)/n - 2
		s = time.Date(y, m, day+7*k*n, 0, 0, 0, 0, loc)
	case rrule.DAILY:
		k = days/n - 2
		s = time.Date(y, m, day+k*n, 0, 0, 0, 0, loc)
	case rrule.HOURLY:
		// The hour counter runs from DTSTART's wall clock: keep it, and
		// avoid a day where that wall time does not exist.
		for k = days/n - 2; k > 0; k-- {
			s = time.Date(y, m, day+k*n, d.Hour(), d.Minute(), d.Second(), 0, loc)
			if s.Hour() == d.Hour() && s.Minute() == d.Minute() && s.Second() == d.Second() {
				break
			}
		}
	default:
		return d, false
	}
	if k <= 0 || !s.After(d) {
		return d, false
	}
	return s, true
}

// skipStartClock is skipStart for MINUTELY and SECONDLY rules, whose
// counter rrule-go steps in wall-clock time (days of 24 hours, whatever
// the zone does): the new start is DTSTART's wall clock plus a whole
// number of intervals, on a wall time that exists in the zone.
func skipStartClock(d time.Time, freq rrule.Frequency, n int, target time.Time) (time.Time, bool) {
	loc := d.Location()
	tw := target.In(loc)
	if !tw.After(d) || n < 1 {
		return d, false
	}
	civil := func(t time.Time) int64 {
		y, m, day := t.Date()
		hh, mm, ss := t.Clock()
		return time.Date(y, m, day, hh, mm, ss, 0, time.UTC).Unix()
	}
	step := int64(n)
	if freq == rrule.MINUTELY {
		step *= 60
	}
	c0 := civil(d)
	back := 2*3600/step + 1 // intervals stepped back from a wall time that does not exist
	for k := (civil(tw)-c0)/step - 2; k > 0; k -= back {
		c := time.Unix(c0+k*step, 0).UTC()
		s := time.Date(c.Year(), c.Month(), c.Day(), c.Hour(), c.Minute(), c.Second(), 0, loc)
		if civil(s) == c.Unix() && s.After(d) {
			return s, true
		}
	}
	return d, false
}
