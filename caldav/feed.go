package caldav

import (
	"bytes"
	"fmt"
	"strings"

	ical "github.com/emersion/go-ical"

	"github.com/roomcal/roomcal/booking"
)

// FeedEncoder writes the domain's feed entries as iCalendar feeds (it is
// the api package's FeedEncoder, wired in cmd/roomcal). The zero value is
// ready to use and safe for concurrent use.
type FeedEncoder struct{}

// Encode writes a feed named name (X-WR-CALNAME) with one VEVENT per
// entry: STATUS:CANCELLED for a cancelled entry (CONFIRMED otherwise),
// TRANSP:TRANSPARENT for a free one (OPAQUE otherwise), CLASS:PRIVATE for
// a private one (PUBLIC otherwise). Errors are EncodeFeed's.
func (FeedEncoder) Encode(name string, entries []booking.FeedEntry) ([]byte, error) {
	evs := make([]Event, 0, len(entries))
	for _, e := range entries {
		ev := Event{
			UID: e.UID, Summary: e.Title, Description: e.Description, Location: e.Location,
			Start: e.Start, End: e.End, Status: "CONFIRMED", Transp: "OPAQUE", Class: "PUBLIC",
			DTStamp: e.Stamp,
		}
		if e.Cancelled {
			ev.Status = "CANCELLED"
		}
		if e.Free {
			ev.Transp = "TRANSPARENT"
		}
		if e.Private {
			ev.Class = "PRIVATE"
		}
		evs = append(evs, ev)
	}
	return EncodeFeed(name, evs)
}

// EncodeFeed writes a calendar feed: one VCALENDAR (METHOD:PUBLISH, with
// X-WR-CALNAME name) holding the VEVENTs of evs, any number of UIDs, and
// a VTIMEZONE for every TZID they use. Events are escaped and validated
// as EncodeObject does; errors wrap ErrInvalidEvent.
func EncodeFeed(name string, evs []Event) ([]byte, error) {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropProductID, ProdID)
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropCalendarScale, "GREGORIAN")
	cal.Props.SetText(ical.PropMethod, "PUBLISH")
	if name != "" {
		// Set by hand: SetText would add VALUE=TEXT to an X- property.
		p := ical.NewProp("X-WR-CALNAME")
		p.Value = escapeName(name)
		cal.Props.Set(p)
	}
	zones := make(map[string]zoneUse)
	events := make([]*ical.Component, 0, len(evs))
	for _, ev := range evs {
		c, err := eventComponent(ev, zones)
		if err != nil {
			return nil, fmt.Errorf("%w: feed %q, event %q: %v", ErrInvalidEvent, name, ev.UID, err)
		}
		events = append(events, c)
	}
	tzs, err := vtimezones(zones)
	if err != nil {
		return nil, fmt.Errorf("%w: feed %q: %v", ErrInvalidEvent, name, err)
	}
	cal.Children = append(append(cal.Children, tzs...), events...)
	if len(events) == 0 {
		// go-ical refuses a VCALENDAR without components; an empty feed
		// is still a valid calendar for clients.
		return emptyFeed(name), nil
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("%w: feed %q: %v", ErrInvalidEvent, name, err)
	}
	return foldLines(buf.Bytes()), nil
}

func emptyFeed(name string) []byte {
	var b bytes.Buffer
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + ProdID + "\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n")
	if name != "" {
		b.WriteString("X-WR-CALNAME:" + escapeName(name) + "\r\n")
	}
	b.WriteString("END:VCALENDAR\r\n")
	return foldLines(b.Bytes())
}

// escapeName escapes a calendar name as TEXT (RFC 5545 3.3.11).
func escapeName(name string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(cleanText(name))
}
