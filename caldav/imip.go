package caldav

import (
	"bytes"
	"fmt"
	"strings"

	ical "github.com/emersion/go-ical"

	"github.com/roomcal/roomcal/internal/notices"
)

// IMIP writes the invitations notices carry (RFC 6047 iMIP, RFC 5546
// iTIP): one VCALENDAR with METHOD:REQUEST (the entry appears or moves
// in the member's calendar) or METHOD:CANCEL (it disappears), holding
// one VEVENT with the record's UID and SEQUENCE, ORGANIZER, the member
// as the one ATTENDEE, and the VTIMEZONE of its times, written as the
// feeds write theirs. SCHEDULE-AGENT is left out (it is for CalDAV
// servers, not for a message).
type IMIP struct{}

var _ notices.Invitations = IMIP{}

// Invitation implements notices.Invitations.
func (IMIP) Invitation(method string, e notices.Entry) ([]byte, error) {
	method = strings.ToUpper(method)
	if method != "REQUEST" && method != "CANCEL" {
		return nil, fmt.Errorf("%w: invitation method %q (REQUEST or CANCEL)", ErrInvalidEvent, method)
	}
	if e.Organizer.Email == "" || e.Attendee.Email == "" {
		return nil, fmt.Errorf("%w: invitation %q needs an organizer and an attendee address", ErrInvalidEvent, e.UID)
	}
	status := "CONFIRMED"
	if method == "CANCEL" || e.Cancelled {
		status = "CANCELLED"
	}
	ev := Event{
		UID: e.UID, Summary: e.Title, Description: e.Description, Location: e.Location,
		Start: e.Start, End: e.End, Status: status, Sequence: e.Sequence, Transp: "OPAQUE",
		RRule: e.RRule, ExDates: inZone(e.ExDates, e.Start.Location()),
		Organizer: Organizer{Name: e.Organizer.Name, Email: e.Organizer.Email},
		Attendees: []Attendee{{Name: e.Attendee.Name, Email: e.Attendee.Email, PartStat: e.PartStat,
			Params: map[string]string{"ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE", "CUTYPE": "INDIVIDUAL"}}},
	}
	if e.URL != "" {
		ev.Extra = append(ev.Extra, ical.Prop{Name: ical.PropURL, Params: ical.Params{ical.ParamValue: []string{"URI"}}, Value: e.URL})
	}
	zones := make(map[string]zoneUse)
	c, err := eventComponent(ev, zones)
	if err != nil {
		return nil, fmt.Errorf("%w: invitation %q: %v", ErrInvalidEvent, e.UID, err)
	}
	for _, name := range []string{ical.PropOrganizer, ical.PropAttendee} {
		for i := range c.Props[name] {
			c.Props[name][i].Params.Del("SCHEDULE-AGENT")
		}
	}
	tzs, err := vtimezones(zones)
	if err != nil {
		return nil, fmt.Errorf("%w: invitation %q: %v", ErrInvalidEvent, e.UID, err)
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropProductID, ProdID)
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropCalendarScale, "GREGORIAN")
	cal.Props.SetText(ical.PropMethod, method)
	cal.Children = append(append(cal.Children, tzs...), c)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("%w: invitation %q: %v", ErrInvalidEvent, e.UID, err)
	}
	return foldLines(buf.Bytes()), nil
}
