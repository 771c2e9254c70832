package api

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/events"
)

type eventRequestJSON struct {
	Title       string  `json:"title"`
	Description *string `json:"description"`
	Start       string  `json:"start"`
	End         string  `json:"end"`
	Room        *string `json:"room"`
	Location    *string `json:"location"`
	Capacity    *int    `json:"capacity"`
	Waitlist    *bool   `json:"waitlist"`
	Opens       *string `json:"registration_opens_at"`
	Closes      *string `json:"registration_closes_at"`
}

type eventPatchJSON struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Start       *string `json:"start"`
	End         *string `json:"end"`
	Location    *string `json:"location"`
	Capacity    *int    `json:"capacity"`
	Waitlist    *bool   `json:"waitlist"`
	// A JSON null clears a bound; absent keeps it.
	Opens  optionalTime `json:"registration_opens_at"`
	Closes optionalTime `json:"registration_closes_at"`
}

// optionalTime tells an absent field from a null one.
type optionalTime struct {
	Set   bool
	Value *string
}

func (o *optionalTime) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	o.Value = &s
	return nil
}

type myRegistrationJSON struct {
	Status   string `json:"status"`
	Position int    `json:"position,omitempty"`
	// PromotedAt is when the seat came from the waiting list.
	PromotedAt string `json:"promoted_at,omitempty"`
}

type eventJSON struct {
	ID             string              `json:"id"`
	Title          string              `json:"title"`
	Description    string              `json:"description,omitempty"`
	Start          string              `json:"start"`
	End            string              `json:"end"`
	Room           string              `json:"room,omitempty"`
	Location       string              `json:"location,omitempty"`
	Organizer      organizerJSON       `json:"organizer"`
	Capacity       int                 `json:"capacity"`
	Waitlist       bool                `json:"waitlist"`
	Opens          string              `json:"registration_opens_at,omitempty"`
	Closes         string              `json:"registration_closes_at,omitempty"`
	Status         string              `json:"status"`
	ConfirmedCount int                 `json:"confirmed_count"`
	WaitlistCount  int                 `json:"waitlist_count"`
	MyRegistration *myRegistrationJSON `json:"my_registration,omitempty"`
}

func formatOptional(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func toEventJSON(ev events.Event, confirmed, waitlisted int) eventJSON {
	return eventJSON{
		ID: ev.ID, Title: ev.Title, Description: ev.Description,
		Start: ev.Start.Format(time.RFC3339), End: ev.End.Format(time.RFC3339),
		Room: ev.Room, Location: ev.Location,
		Organizer: organizerJSON{ID: ev.Organizer.ID, Name: ev.Organizer.Name},
		Capacity:  ev.Settings.Capacity, Waitlist: ev.Settings.Waitlist,
		Opens: formatOptional(ev.Settings.Opens), Closes: formatOptional(ev.Settings.Closes),
		Status: string(ev.Status()), ConfirmedCount: confirmed, WaitlistCount: waitlisted,
	}
}

func toViewJSON(v events.View) eventJSON {
	out := toEventJSON(v.Event, v.Confirmed, v.Waitlisted)
	if v.Mine != nil {
		out.MyRegistration = &myRegistrationJSON{Status: string(v.Mine.Status), Position: v.Mine.Position,
			PromotedAt: formatOptional(v.Mine.Promoted.Truncate(time.Second))}
	}
	return out
}

// parseOptionalTime reads an optional RFC 3339 field.
func parseOptionalTime(field string, v *string) (time.Time, error) {
	if v == nil || *v == "" {
		return time.Time{}, nil
	}
	return parseTime(field, *v)
}

func (s *Server) createEvent(c *gin.Context) {
	var req eventRequestJSON
	if err := readJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	r := events.Request{Title: req.Title}
	var err error
	if r.Start, err = parseTime("start", req.Start); err != nil {
		writeError(c, err)
		return
	}
	if r.End, err = parseTime("end", req.End); err != nil {
		writeError(c, err)
		return
	}
	if r.Opens, err = parseOptionalTime("registration_opens_at", req.Opens); err != nil {
		writeError(c, err)
		return
	}
	if r.Closes, err = parseOptionalTime("registration_closes_at", req.Closes); err != nil {
		writeError(c, err)
		return
	}
	if req.Capacity == nil {
		writeError(c, invalid("capacity est obligatoire / capacity is required"))
		return
	}
	r.Capacity = *req.Capacity
	if req.Waitlist != nil {
		r.Waitlist = *req.Waitlist
	}
	if req.Description != nil {
		r.Description = *req.Description
	}
	if req.Room != nil {
		r.Room = *req.Room
	}
	if req.Location != nil {
		r.Location = *req.Location
	}
	m, _ := member(c)
	ev, err := s.opts.Events.Create(c.Request.Context(), m, r)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/events/"+ev.ID)
	c.JSON(http.StatusCreated, toEventJSON(ev, 0, 0))
}

func (s *Server) listEvents(c *gin.Context) {
	now := time.Now()
	from, to := now, now.AddDate(0, 3, 0)
	var err error
	if v := c.Query("from"); v != "" {
		if from, err = parseTime("from", v); err != nil {
			writeError(c, err)
			return
		}
	}
	if v := c.Query("to"); v != "" {
		if to, err = parseTime("to", v); err != nil {
			writeError(c, err)
			return
		}
	}
	if to.Sub(from) > 400*24*time.Hour {
		writeError(c, invalid("la période demandée dépasse 400 jours / the range exceeds 400 days"))
		return
	}
	list, err := s.opts.Events.List(c.Request.Context(), from, to)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]eventJSON, 0, len(list))
	for _, sm := range list {
		out = append(out, toEventJSON(sm.Event, sm.Confirmed, sm.Waitlisted))
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func (s *Server) getEvent(c *gin.Context) {
	m, _ := member(c)
	v, err := s.opts.Events.Get(c.Request.Context(), m, c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, toViewJSON(v))
}

func (s *Server) patchEvent(c *gin.Context) {
	var req eventPatchJSON
	if err := readJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	ch := events.Change{
		Title: req.Title, Description: req.Description, Location: req.Location,
		Capacity: req.Capacity, Waitlist: req.Waitlist,
	}
	if err := parseTimeFields(timeField{"start", req.Start, &ch.Start}, timeField{"end", req.End, &ch.End}); err != nil {
		writeError(c, err)
		return
	}
	for _, f := range []struct {
		name string
		raw  optionalTime
		dst  **time.Time
	}{{"registration_opens_at", req.Opens, &ch.Opens}, {"registration_closes_at", req.Closes, &ch.Closes}} {
		if !f.raw.Set {
			continue
		}
		t, err := parseOptionalTime(f.name, f.raw.Value)
		if err != nil {
			writeError(c, err)
			return
		}
		*f.dst = &t
	}
	m, _ := member(c)
	v, err := s.opts.Events.Update(c.Request.Context(), m, c.Param("id"), ch)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toViewJSON(v))
}

func (s *Server) cancelEvent(c *gin.Context) {
	m, _ := member(c)
	if err := s.opts.Events.Cancel(c.Request.Context(), m, c.Param("id")); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type registrationJSON struct {
	Member       string `json:"member,omitempty"`
	Name         string `json:"name,omitempty"`
	Email        string `json:"email,omitempty"`
	Status       string `json:"status"`
	Position     int    `json:"position,omitempty"`
	RegisteredAt string `json:"registered_at,omitempty"`
}

func (s *Server) register(c *gin.Context) {
	m, _ := member(c)
	r, created, err := s.opts.Events.Register(c.Request.Context(), m, c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, registrationJSON{Status: string(r.Status), Position: r.Position, RegisteredAt: formatOptional(r.At)})
}

func (s *Server) unregister(c *gin.Context) {
	m, _ := member(c)
	if err := s.opts.Events.Unregister(c.Request.Context(), m, c.Param("id")); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// csvHeader is the first line of the attendee export.
var csvHeader = []string{"nom", "email", "statut", "position", "inscrit_le"}

func (s *Server) listRegistrations(c *gin.Context) {
	m, _ := member(c)
	ev, regs, err := s.opts.Events.Registrations(c.Request.Context(), m, c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Vary", "Accept")
	if c.Query("format") == "tableur" {
		s.spreadsheetCSV(c, ev, regs)
		return
	}
	if wantsCSV(c.GetHeader("Accept")) {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="inscriptions-`+ev.ID+`.csv"`)
		c.Status(http.StatusOK)
		// A byte-order mark, so that spreadsheets open the accents right.
		_, _ = c.Writer.WriteString("\ufeff")
		w := csv.NewWriter(c.Writer)
		_ = w.Write(csvHeader)
		for _, r := range regs {
			pos := ""
			if r.Position > 0 {
				pos = strconv.Itoa(r.Position)
			}
			_ = w.Write([]string{csvSafe(r.Name), csvSafe(r.Email), string(r.Status), pos, formatOptional(r.At)})
		}
		w.Flush()
		if err := w.Error(); err != nil {
			s.log.WarnContext(c.Request.Context(), "csv export cut short", "event", ev.ID, "err", err)
		}
		return
	}
	out := make([]registrationJSON, 0, len(regs))
	for _, r := range regs {
		out = append(out, registrationJSON{
			Member: r.Member, Name: r.Name, Email: r.Email, Status: string(r.Status),
			Position: r.Position, RegisteredAt: formatOptional(r.At),
		})
	}
	c.JSON(http.StatusOK, out)
}

// spreadsheetCSV answers the attendee list for a French spreadsheet
// (?format=tableur): a byte-order mark, ";" between cells, headings and
// statuses in French, times as "07/12/2026 14:05" on the event's clock,
// and a file named after the event's title and day. The plain CSV stays
// for tools.
func (s *Server) spreadsheetCSV(c *gin.Context, ev events.Event, regs []events.Registration) {
	zone := s.eventZone(ev)
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", contentDisposition(sheetFileName(ev.Title, ev.Start.In(zone))))
	c.Status(http.StatusOK)
	_, _ = c.Writer.WriteString("\ufeff")
	w := csv.NewWriter(c.Writer)
	w.Comma = ';'
	w.UseCRLF = true
	_ = w.Write([]string{"Nom", "E-mail", "Statut", "Position sur la liste d'attente", "Inscrit·e le"})
	for _, r := range regs {
		status, pos := "Confirmé·e", ""
		if r.Status == events.Waitlisted {
			status, pos = "Liste d'attente", strconv.Itoa(r.Position)
		}
		at := ""
		if !r.At.IsZero() {
			at = r.At.In(zone).Format("02/01/2006 15:04")
		}
		_ = w.Write([]string{csvSafe(r.Name), csvSafe(r.Email), status, pos, at})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		s.log.WarnContext(c.Request.Context(), "csv export cut short", "event", ev.ID, "err", err)
	}
}

// eventZone is the clock an event is read on: its room's site's, else
// the first site's.
func (s *Server) eventZone(ev events.Event) *time.Location {
	if ev.Room != "" {
		if z := s.opts.Catalog.Zone(ev.Room); z != nil {
			return z
		}
	}
	if sites := s.opts.Catalog.Sites(); len(sites) > 0 && sites[0].Location != nil {
		return sites[0].Location
	}
	return time.UTC
}

// sheetFileName names a spreadsheet export after the event: "Assemblée
// générale - 2026-12-07.csv", without the characters file systems refuse.
func sheetFileName(title string, start time.Time) string {
	clean := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < 0x20 || r == 0x7f {
			return '-'
		}
		return r
	}, strings.TrimSpace(title))
	if clean == "" {
		clean = "inscriptions"
	}
	if n := []rune(clean); len(n) > 80 {
		clean = strings.TrimSpace(string(n[:80]))
	}
	return clean + " - " + start.Format(time.DateOnly) + ".csv"
}

// contentDisposition is an attachment named name: the UTF-8 name
// (RFC 6266, RFC 8187) and an ASCII one for older clients.
func contentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			return '_'
		}
		return r
	}, name)
	var ext strings.Builder
	for _, b := range []byte(name) {
		if b < 0x80 && (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0) {
			ext.WriteByte(b)
			continue
		}
		fmt.Fprintf(&ext, "%%%02X", b)
	}
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + ext.String()
}

// wantsCSV reports whether the Accept header prefers CSV.
func wantsCSV(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		if strings.EqualFold(mt, "text/csv") {
			return true
		}
	}
	return false
}

// csvSafe defuses cells a spreadsheet would run as a formula (a member
// named "=HYPERLINK(…)").
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// eventProblem maps the events domain's errors to problems.
func eventProblem(err error) *Problem {
	switch {
	case errors.Is(err, events.ErrFull):
		return problem(http.StatusConflict, CodeFull, "L'événement est complet. / The event is full.")
	case errors.Is(err, events.ErrClosed):
		return problem(http.StatusUnprocessableEntity, CodeRegistrationClosed, "Les inscriptions sont fermées. / Registration is closed.")
	}
	return nil
}
