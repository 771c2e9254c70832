package caldav

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	ical "github.com/emersion/go-ical"
)

// vevent is one parsed VEVENT.
type vevent struct {
	uid    string
	start  time.Time
	allDay bool
	// dur is the length of every instance started from this component
	// (RFC 5545 3.8.5.3: DTEND gives an exact duration, DURATION a
	// nominal one; a date without end lasts one day).
	dur    durSpan
	hasEnd bool

	recurrenceID time.Time // zero on the master
	rule         *ruleSpec // master only
	rrule        string
	rdates       []timeItem // sorted
	exdates      []timeItem
	exInstants   map[int64]bool
	exDays       map[[3]int]bool // EXDATE;VALUE=DATE on a date-time event

	summary, description, location string
	organizer                      Organizer
	attendees                      []Attendee
	status, class, transp          string
	sequence                       int
	created, lastModified, dtstamp time.Time
	xprops                         map[string]string
	extra                          []ical.Prop
	alarms                         []*ical.Component
}

// modelledProps lists the properties vevent reads into fields; any other
// property goes to extra.
var modelledProps = map[string]bool{
	ical.PropUID: true, ical.PropDateTimeStamp: true, ical.PropDateTimeStart: true,
	ical.PropDateTimeEnd: true, ical.PropDuration: true, ical.PropRecurrenceID: true,
	ical.PropSummary: true, ical.PropDescription: true, ical.PropLocation: true,
	ical.PropRecurrenceRule: true, ical.PropRecurrenceDates: true, ical.PropExceptionDates: true,
	ical.PropOrganizer: true, ical.PropAttendee: true, ical.PropStatus: true,
	ical.PropClass: true, ical.PropTransparency: true, ical.PropSequence: true,
	ical.PropCreated: true, ical.PropLastModified: true,
}

const xRoomcal = "X-ROOMCAL-"

// parseVEvent reads one VEVENT. Errors wrap ErrICalInvalid or
// ErrUnknownTZID and name the property at fault.
func parseVEvent(c *ical.Component, tzr *tzResolver, loc *time.Location) (*vevent, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrICalInvalid, fmt.Sprintf(format, args...))
	}
	wrap := func(err error) error {
		if errors.Is(err, ErrUnknownTZID) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrICalInvalid, err)
	}
	ev := &vevent{}

	// go-ical reads a missing DTSTART as the zero time without error.
	sp := c.Props.Get(ical.PropDateTimeStart)
	if sp == nil || strings.TrimSpace(sp.Value) == "" {
		return nil, invalid("no DTSTART (an event without a start cannot be placed; it is not read as free)")
	}
	var err error
	ev.start, ev.allDay, err = tzr.propTime(sp, loc)
	if err != nil {
		return nil, wrap(err)
	}

	endProp, durProp := c.Props.Get(ical.PropDateTimeEnd), c.Props.Get(ical.PropDuration)
	switch {
	case endProp != nil && durProp != nil:
		return nil, invalid("both DTEND and DURATION")
	case endProp != nil:
		end, endIsDate, err := tzr.propTime(endProp, loc)
		if err != nil {
			return nil, wrap(err)
		}
		ev.hasEnd = true
		if ev.allDay && endIsDate {
			days := int(civilDay(end) - civilDay(ev.start))
			if days < 0 {
				return nil, invalid("DTEND %s is before DTSTART %s", end.Format(icalDate), ev.start.Format(icalDate))
			}
			if days == 0 {
				days = 1 // DTEND = DTSTART on a date: read as the one day
			}
			ev.dur = durSpan{days: days}
		} else {
			if end.Before(ev.start) {
				return nil, invalid("DTEND %s is before DTSTART %s", end.Format(time.RFC3339), ev.start.Format(time.RFC3339))
			}
			ev.dur = durSpan{exact: end.Sub(ev.start)}
		}
	case durProp != nil:
		d, err := parseICalDuration(durProp.Value)
		if err != nil {
			return nil, wrap(fmt.Errorf("DURATION: %v", err))
		}
		if d.negative() {
			return nil, invalid("negative DURATION %q", durProp.Value)
		}
		ev.dur, ev.hasEnd = d, true
	default:
		if ev.allDay {
			ev.dur = durSpan{days: 1}
		}
	}

	if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
		ev.recurrenceID, _, err = tzr.propTime(p, loc)
		if err != nil {
			return nil, wrap(err)
		}
	}

	if rr := c.Props.Values(ical.PropRecurrenceRule); len(rr) > 0 && ev.recurrenceID.IsZero() {
		if len(rr) > 1 {
			return nil, invalid("%d RRULE properties (RFC 5545 allows one)", len(rr))
		}
		ev.rrule = strings.TrimSpace(rr[0].Value)
		ev.rule, err = parseRule(ev.rrule, ev.start, ev.allDay)
		if err != nil {
			return nil, err
		}
	}
	if ev.recurrenceID.IsZero() {
		ev.rdates, err = tzr.propTimes(c.Props.Values(ical.PropRecurrenceDates), loc)
		if err != nil {
			return nil, wrap(err)
		}
		sort.Slice(ev.rdates, func(i, j int) bool { return ev.rdates[i].t.Before(ev.rdates[j].t) })
		ev.exdates, err = tzr.propTimes(c.Props.Values(ical.PropExceptionDates), loc)
		if err != nil {
			return nil, wrap(err)
		}
		for _, x := range ev.exdates {
			if x.isDate && !ev.allDay {
				if ev.exDays == nil {
					ev.exDays = make(map[[3]int]bool)
				}
				y, m, d := x.t.Date()
				ev.exDays[[3]int{y, int(m), d}] = true
				continue
			}
			if ev.exInstants == nil {
				ev.exInstants = make(map[int64]bool)
			}
			ev.exInstants[x.t.Unix()] = true
		}
	}

	ev.summary = propText(c, ical.PropSummary)
	ev.description = propText(c, ical.PropDescription)
	ev.location = propText(c, ical.PropLocation)
	ev.status = strings.ToUpper(strings.TrimSpace(propText(c, ical.PropStatus)))
	ev.class = strings.ToUpper(strings.TrimSpace(propText(c, ical.PropClass)))
	ev.transp = strings.ToUpper(strings.TrimSpace(propText(c, ical.PropTransparency)))
	if p := c.Props.Get(ical.PropSequence); p != nil {
		ev.sequence, _ = strconv.Atoi(strings.TrimSpace(p.Value)) // a bad SEQUENCE is read as 0
	}
	// Timestamps are informative: a bad one is read as zero.
	for name, dst := range map[string]*time.Time{
		ical.PropCreated: &ev.created, ical.PropLastModified: &ev.lastModified, ical.PropDateTimeStamp: &ev.dtstamp,
	} {
		if p := c.Props.Get(name); p != nil {
			if t, _, err := tzr.propTime(p, time.UTC); err == nil {
				*dst = t
			}
		}
	}
	if p := c.Props.Get(ical.PropOrganizer); p != nil {
		ev.organizer = Organizer{Name: decodeParamValue(p.Params.Get(ical.ParamCommonName)), Email: calAddress(p.Value)}
	}
	for _, p := range c.Props.Values(ical.PropAttendee) {
		a := Attendee{
			Name:     decodeParamValue(p.Params.Get(ical.ParamCommonName)),
			Email:    calAddress(p.Value),
			PartStat: strings.ToUpper(p.Params.Get(ical.ParamParticipationStatus)),
		}
		for k, vs := range p.Params {
			switch k {
			case ical.ParamCommonName, ical.ParamParticipationStatus, "SCHEDULE-AGENT":
				continue
			}
			if a.Params == nil {
				a.Params = make(map[string]string)
			}
			dec := make([]string, len(vs))
			for i, v := range vs {
				dec[i] = decodeParamValue(v)
			}
			a.Params[k] = strings.Join(dec, ",")
		}
		ev.attendees = append(ev.attendees, a)
	}

	names := make([]string, 0, len(c.Props))
	for name := range c.Props {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case modelledProps[name]:
		case strings.HasPrefix(name, xRoomcal):
			if ev.xprops == nil {
				ev.xprops = make(map[string]string)
			}
			ev.xprops[name] = unescapeText(c.Props[name][0].Value)
		default:
			ev.extra = append(ev.extra, c.Props[name]...)
		}
	}
	for _, child := range c.Children {
		if child.Name == ical.CompAlarm {
			ev.alarms = append(ev.alarms, child)
		}
	}
	return ev, nil
}

// civilDay numbers the calendar day of t in its own location.
func civilDay(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// recurring reports whether the component has more than its DTSTART.
func (ev *vevent) recurring() bool {
	return (ev.rule != nil && !ev.rule.empty) || len(ev.rdates) > 0
}

// opaque reports whether the component's instances make the room busy:
// not TRANSP:TRANSPARENT and not STATUS:CANCELLED.
func (ev *vevent) opaque() bool {
	return ev.transp != "TRANSPARENT" && ev.status != "CANCELLED"
}

// excluded reports whether an EXDATE removes the occurrence starting at t.
func (ev *vevent) excluded(t time.Time) bool {
	if ev.exInstants[t.Unix()] {
		return true
	}
	if ev.exDays != nil {
		y, m, d := t.Date()
		return ev.exDays[[3]int{y, int(m), d}]
	}
	return false
}

// event converts the component back to an Event.
func (ev *vevent) event() Event {
	out := Event{
		UID:          ev.uid,
		RecurrenceID: ev.recurrenceID,
		Summary:      ev.summary,
		Description:  ev.description,
		Location:     ev.location,
		Start:        ev.start,
		AllDay:       ev.allDay,
		RRule:        ev.rrule,
		Organizer:    ev.organizer,
		Status:       ev.status,
		Class:        ev.class,
		Transp:       ev.transp,
		Sequence:     ev.sequence,
		Created:      ev.created,
		LastModified: ev.lastModified,
		DTStamp:      ev.dtstamp,
	}
	if ev.hasEnd {
		out.End = ev.dur.after(ev.start)
	}
	for _, r := range ev.rdates {
		if r.hasDur {
			out.RPeriods = append(out.RPeriods, Period{Start: r.t, End: r.dur.after(r.t)})
		} else {
			out.RDates = append(out.RDates, r.t)
		}
	}
	for _, x := range ev.exdates {
		if !x.isDate || ev.allDay {
			out.ExDates = append(out.ExDates, x.t)
			continue
		}
		// A date EXDATE on a date-time event excludes that day's
		// occurrences: name them, so that writing the event back keeps
		// the meaning.
		y, m, d := x.t.Date()
		_, _ = ev.occurrences(x.t.AddDate(0, 0, -2), x.t.AddDate(0, 0, 3), func(s time.Time, _ durSpan) {
			if sy, sm, sd := s.Date(); sy == y && sm == m && sd == d {
				out.ExDates = append(out.ExDates, s)
			}
		})
	}
	for _, a := range ev.attendees {
		if a.Params != nil {
			p := make(map[string]string, len(a.Params))
			for k, v := range a.Params {
				p[k] = v
			}
			a.Params = p
		}
		out.Attendees = append(out.Attendees, a)
	}
	if ev.xprops != nil {
		out.XProps = make(map[string]string, len(ev.xprops))
		for k, v := range ev.xprops {
			out.XProps[k] = v
		}
	}
	for _, p := range ev.extra {
		out.Extra = append(out.Extra, copyProp(p))
	}
	for _, a := range ev.alarms {
		out.Alarms = append(out.Alarms, copyComponent(a))
	}
	return out
}

func copyProp(p ical.Prop) ical.Prop {
	q := ical.Prop{Name: p.Name, Value: p.Value, Params: make(ical.Params, len(p.Params))}
	for k, v := range p.Params {
		q.Params[k] = append([]string(nil), v...)
	}
	return q
}

func copyComponent(c *ical.Component) *ical.Component {
	d := &ical.Component{Name: c.Name, Props: make(ical.Props, len(c.Props))}
	for name, ps := range c.Props {
		for _, p := range ps {
			d.Props[name] = append(d.Props[name], copyProp(p))
		}
	}
	for _, ch := range c.Children {
		d.Children = append(d.Children, copyComponent(ch))
	}
	return d
}
