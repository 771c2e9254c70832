package caldav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	ical "github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// VTIMEZONE components: generated from Go's time zone database for the
// objects roomcal writes, and turned into *time.Location for the TZIDs
// of objects others write that the database does not know.

// VTimezone returns a VTIMEZONE component describing loc (TZID is
// loc.String()) around the instant around, from Go's time zone database.
//
// When loc follows a yearly rule around that time (a transition on the
// n-th or last weekday of a month, such as the EU's last Sunday of March
// and of October), each rule becomes a STANDARD or DAYLIGHT observance
// with TZOFFSETFROM, TZOFFSETTO, TZNAME and an RRULE
// (FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU), starting at the first year the rule
// held (not before 1970) and with an UNTIL when the database says it
// stops within 30 years. Transitions that follow no such rule are listed
// one by one from the year before around to two years after. A zone
// without transitions then gets a single STANDARD observance.
//
// It refuses UTC (write UTC times with a Z instead), time.Local (its name
// "Local" is no TZID) and unnamed locations.
func VTimezone(loc *time.Location, around time.Time) (*ical.Component, error) {
	switch {
	case loc == nil || loc == time.UTC || loc.String() == "UTC":
		return nil, errors.New("caldav: VTIMEZONE for UTC: write UTC times with a Z instead")
	case loc == time.Local || loc.String() == "Local":
		return nil, errors.New("caldav: VTIMEZONE for time.Local: use a named location (time.LoadLocation), never TZID=Local")
	case loc.String() == "":
		return nil, errors.New("caldav: VTIMEZONE for an unnamed location")
	}
	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.SetText(ical.PropTimezoneID, loc.String())

	y := around.In(loc).Year()
	trans := zoneTransitions(loc, time.Date(y-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(y+2, 1, 1, 0, 0, 0, 0, time.UTC))
	if len(trans) == 0 {
		// One offset: a single STANDARD from 1970 (the usual form), or from
		// the zone's last change when that is later.
		t := around.In(loc)
		name, off := t.Zone()
		tr := zoneTransition{fromOff: off, toOff: off, name: name, dst: t.IsDST()}
		wall := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
		if start, _ := t.ZoneBounds(); start.Year() >= 1970 {
			_, tr.fromOff = start.Add(-time.Second).In(loc).Zone()
			tr.at = start
			wall = tr.wall()
		}
		tz.Children = append(tz.Children, newObservance(tr, wall, ""))
		return tz, nil
	}

	var rules []yearlyRule
	var untils []string
	common := 0 // the year from which every rule holds
	for _, tr := range trans {
		covered := false
		for _, r := range rules {
			if r.matches(tr) {
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		r, first, ok := findYearlyRule(loc, tr, y)
		if !ok {
			tz.Children = append(tz.Children, newObservance(tr, tr.wall(), ""))
			continue
		}
		rules = append(rules, r)
		common = max(common, first)
		until := ""
		for yy := y + 2; yy <= y+30; yy++ {
			if !r.holdsIn(loc, yy) {
				until = ";UNTIL=" + r.onset(yy-1).UTC().Format(icalDateTimeUTC)
				break
			}
		}
		untils = append(untils, until)
	}
	// Rules start together: a DAYLIGHT rule older than its STANDARD
	// partner would otherwise leave the years between in summer time.
	for i, r := range rules {
		first := r.onset(common)
		rrule := fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", int(r.month), r.ordinal, weekdayCode[r.weekday]) + untils[i]
		tz.Children = append(tz.Children, newObservance(zoneTransition{
			at: first, fromOff: r.fromOff, toOff: r.toOff, name: r.name, dst: r.dst,
		}, first.In(time.FixedZone("", r.fromOff)), rrule))
	}
	sort.SliceStable(tz.Children, func(i, j int) bool {
		return tz.Children[i].Props.Get(ical.PropDateTimeStart).Value < tz.Children[j].Props.Get(ical.PropDateTimeStart).Value
	})
	return tz, nil
}

var weekdayCode = [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// zoneTransition is a change of a location's zone at instant at.
type zoneTransition struct {
	at             time.Time
	fromOff, toOff int // seconds east of UTC
	name           string
	dst            bool
}

// wall is the local time of the transition in the offset before it (how
// an observance's DTSTART is written, RFC 5545 3.6.5).
func (tr zoneTransition) wall() time.Time {
	return tr.at.In(time.FixedZone("", tr.fromOff))
}

// zoneTransitions lists the transitions of loc in [from, to).
func zoneTransitions(loc *time.Location, from, to time.Time) []zoneTransition {
	var out []zoneTransition
	t := from.In(loc)
	for len(out) < 1000 {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			break
		}
		_, fromOff := t.Zone()
		next := end.In(loc)
		name, toOff := next.Zone()
		out = append(out, zoneTransition{at: end, fromOff: fromOff, toOff: toOff, name: name, dst: next.IsDST()})
		t = next
	}
	return out
}

// yearlyRule is a transition on the ordinal-th weekday of a month (-1 is
// the last), at a wall-clock time in the offset before it.
type yearlyRule struct {
	month          time.Month
	weekday        time.Weekday
	ordinal        int
	clock          time.Duration // since midnight, wall time before the change
	fromOff, toOff int
	name           string
	dst            bool
}

func (r yearlyRule) onset(year int) time.Time {
	d := nthWeekday(year, r.month, r.weekday, r.ordinal)
	return time.Date(year, r.month, d, 0, 0, 0, 0, time.FixedZone("", r.fromOff)).Add(r.clock)
}

// holdsIn reports whether loc has this very transition in year.
func (r yearlyRule) holdsIn(loc *time.Location, year int) bool {
	at := r.onset(year)
	now := at.In(loc)
	start, _ := now.ZoneBounds()
	if !start.Equal(at) {
		return false
	}
	name, off := now.Zone()
	_, before := at.Add(-time.Second).In(loc).Zone()
	return off == r.toOff && before == r.fromOff && name == r.name && now.IsDST() == r.dst
}

func (r yearlyRule) matches(tr zoneTransition) bool {
	return tr.fromOff == r.fromOff && tr.toOff == r.toOff && tr.name == r.name && tr.dst == r.dst &&
		r.onset(tr.wall().Year()).Equal(tr.at)
}

// findYearlyRule looks for a rule that tr follows in the years y-1, y and
// y+1, and returns it with the first year (not before 1970) from which it
// holds. When both "n-th" and "last" fit, the one that held longer wins
// (the last Sunday of September is also its 4th in most years).
func findYearlyRule(loc *time.Location, tr zoneTransition, y int) (yearlyRule, int, bool) {
	w := tr.wall()
	day := w.Day()
	ordinals := []int{(day-1)/7 + 1}
	if day+7 > daysInMonth(w.Year(), w.Month()) {
		ordinals = append(ordinals, -1)
	}
	var best yearlyRule
	bestFirst, found := 0, false
	for _, ord := range ordinals {
		r := yearlyRule{
			month: w.Month(), weekday: w.Weekday(), ordinal: ord,
			clock:   time.Duration(w.Hour())*time.Hour + time.Duration(w.Minute())*time.Minute + time.Duration(w.Second())*time.Second,
			fromOff: tr.fromOff, toOff: tr.toOff, name: tr.name, dst: tr.dst,
		}
		if !r.holdsIn(loc, y-1) || !r.holdsIn(loc, y) || !r.holdsIn(loc, y+1) {
			continue
		}
		first := y - 1
		for first > 1970 && r.holdsIn(loc, first-1) {
			first--
		}
		if !found || first < bestFirst {
			best, bestFirst, found = r, first, true
		}
	}
	return best, bestFirst, found
}

func daysInMonth(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nthWeekday is the day of the month of the ord-th wd (-1: the last).
func nthWeekday(year int, m time.Month, wd time.Weekday, ord int) int {
	if ord < 0 {
		last := daysInMonth(year, m)
		lwd := time.Date(year, m, last, 0, 0, 0, 0, time.UTC).Weekday()
		return last - (int(lwd)-int(wd)+7)%7 + (ord+1)*7
	}
	fwd := time.Date(year, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
	return 1 + (int(wd)-int(fwd)+7)%7 + (ord-1)*7
}

// newObservance builds a STANDARD or DAYLIGHT sub-component.
func newObservance(tr zoneTransition, wall time.Time, rrule string) *ical.Component {
	name := ical.CompTimezoneStandard
	if tr.dst {
		name = ical.CompTimezoneDaylight
	}
	c := ical.NewComponent(name)
	c.Props.Set(&ical.Prop{Name: ical.PropDateTimeStart, Params: ical.Params{}, Value: wall.Format(icalDateTime)})
	c.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetFrom, Params: ical.Params{}, Value: formatUTCOffset(tr.fromOff)})
	c.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetTo, Params: ical.Params{}, Value: formatUTCOffset(tr.toOff)})
	if tr.name != "" {
		c.Props.SetText(ical.PropTimezoneName, tr.name)
	}
	if rrule != "" {
		c.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: rrule})
	}
	return c
}

// formatUTCOffset writes seconds east of UTC as ±hhmm[ss].
func formatUTCOffset(off int) string {
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	s := fmt.Sprintf("%s%02d%02d", sign, off/3600, off/60%60)
	if off%60 != 0 {
		s += fmt.Sprintf("%02d", off%60)
	}
	return s
}

// parseUTCOffset reads ±hhmm[ss].
func parseUTCOffset(v string) (int, error) {
	v = strings.TrimSpace(v)
	if (len(v) != 5 && len(v) != 7) || (v[0] != '+' && v[0] != '-') {
		return 0, fmt.Errorf("invalid UTC offset %q", v)
	}
	parts := []int{}
	for i := 1; i < len(v); i += 2 {
		if v[i] < '0' || v[i] > '9' || v[i+1] < '0' || v[i+1] > '9' {
			return 0, fmt.Errorf("invalid UTC offset %q", v)
		}
		parts = append(parts, int(v[i]-'0')*10+int(v[i+1]-'0'))
	}
	if parts[0] > 23 || parts[1] > 59 || (len(parts) == 3 && parts[2] > 59) {
		return 0, fmt.Errorf("invalid UTC offset %q", v)
	}
	n := parts[0]*3600 + parts[1]*60
	if len(parts) == 3 {
		n += parts[2]
	}
	if v[0] == '-' {
		n = -n
	}
	return n, nil
}

// vtzLimitYear is the last year for which onsets are computed when a
// VTIMEZONE is turned into a Location; later times keep the last offset.
const vtzLimitYear = 2100

var vtzCache struct {
	sync.Mutex
	m map[string]*time.Location
}

// locationFromVTimezone builds a *time.Location (named after the TZID)
// from a VTIMEZONE: every onset of its observances (DTSTART, yearly RRULE,
// RDATE) up to 2100 is written as IANA TZif data for
// time.LoadLocationFromTZData. Results are cached by content.
func locationFromVTimezone(c *ical.Component) (*time.Location, error) {
	key := componentKey(c)
	vtzCache.Lock()
	loc, ok := vtzCache.m[key]
	vtzCache.Unlock()
	if ok {
		return loc, nil
	}
	loc, err := buildVTimezoneLocation(c)
	if err != nil {
		return nil, err
	}
	vtzCache.Lock()
	if vtzCache.m == nil {
		vtzCache.m = make(map[string]*time.Location)
	}
	if len(vtzCache.m) < 256 {
		vtzCache.m[key] = loc
	}
	vtzCache.Unlock()
	return loc, nil
}

type tzType struct {
	off  int
	dst  bool
	name string
}

type tzOnset struct {
	at      int64
	fromOff int
	typ     tzType
}

func buildVTimezoneLocation(c *ical.Component) (*time.Location, error) {
	tzid := strings.TrimSpace(propText(c, ical.PropTimezoneID))
	var onsets []tzOnset
	for _, ob := range c.Children {
		if ob.Name != ical.CompTimezoneStandard && ob.Name != ical.CompTimezoneDaylight {
			continue
		}
		p := func(name string) string {
			if q := ob.Props.Get(name); q != nil {
				return q.Value
			}
			return ""
		}
		fromOff, err := parseUTCOffset(p(ical.PropTimezoneOffsetFrom))
		if err != nil {
			return nil, fmt.Errorf("%s: TZOFFSETFROM: %v", ob.Name, err)
		}
		toOff, err := parseUTCOffset(p(ical.PropTimezoneOffsetTo))
		if err != nil {
			return nil, fmt.Errorf("%s: TZOFFSETTO: %v", ob.Name, err)
		}
		typ := tzType{off: toOff, dst: ob.Name == ical.CompTimezoneDaylight, name: tzAbbrev(propText(ob, ical.PropTimezoneName))}
		if typ.name == "" {
			typ.name = formatUTCOffset(toOff)
		}
		wall, err := wallTime(p(ical.PropDateTimeStart), fromOff)
		if err != nil {
			return nil, fmt.Errorf("%s: DTSTART: %v", ob.Name, err)
		}
		walls := []time.Time{wall}
		if rr := strings.TrimSpace(p(ical.PropRecurrenceRule)); rr != "" {
			more, err := observanceOnsets(rr, wall, fromOff)
			if err != nil {
				return nil, fmt.Errorf("%s: RRULE %q: %v", ob.Name, rr, err)
			}
			walls = append(walls, more...)
		}
		for _, rd := range ob.Props.Values(ical.PropRecurrenceDates) {
			for _, v := range strings.Split(rd.Value, ",") {
				v, _, _ = strings.Cut(strings.TrimSpace(v), "/")
				w, err := wallTime(v, fromOff)
				if err != nil {
					return nil, fmt.Errorf("%s: RDATE: %v", ob.Name, err)
				}
				walls = append(walls, w)
			}
		}
		for _, w := range walls {
			if w.Year() > vtzLimitYear {
				continue
			}
			onsets = append(onsets, tzOnset{at: w.Unix() - int64(fromOff), fromOff: fromOff, typ: typ})
		}
	}
	if len(onsets) == 0 {
		return nil, errors.New("no STANDARD or DAYLIGHT observance")
	}
	sort.SliceStable(onsets, func(i, j int) bool { return onsets[i].at < onsets[j].at })

	// Type 0 is the zone before the first onset, used by no transition
	// (so Go's reader takes it for earlier times).
	initial := tzType{off: onsets[0].fromOff, name: formatUTCOffset(onsets[0].fromOff)}
	for _, o := range onsets {
		if o.typ.off == initial.off {
			initial = o.typ
			break
		}
	}
	types := []tzType{initial}
	index := map[tzType]int{}
	var times []int64
	var idx []byte
	for _, o := range onsets {
		if len(times) > 0 && times[len(times)-1] == o.at {
			continue
		}
		i, ok := index[o.typ]
		if !ok {
			// At most 14 types of at most 17 bytes of abbreviation each
			// keep every abbreviation index within a byte.
			if len(types) == 14 {
				return nil, errors.New("too many distinct observances")
			}
			i = len(types)
			types = append(types, o.typ)
			index[o.typ] = i
		}
		times = append(times, o.at)
		idx = append(idx, byte(i))
	}
	return time.LoadLocationFromTZData(tzid, tzif(times, idx, types))
}

// tzAbbrev keeps a TZNAME usable as a TZif abbreviation: ASCII letters,
// digits, "+" and "-", at most 16 of them.
func tzAbbrev(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '+', r == '-':
			return r
		}
		return -1
	}, s)
	if len(s) > 16 {
		s = s[:16]
	}
	return s
}

// wallTime reads an observance's local DATE-TIME as a wall clock (in UTC
// for the arithmetic); a value with Z is taken as the UTC instant.
func wallTime(v string, fromOff int) (time.Time, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if strings.HasSuffix(v, "Z") {
		t, err := time.Parse(icalDateTimeUTC, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("invalid date-time %q", v)
		}
		return t.Add(time.Duration(fromOff) * time.Second), nil
	}
	t, err := time.ParseInLocation(icalDateTime, v, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid date-time %q", v)
	}
	return t, nil
}

// observanceOnsets expands a yearly observance rule (wall clock times
// after DTSTART, up to vtzLimitYear).
func observanceOnsets(rr string, wall time.Time, fromOff int) ([]time.Time, error) {
	v := strings.TrimPrefix(strings.ToUpper(rr), "RRULE:")
	opt, err := rrule.StrToROptionInLocation(v, time.UTC)
	if err != nil {
		return nil, err
	}
	if opt.Freq != rrule.YEARLY {
		return nil, fmt.Errorf("only FREQ=YEARLY is supported in a VTIMEZONE")
	}
	if !opt.Until.IsZero() && strings.Contains(v, "UNTIL=") {
		// UNTIL is UTC (RFC 5545 3.6.5); compare it as a wall time.
		for _, part := range strings.Split(v, ";") {
			if strings.HasPrefix(part, "UNTIL=") && strings.HasSuffix(part, "Z") {
				opt.Until = opt.Until.Add(time.Duration(fromOff) * time.Second)
			}
		}
	}
	// rrule-go ends a rule without UNTIL or COUNT 292 years after its
	// DTSTART (the largest time.Duration), and Outlook starts its rules in
	// 1601: start the iteration at 1900 at the latest, with the defaults
	// taken from DTSTART written out.
	opt.Dtstart = wall
	pinDefaults(opt)
	if wall.Year() < 1900 {
		n := opt.Interval
		y := wall.Year() + (1900-wall.Year()+n-1)/n*n
		opt.Dtstart = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	next := r.Iterator()
	for t, ok := next(); ok && t.Year() <= vtzLimitYear && len(out) < 1000; t, ok = next() {
		out = append(out, t)
	}
	return out, nil
}

// tzif encodes transitions as TZif version 2 data (RFC 8536) with an
// empty version 1 block, which time.LoadLocationFromTZData reads.
func tzif(times []int64, idx []byte, types []tzType) []byte {
	var abbr []byte
	abbrIdx := map[string]int{}
	for _, t := range types {
		if _, ok := abbrIdx[t.name]; !ok {
			abbrIdx[t.name] = len(abbr)
			abbr = append(abbr, t.name...)
			abbr = append(abbr, 0)
		}
	}
	header := func(b []byte, timecnt, typecnt, charcnt int) []byte {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		for _, n := range []int{0, 0, 0, timecnt, typecnt, charcnt} {
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		return b
	}
	b := header(nil, 0, 0, 0)
	b = header(b, len(times), len(types), len(abbr))
	for _, t := range times {
		b = binary.BigEndian.AppendUint64(b, uint64(t))
	}
	b = append(b, idx...)
	for _, t := range types {
		b = binary.BigEndian.AppendUint32(b, uint32(int32(t.off)))
		if t.dst {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = append(b, byte(abbrIdx[t.name]))
	}
	b = append(b, abbr...)
	return append(b, '\n', '\n')
}

// componentKey is a canonical text of a component (properties sorted),
// used as a cache key.
func componentKey(c *ical.Component) string {
	var sb strings.Builder
	var walk func(c *ical.Component)
	walk = func(c *ical.Component) {
		sb.WriteString("BEGIN:" + c.Name + "\n")
		names := make([]string, 0, len(c.Props))
		for n := range c.Props {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			for _, p := range c.Props[n] {
				pn := make([]string, 0, len(p.Params))
				for k := range p.Params {
					pn = append(pn, k)
				}
				sort.Strings(pn)
				sb.WriteString(n)
				for _, k := range pn {
					sb.WriteString(";" + k + "=" + strings.Join(p.Params[k], ","))
				}
				sb.WriteString(":" + p.Value + "\n")
			}
		}
		for _, ch := range c.Children {
			walk(ch)
		}
		sb.WriteString("END:" + c.Name + "\n")
	}
	walk(c)
	return sb.String()
}
