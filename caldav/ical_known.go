package caldav

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"time"

	ical "github.com/emersion/go-ical"
)

// What is known of an object that cannot be read.
//
// A room's calendar is the record, and people put in it what they like:
// an object roomcal cannot read (malformed, an unknown time zone, a rule
// it cannot expand) still says the room is taken. ObjectBusy reads what
// it can of such an object, so that it is counted busy rather than free,
// and returns the reason for admins.

// ObjectBusy returns the busy instances of one calendar object that
// overlap [from, to), sorted by start; loc is the site's time zone (see
// ParseObject). It never reads an object it cannot read whole as free
// time:
//
//   - an object ParseObject reads is expanded by Item.Busy; past
//     MaxExpandSteps occurrences the rest of the recurrence is one
//     instance marked Beyond, busy all along;
//   - an object ParseObject refuses gives what is known of it: every
//     VEVENT whose DTSTART can be read (its TZID, if unknown, taken as
//     loc) is busy from DTSTART to its DTEND, or for its DURATION, which
//     is at least its first instance (an override is its own instance);
//     with an end present but unreadable, or before the start, to the
//     end of DTSTART's day in loc. Without DTEND and DURATION it lasts as
//     RFC 5545 says (a day for a date, nothing for a date-time), unless
//     the object is not even well-formed (cut off, say): the end it lost
//     is then taken as the end of DTSTART's day too.
//     TRANSP:TRANSPARENT and STATUS:CANCELLED are honoured.
//
// In both cases err is the *ObjectError that says why the object was not
// read whole, and the instances are what the caller must count busy; err
// is nil when the object was read whole.
func ObjectBusy(obj Object, loc *time.Location, from, to time.Time) ([]Instance, error) {
	if loc == nil {
		loc = time.UTC
	}
	it, err := ParseObject(obj, loc)
	if err == nil {
		return it.Busy(from, to)
	}
	var oe *ObjectError
	if !errors.As(err, &oe) {
		oe = &ObjectError{Name: obj.Name, Err: err}
	}
	known := knownBusy(obj.Data, loc, from, to)
	if oe.UID == "" {
		for _, in := range known {
			if in.UID != "" {
				oe.UID = in.UID
				break
			}
		}
	}
	return known, oe
}

// knownBusy reads the busy instances an unreadable object still tells:
// see ObjectBusy.
func knownBusy(data []byte, loc *time.Location, from, to time.Time) []Instance {
	var comps []*ical.Component
	tzr := &tzResolver{cache: make(map[string]*time.Location)}
	cal, err := decodeICalendar(data)
	malformed := err != nil
	if malformed {
		comps = scanVEvents(data)
	} else {
		tzr = newTZResolver(cal)
		for _, c := range cal.Children {
			if c.Name == ical.CompEvent {
				comps = append(comps, c)
			}
		}
	}
	var out []Instance
	for _, c := range comps {
		in, ok := knownInstance(c, tzr, loc, malformed)
		if ok && in.IsBusy() && in.Start.Before(to) && in.End.After(from) {
			out = append(out, in)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// knownInstance is the first instance of one VEVENT read leniently; ok is
// false when its DTSTART cannot be read. malformed says the object is not
// well-formed: a missing end may then have been lost.
func knownInstance(c *ical.Component, tzr *tzResolver, loc *time.Location, malformed bool) (Instance, bool) {
	readTime := func(p *ical.Prop) (time.Time, bool, bool) {
		t, isDate, err := tzr.propTime(p, loc)
		if errors.Is(err, ErrUnknownTZID) {
			// Most likely the site's own zone under a name Go does not
			// know (a Windows name sent without its VTIMEZONE).
			t, isDate, err = tzr.parseTimeValue(p.Value, icalValueType(p), nil, loc)
		}
		return t, isDate, err == nil
	}
	sp := c.Props.Get(ical.PropDateTimeStart)
	if sp == nil {
		return Instance{}, false
	}
	start, allDay, ok := readTime(sp)
	if !ok {
		return Instance{}, false
	}
	endOfDay := func() time.Time {
		s := start.In(loc)
		return time.Date(s.Year(), s.Month(), s.Day()+1, 0, 0, 0, 0, loc)
	}
	var end time.Time
	endProp, durProp := c.Props.Get(ical.PropDateTimeEnd), c.Props.Get(ical.PropDuration)
	switch {
	case endProp != nil:
		e, _, ok := readTime(endProp)
		if !ok || !e.After(start) {
			e = endOfDay()
		}
		end = e
	case durProp != nil:
		d, err := parseICalDuration(durProp.Value)
		if err != nil || d.negative() {
			end = endOfDay()
		} else {
			end = d.after(start)
		}
	case allDay:
		end = durSpan{days: 1}.after(start)
	case malformed:
		end = endOfDay()
	default:
		end = start // a date-time without end takes no time (RFC 5545 3.6.1)
	}
	in := Instance{
		UID:         strings.TrimSpace(propText(c, ical.PropUID)),
		Start:       start,
		End:         end,
		AllDay:      allDay,
		Summary:     propText(c, ical.PropSummary),
		Description: propText(c, ical.PropDescription),
		Location:    propText(c, ical.PropLocation),
		Status:      strings.ToUpper(strings.TrimSpace(propText(c, ical.PropStatus))),
		Transparent: strings.EqualFold(strings.TrimSpace(propText(c, ical.PropTransparency)), "TRANSPARENT"),
	}
	if p := c.Props.Get(ical.PropOrganizer); p != nil {
		in.Organizer, in.OrganizerName = calAddress(p.Value), decodeParamValue(p.Params.Get(ical.ParamCommonName))
	}
	for name, ps := range c.Props {
		if strings.HasPrefix(name, xRoomcal) && len(ps) > 0 {
			if in.Props == nil {
				in.Props = make(map[string]string)
			}
			in.Props[name] = unescapeText(ps[0].Value)
		}
	}
	return in, true
}

// scanVEvents reads the VEVENTs of data line by line, for data the
// decoder refuses: folded lines are joined, a line that cannot be read
// (no colon, a broken parameter) is skipped, and a VEVENT cut off before
// its END is kept. Components nested in a VEVENT (VALARM) are skipped.
func scanVEvents(data []byte) []*ical.Component {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var lines []string
	for _, raw := range strings.Split(string(data), "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		if (strings.HasPrefix(raw, " ") || strings.HasPrefix(raw, "\t")) && len(lines) > 0 {
			lines[len(lines)-1] += raw[1:]
			continue
		}
		lines = append(lines, raw)
	}
	var out []*ical.Component
	var cur *ical.Component
	depth := 0 // components open inside the current VEVENT
	for _, line := range lines {
		p, ok := scanContentLine(line)
		if !ok {
			continue
		}
		v := strings.ToUpper(strings.TrimSpace(p.Value))
		switch {
		case p.Name == "BEGIN" && v == ical.CompEvent && cur == nil:
			cur = ical.NewComponent(ical.CompEvent)
			out = append(out, cur)
			depth = 0
		case p.Name == "BEGIN" && cur != nil:
			depth++
		case p.Name == "END" && cur != nil:
			if depth == 0 {
				cur = nil
			} else {
				depth--
			}
		case cur != nil && depth == 0 && p.Name != "BEGIN" && p.Name != "END":
			cur.Props.Add(p)
		}
	}
	return out
}

// scanContentLine splits one unfolded content line (RFC 5545 3.1) into
// a property, the name in upper case; ok is false when it cannot.
func scanContentLine(line string) (*ical.Prop, bool) {
	i := strings.IndexAny(line, ";:")
	if i <= 0 {
		return nil, false
	}
	name := strings.ToUpper(line[:i])
	if !isICalToken(name) {
		return nil, false
	}
	p := &ical.Prop{Name: name, Params: ical.Params{}}
	rest := line[i:]
	for strings.HasPrefix(rest, ";") {
		rest = rest[1:]
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return nil, false
		}
		key := strings.ToUpper(rest[:eq])
		rest = rest[eq+1:]
		for {
			var val string
			if strings.HasPrefix(rest, `"`) {
				q := strings.IndexByte(rest[1:], '"')
				if q < 0 {
					return nil, false
				}
				val, rest = rest[1:1+q], rest[2+q:]
			} else {
				j := strings.IndexAny(rest, ",;:")
				if j < 0 {
					return nil, false
				}
				val, rest = rest[:j], rest[j:]
			}
			p.Params[key] = append(p.Params[key], val)
			if !strings.HasPrefix(rest, ",") {
				break
			}
			rest = rest[1:]
		}
	}
	if !strings.HasPrefix(rest, ":") {
		return nil, false
	}
	p.Value = rest[1:]
	return p, true
}
