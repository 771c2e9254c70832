package caldav

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"time"
)

// The requests of Client, written with encoding/xml: go-webdav has no
// sync-collection or MKCALENDAR, and its REPORTs fail as a whole on one
// bad object.

// propReq names the properties a request asks for.
type propReq struct {
	GetETag      *struct{} `xml:"DAV: getetag,omitempty"`
	ResourceType *struct{} `xml:"DAV: resourcetype,omitempty"`
	CalendarData *struct{} `xml:"urn:ietf:params:xml:ns:caldav calendar-data,omitempty"`
}

type propfindReq struct {
	XMLName xml.Name `xml:"DAV: propfind"`
	Prop    propReq  `xml:"DAV: prop"`
}

// Paths like "a>b" in tags put only the last element in the namespace:
// each level is a struct of its own.

type mkcalendarReq struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:caldav mkcalendar"`
	Set     struct {
		Prop struct {
			DisplayName string `xml:"DAV: displayname,omitempty"`
			CompSet     struct {
				Comp []compName `xml:"urn:ietf:params:xml:ns:caldav comp"`
			} `xml:"urn:ietf:params:xml:ns:caldav supported-calendar-component-set"`
		} `xml:"DAV: prop"`
	} `xml:"DAV: set"`
}

type compName struct {
	Name string `xml:"name,attr"`
}

type multigetReq struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:caldav calendar-multiget"`
	Prop    propReq  `xml:"DAV: prop"`
	Hrefs   []string `xml:"DAV: href"`
}

type queryReq struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:caldav calendar-query"`
	Prop    propReq  `xml:"DAV: prop"`
	Filter  struct {
		Comp compFilter `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
	} `xml:"urn:ietf:params:xml:ns:caldav filter"`
}

type compFilter struct {
	Name       string      `xml:"name,attr"`
	TimeRange  *timeRange  `xml:"urn:ietf:params:xml:ns:caldav time-range,omitempty"`
	PropFilter *propFilter `xml:"urn:ietf:params:xml:ns:caldav prop-filter,omitempty"`
	Comp       *compFilter `xml:"urn:ietf:params:xml:ns:caldav comp-filter,omitempty"`
}

// propFilter with no content matches components that have the property.
type propFilter struct {
	Name string `xml:"name,attr"`
}

type timeRange struct {
	Start string `xml:"start,attr"`
	End   string `xml:"end,attr"`
}

// syncReq is an RFC 6578 sync-collection. It never carries a <limit>:
// Nextcloud answers 507 to one on a first sync and truncates silently
// later.
type syncReq struct {
	XMLName   xml.Name `xml:"DAV: sync-collection"`
	SyncToken string   `xml:"DAV: sync-token"` // always present, empty on a first sync
	SyncLevel string   `xml:"DAV: sync-level"`
	Prop      propReq  `xml:"DAV: prop"`
}

func marshalXML(v any) ([]byte, error) {
	b, err := xml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}

func mkcalendarBody(displayName string) ([]byte, error) {
	var r mkcalendarReq
	r.Set.Prop.DisplayName = displayName
	r.Set.Prop.CompSet.Comp = []compName{{Name: "VEVENT"}}
	return marshalXML(r)
}

func multigetBody(hrefs []string) ([]byte, error) {
	return marshalXML(multigetReq{Prop: propReq{GetETag: &struct{}{}, CalendarData: &struct{}{}}, Hrefs: hrefs})
}

// icalUTC is the iCalendar form of a UTC date-time.
const icalUTC = "20060102T150405Z"

// queryBody asks for the VEVENTs overlapping [start, end) (both sent in
// UTC: a missing end goes wrong on every server), with their data or
// only their ETags.
func queryBody(start, end time.Time, withData bool) ([]byte, error) {
	r := queryReq{Prop: propReq{GetETag: &struct{}{}}}
	r.Filter.Comp = compFilter{Name: "VCALENDAR", Comp: &compFilter{Name: "VEVENT", TimeRange: &timeRange{
		Start: start.UTC().Format(icalUTC),
		End:   end.UTC().Format(icalUTC),
	}}}
	if withData {
		r.Prop.CalendarData = &struct{}{}
	}
	return marshalXML(r)
}

// recurringQueryBody asks for the ETags of the VEVENTs with an RRULE
// whose first instance starts before end (from 1970 on): a superset of
// the recurring events with an instance in any range ending at end, on a
// server that matches a recurring event by its first instance only
// (Xandikos).
func recurringQueryBody(end time.Time) ([]byte, error) {
	r := queryReq{Prop: propReq{GetETag: &struct{}{}}}
	r.Filter.Comp = compFilter{Name: "VCALENDAR", Comp: &compFilter{
		Name:       "VEVENT",
		TimeRange:  &timeRange{Start: time.Unix(0, 0).UTC().Format(icalUTC), End: end.UTC().Format(icalUTC)},
		PropFilter: &propFilter{Name: "RRULE"},
	}}
	return marshalXML(r)
}

func syncBody(token string) ([]byte, error) {
	return marshalXML(syncReq{SyncToken: token, SyncLevel: "1", Prop: propReq{GetETag: &struct{}{}}})
}

// multistatus is a DAV:multistatus answer.
type multistatus struct {
	XMLName   xml.Name     `xml:"DAV: multistatus"`
	Responses []msResponse `xml:"DAV: response"`
	SyncToken string       `xml:"DAV: sync-token"`
}

type msResponse struct {
	Hrefs     []string     `xml:"DAV: href"`
	Status    string       `xml:"DAV: status"`
	PropStats []msPropStat `xml:"DAV: propstat"`
}

type msPropStat struct {
	Status string `xml:"DAV: status"`
	Prop   msProp `xml:"DAV: prop"`
}

type msProp struct {
	ETag         *string `xml:"DAV: getetag"`
	CalendarData *string `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
	ResourceType *struct {
		Collection *struct{} `xml:"DAV: collection"`
	} `xml:"DAV: resourcetype"`
}

// href is the response's first href, "" if none.
func (r *msResponse) href() string {
	if len(r.Hrefs) == 0 {
		return ""
	}
	return r.Hrefs[0]
}

// object gathers the ETag and data of the response from its successful
// propstats. status is the response's own status when it has one (404 for
// a missing href, a deleted member in a sync answer), else 200 when a
// propstat succeeded, else the status of the first failed propstat.
func (r *msResponse) object(name string) (Object, int) {
	obj := Object{Name: name}
	status := 0
	for _, ps := range r.PropStats {
		st := statusCode(ps.Status)
		if st == 0 {
			st = http.StatusOK // lenient: a propstat without status
		}
		if st/100 != 2 {
			if status == 0 {
				status = st
			}
			continue
		}
		status = st
		if ps.Prop.ETag != nil {
			obj.ETag, _ = etagFromWire(*ps.Prop.ETag)
		}
		if ps.Prop.CalendarData != nil {
			obj.Data = restoreCRLF(*ps.Prop.CalendarData)
		}
	}
	if st := statusCode(r.Status); st != 0 {
		status = st
	}
	return obj, status
}

// isCollection says whether the response's resourcetype is a collection.
func (r *msResponse) isCollection() bool {
	for _, ps := range r.PropStats {
		if st := statusCode(ps.Status); (st == 0 || st/100 == 2) && ps.Prop.ResourceType != nil && ps.Prop.ResourceType.Collection != nil {
			return true
		}
	}
	return false
}

// restoreCRLF gives calendar data its CRLF line ends back: XML parsing
// turns CRLF into LF, and iCalendar lines end in CRLF.
func restoreCRLF(s string) []byte {
	b := make([]byte, 0, len(s)+len(s)/32)
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b = append(b, '\r')
		}
		b = append(b, s[i])
	}
	return b
}

// parseMultistatus decodes a multistatus answer. Bytes XML 1.0 forbids
// (C0 controls other than tab, CR and LF, invalid UTF-8), which a server
// copies from a malformed object into its answer, are dropped or replaced
// first so that one such object does not make the whole answer
// unreadable; they are not allowed in iCalendar either. A document that
// is still not well-formed gives an error wrapping *xml.SyntaxError.
func parseMultistatus(body []byte) (*multistatus, error) {
	body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	body = bytes.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		return r
	}, body)
	var ms multistatus
	if err := xml.Unmarshal(body, &ms); err != nil {
		return nil, fmt.Errorf("decoding multistatus: %w", err)
	}
	return &ms, nil
}

// report sends a REPORT and decodes its 207 answer.
func (c *Client) report(ctx context.Context, u, depth string, body []byte) (*multistatus, error) {
	return c.multistatusCall(ctx, call{method: "REPORT", url: u, header: http.Header{"Depth": {depth}}, body: body, xml: true})
}

// propfind sends a PROPFIND and decodes its 207 answer.
func (c *Client) propfind(ctx context.Context, u, depth string, prop propReq) (*multistatus, error) {
	body, err := marshalXML(propfindReq{Prop: prop})
	if err != nil {
		return nil, err
	}
	return c.multistatusCall(ctx, call{method: "PROPFIND", url: u, header: http.Header{"Depth": {depth}}, body: body, xml: true})
}

func (c *Client) multistatusCall(ctx context.Context, cl call) (*multistatus, error) {
	resp, err := c.send(ctx, cl)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusMultiStatus {
		return nil, fmt.Errorf("%s %s: want 207 Multi-Status, got %d", cl.method, cl.url, resp.status)
	}
	ms, err := parseMultistatus(resp.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", cl.method, cl.url, err)
	}
	return ms, nil
}

// multistatusFailure reads the 207 a server may give to a PUT or DELETE
// (Xandikos: a 412 inside a 207 for a UID conflict, nothing stored): the
// first failed status inside becomes an *HTTPError.
func multistatusFailure(method, u string, body []byte) error {
	ms, err := parseMultistatus(body)
	if err != nil {
		return fmt.Errorf("%s %s: 207 answer: %w", method, u, err)
	}
	for _, r := range ms.Responses {
		codes := []int{statusCode(r.Status)}
		for _, ps := range r.PropStats {
			codes = append(codes, statusCode(ps.Status))
		}
		for _, st := range codes {
			if st != 0 && st/100 != 2 {
				return &HTTPError{Method: method, URL: u, Status: st, Body: excerpt(body)}
			}
		}
	}
	return nil
}
