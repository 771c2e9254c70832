package caldav

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
)

// Value codecs: date-times, durations, text and parameters, and TZID
// resolution. go-ical's own helpers are not used for reading because they
// are too strict or too loose for what servers hand back: Prop.Text splits
// on unescaped commas and fails on unknown escapes, Prop.DateTime reads a
// single value and knows no VTIMEZONE, Prop.Duration has no nominal days.

const (
	icalDate        = "20060102"
	icalDateTime    = "20060102T150405"
	icalDateTimeUTC = "20060102T150405Z"
)

// durSpan is a duration as iCalendar means it: nominal days (same wall-clock
// time N days later, 23 or 25 hours across a DST change) plus an exact
// part.
type durSpan struct {
	days  int
	exact time.Duration
}

// after returns the instant span after t (days counted in t's location,
// a repeated wall time then taken at its first occurrence).
func (s durSpan) after(t time.Time) time.Time {
	if s.days != 0 {
		t = firstOccurrence(t.AddDate(0, 0, s.days))
	}
	return t.Add(s.exact)
}

// Local times that occur twice. When clocks go back (Europe/Paris, last
// Sunday of October: 03:00 CEST becomes 02:00 CET) every wall time of the
// hour before the change occurs twice. RFC 5545 3.3.5 reads such a local
// time (with a TZID, or floating) as its first occurrence, and so do
// dateutil and the recurrence engines of calendar apps; Go's time.Date
// (and time.ParseInLocation, and rrule-go, which builds its occurrences
// with time.Date) gives the second one. Every local time read, and every
// occurrence expanded, goes through firstOccurrence. A local time that
// does not occur (clocks going forward) keeps Go's reading, the offset
// before the gap, as RFC 5545 3.3.5 says for DTSTART.

// firstOccurrence returns the earliest instant showing t's wall clock in
// t's location: t itself, unless t is the second occurrence of a repeated
// local time.
func firstOccurrence(t time.Time) time.Time {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, off := t.Zone()
	_, before := start.Add(-time.Second).Zone()
	if d := time.Duration(before-off) * time.Second; d > 0 && t.Sub(start) < d {
		return t.Add(-d)
	}
	return t
}

// repeatedLocal reports whether t's wall clock occurs twice in t's
// location, and whether t is the second of the two instants.
func repeatedLocal(t time.Time) (repeated, second bool) {
	if f := firstOccurrence(t); !f.Equal(t) {
		return true, true
	}
	_, end := t.ZoneBounds()
	if end.IsZero() {
		return false, false
	}
	_, off := t.Zone()
	_, after := end.Zone()
	d := time.Duration(off-after) * time.Second
	return d > 0 && end.Sub(t) <= d, false
}

// rawUntil turns the instant of a UTC UNTIL into the bound to compare
// rrule-go's occurrences with, before firstOccurrence moves them: an
// occurrence counts when its first occurrence is not after UNTIL
// (RFC 5545, dateutil), but rrule-go compares the second one. t must be
// in the rule's location.
func rawUntil(t time.Time) time.Time {
	repeated, second := repeatedLocal(t)
	switch {
	case !repeated:
		return t
	case !second:
		// t is in the first pass of the repeated hour: the same wall
		// times in the second pass are the ones rrule-go builds.
		_, end := t.ZoneBounds()
		_, off := t.Zone()
		_, after := end.Zone()
		return t.Add(time.Duration(off-after) * time.Second)
	default:
		// t is in the second pass: every wall time of the repeated hour
		// counts (its first occurrence is before t).
		start, _ := t.ZoneBounds()
		_, off := t.Zone()
		_, before := start.Add(-time.Second).Zone()
		if last := start.Add(time.Duration(before-off)*time.Second - time.Second); last.After(t) {
			return last
		}
		return t
	}
}

// max returns an upper bound of the span's length in any location.
func (s durSpan) max() time.Duration {
	return time.Duration(s.days)*26*time.Hour + s.exact
}

func (s durSpan) negative() bool { return s.days < 0 || s.exact < 0 }

// parseICalDuration reads an RFC 5545 DURATION value ("PT1H30M", "P1D",
// "-P2W", "P1DT12H"). Weeks and days are nominal, hours, minutes and
// seconds exact.
func parseICalDuration(v string) (durSpan, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	orig := s
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 2 {
		return durSpan{}, fmt.Errorf("invalid duration %q", orig)
	}
	s = s[1:]
	var d durSpan
	inTime, any := false, false
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return durSpan{}, fmt.Errorf("invalid duration %q", orig)
			}
			inTime, s = true, s[1:]
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || i > 9 {
			return durSpan{}, fmt.Errorf("invalid duration %q", orig)
		}
		n, _ := strconv.Atoi(s[:i])
		unit := s[i]
		s = s[i+1:]
		any = true
		switch {
		case !inTime && unit == 'W':
			d.days += 7 * n
		case !inTime && unit == 'D':
			d.days += n
		case inTime && unit == 'H':
			d.exact += time.Duration(n) * time.Hour
		case inTime && unit == 'M':
			d.exact += time.Duration(n) * time.Minute
		case inTime && unit == 'S':
			d.exact += time.Duration(n) * time.Second
		default:
			return durSpan{}, fmt.Errorf("invalid duration %q", orig)
		}
	}
	if !any {
		return durSpan{}, fmt.Errorf("invalid duration %q", orig)
	}
	if neg {
		d.days, d.exact = -d.days, -d.exact
	}
	return d, nil
}

// icalValueType is the VALUE parameter of p, upper case, "" when absent.
func icalValueType(p *ical.Prop) string {
	return strings.ToUpper(strings.TrimSpace(p.Params.Get(ical.ParamValue)))
}

// parseTimeValue reads one DATE or DATE-TIME value. vt is the VALUE
// parameter ("" when absent: the length decides). Dates and floating
// date-times are read in loc; a TZID (ignored on dates and on UTC
// values) goes through r.
func (r *tzResolver) parseTimeValue(v, vt string, tzid *string, loc *time.Location) (t time.Time, isDate bool, err error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if vt == "DATE" || (vt == "" && len(v) == len(icalDate)) {
		t, err = time.ParseInLocation(icalDate, v, loc)
		if err != nil {
			return time.Time{}, true, fmt.Errorf("invalid date %q", v)
		}
		return t, true, nil
	}
	if vt != "" && vt != "DATE-TIME" {
		return time.Time{}, false, fmt.Errorf("unexpected VALUE=%s for a date-time", vt)
	}
	switch {
	case len(v) == len(icalDateTimeUTC) && v[len(v)-1] == 'Z':
		t, err = time.ParseInLocation(icalDateTimeUTC, v, time.UTC)
	case len(v) == len(icalDateTime):
		if tzid != nil {
			zone, zerr := r.resolve(*tzid)
			if zerr != nil {
				return time.Time{}, false, zerr
			}
			loc = zone
		}
		t, err = time.ParseInLocation(icalDateTime, v, loc)
	default:
		err = fmt.Errorf("bad length")
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("invalid date-time %q", v)
	}
	// A local time that occurs twice is its first occurrence (RFC 5545
	// 3.3.5); UTC values are unchanged.
	return firstOccurrence(t), false, nil
}

// tzidParam is the TZID parameter of p, nil when there is none (an empty
// TZID= is an error, not a floating time).
func tzidParam(p *ical.Prop) *string {
	if vs := p.Params.Values(ical.PropTimezoneID); len(vs) > 0 {
		return &vs[0]
	}
	return nil
}

// propTime reads a single-valued date or date-time property.
func (r *tzResolver) propTime(p *ical.Prop, loc *time.Location) (time.Time, bool, error) {
	t, isDate, err := r.parseTimeValue(p.Value, icalValueType(p), tzidParam(p), loc)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%s: %w", p.Name, err)
	}
	return t, isDate, nil
}

// timeItem is one value of a multi-valued RDATE or EXDATE.
type timeItem struct {
	t      time.Time
	isDate bool
	dur    durSpan // for RDATE;VALUE=PERIOD
	hasDur bool
}

// propTimes reads every comma-separated value of the RDATE or EXDATE
// properties props (RFC 5545 3.8.5.1, 3.8.5.2), PERIOD values included.
func (r *tzResolver) propTimes(props []ical.Prop, loc *time.Location) ([]timeItem, error) {
	var out []timeItem
	for i := range props {
		p := &props[i]
		vt := icalValueType(p)
		tzid := tzidParam(p)
		for _, v := range strings.Split(p.Value, ",") {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if vt == "PERIOD" || strings.Contains(v, "/") {
				start, end, ok := strings.Cut(v, "/")
				if !ok {
					return nil, fmt.Errorf("%s: invalid period %q", p.Name, v)
				}
				t, _, err := r.parseTimeValue(start, "DATE-TIME", tzid, loc)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", p.Name, err)
				}
				it := timeItem{t: t, hasDur: true}
				if e := strings.TrimSpace(end); strings.HasPrefix(e, "P") || strings.HasPrefix(e, "+P") || strings.HasPrefix(e, "-P") {
					it.dur, err = parseICalDuration(e)
				} else {
					var et time.Time
					et, _, err = r.parseTimeValue(e, "DATE-TIME", tzid, loc)
					it.dur = durSpan{exact: et.Sub(t)}
				}
				if err != nil {
					return nil, fmt.Errorf("%s: %w", p.Name, err)
				}
				if it.dur.negative() {
					return nil, fmt.Errorf("%s: period %q ends before it starts", p.Name, v)
				}
				out = append(out, it)
				continue
			}
			t, isDate, err := r.parseTimeValue(v, vt, tzid, loc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.Name, err)
			}
			out = append(out, timeItem{t: t, isDate: isDate})
		}
	}
	return out, nil
}

// unescapeText reads a TEXT value (RFC 5545 3.3.11) leniently: the four
// escapes are undone, an unknown escape keeps its character, and commas
// are kept (a single text, not a list).
func unescapeText(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var sb strings.Builder
	sb.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 == len(v) {
			sb.WriteByte(c)
			continue
		}
		i++
		switch v[i] {
		case 'n', 'N':
			sb.WriteByte('\n')
		default:
			sb.WriteByte(v[i])
		}
	}
	return sb.String()
}

// propText is the unescaped text of the first property called name, "" if
// there is none.
func propText(c *ical.Component, name string) string {
	if p := c.Props.Get(name); p != nil {
		return unescapeText(p.Value)
	}
	return ""
}

// decodeParamValue undoes RFC 6868 caret encoding (^n, ^', ^^) in a
// parameter value; other carets are kept.
func decodeParamValue(v string) string {
	if !strings.Contains(v, "^") {
		return v
	}
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '^' || i+1 == len(v) {
			sb.WriteByte(v[i])
			continue
		}
		switch v[i+1] {
		case 'n', 'N':
			sb.WriteByte('\n')
			i++
		case '\'':
			sb.WriteByte('"')
			i++
		case '^':
			sb.WriteByte('^')
			i++
		default:
			sb.WriteByte('^')
		}
	}
	return sb.String()
}

// encodeParamValue makes s safe as a parameter value: text is cleaned
// (control characters, invalid UTF-8) and newlines, double quotes and
// carets are caret-encoded (RFC 6868), which go-ical's encoder cannot
// do; it then quotes values holding ";", ":" or ",".
func encodeParamValue(s string) string {
	s = cleanText(s)
	if !strings.ContainsAny(s, "\n\"^") {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		switch r {
		case '\n':
			sb.WriteString("^n")
		case '"':
			sb.WriteString("^'")
		case '^':
			sb.WriteString("^^")
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// cleanText normalises text given by users before it is written: invalid
// UTF-8 is replaced, CR LF and lone CR become LF, and other control
// characters but TAB are dropped (RFC 5545 3.3.11 allows none of them).
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// calAddress reads a CAL-ADDRESS value: "mailto:" (any case) is removed,
// any other URI is kept whole.
func calAddress(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 7 && strings.EqualFold(v[:7], "mailto:") {
		return v[7:]
	}
	return v
}

// tzResolver turns TZIDs into locations for one parse: Go's tz database
// first, then the VTIMEZONEs of the object.
type tzResolver struct {
	vtz   map[string]*ical.Component
	cache map[string]*time.Location
}

func newTZResolver(cal *ical.Calendar) *tzResolver {
	r := &tzResolver{cache: make(map[string]*time.Location)}
	for _, c := range cal.Children {
		if c.Name != ical.CompTimezone {
			continue
		}
		if p := c.Props.Get(ical.PropTimezoneID); p != nil {
			if r.vtz == nil {
				r.vtz = make(map[string]*ical.Component)
			}
			r.vtz[strings.TrimSpace(p.Value)] = c
		}
	}
	return r
}

// resolve returns the location of a TZID parameter value.
func (r *tzResolver) resolve(tzid string) (*time.Location, error) {
	tzid = strings.TrimSpace(tzid)
	if loc, ok := r.cache[tzid]; ok {
		return loc, nil
	}
	loc, err := r.lookup(tzid)
	if err != nil {
		return nil, err
	}
	r.cache[tzid] = loc
	return loc, nil
}

func (r *tzResolver) lookup(tzid string) (*time.Location, error) {
	if tzid == "" {
		return nil, fmt.Errorf("%w: empty TZID parameter", ErrUnknownTZID)
	}
	if !strings.EqualFold(tzid, "Local") {
		if loc := loadIANA(tzid); loc != nil {
			return loc, nil
		}
		// RFC 5545 3.2.19: a TZID starting with "/" is a globally unique
		// id, in practice a vendor prefix before an Olson name.
		if strings.HasPrefix(tzid, "/") {
			for i := 1; i < len(tzid); i++ {
				if tzid[i] == '/' && strings.Contains(tzid[i+1:], "/") {
					if loc := loadIANA(tzid[i+1:]); loc != nil {
						return loc, nil
					}
				}
			}
		}
	}
	if c := r.vtz[tzid]; c != nil {
		loc, err := locationFromVTimezone(c)
		if err != nil {
			return nil, fmt.Errorf("%w %q: not in the time zone database, and its VTIMEZONE is unusable: %v", ErrUnknownTZID, tzid, err)
		}
		return loc, nil
	}
	return nil, fmt.Errorf("%w %q: not in the time zone database and no VTIMEZONE for it in the object", ErrUnknownTZID, tzid)
}

var ianaCache struct {
	sync.Mutex
	m map[string]*time.Location // nil value: known not to exist
}

// loadIANA is time.LoadLocation with a cache (each call reads the tz
// database), nil when the name is unknown. "Local" and "" never resolve.
func loadIANA(name string) *time.Location {
	if name == "" || strings.EqualFold(name, "Local") {
		return nil
	}
	ianaCache.Lock()
	loc, ok := ianaCache.m[name]
	ianaCache.Unlock()
	if ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	ianaCache.Lock()
	if ianaCache.m == nil {
		ianaCache.m = make(map[string]*time.Location)
	}
	// Bounded: the names that exist are few; unknown ones are cached
	// only while the cache is small (the names come from outside).
	if loc != nil || len(ianaCache.m) < 4096 {
		ianaCache.m[name] = loc
	}
	ianaCache.Unlock()
	return loc
}
