package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

// timeField is an optional time of a PATCH body: raw as given (nil when
// absent), parsed into *dst.
type timeField struct {
	name string
	raw  *string
	dst  **time.Time
}

// parseTimeFields parses the fields that were given.
func parseTimeFields(fields ...timeField) error {
	for _, f := range fields {
		if f.raw == nil {
			continue
		}
		t, err := parseTime(f.name, *f.raw)
		if err != nil {
			return err
		}
		*f.dst = &t
	}
	return nil
}

// parseTime reads an RFC 3339 time with an offset from a query or body
// field, with an error that names the field.
func parseTime(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, invalid(field + " doit être une date RFC 3339 avec décalage, par exemple 2026-12-01T09:00:00+01:00 / " + field + " must be an RFC 3339 time with an offset")
	}
	return t, nil
}

type bookingRequestJSON struct {
	Room        string  `json:"room"`
	Start       string  `json:"start"`
	End         string  `json:"end"`
	Title       string  `json:"title"`
	Description *string `json:"description"`
	Recurrence  *string `json:"recurrence"`
	// Skip: starts of the series' dates to leave out (EXDATE).
	Skip []string `json:"skip"`
}

type organizerJSON struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

type bookingJSON struct {
	ID          string        `json:"id"`
	Room        string        `json:"room"`
	Start       string        `json:"start"`
	End         string        `json:"end"`
	Title       string        `json:"title"`
	Description string        `json:"description,omitempty"`
	Organizer   organizerJSON `json:"organizer"`
	Recurrence  string        `json:"recurrence,omitempty"`
	Skip        []string      `json:"skip,omitempty"`
	// Pending: a request waiting for the room's approvers until
	// approval_due ("en attente de validation").
	Pending     bool   `json:"pending,omitempty"`
	ApprovalDue string `json:"approval_due,omitempty"`
	// CheckedIn: when the member said "Je suis là"; Released: when the
	// rest of the slot was released for want of it.
	CheckedIn string `json:"checked_in,omitempty"`
	Released  string `json:"released,omitempty"`
}

func toBookingJSON(b booking.Booking) bookingJSON {
	j := bookingJSON{
		ID: b.ID, Room: b.Room, Title: b.Title, Description: b.Description, Recurrence: b.Recurrence,
		Start: b.Start.Format(time.RFC3339), End: b.End.Format(time.RFC3339),
		Organizer: organizerJSON{ID: b.Organizer.ID, Name: b.Organizer.Name, Email: b.Organizer.Email},
		Pending:   b.Pending,
	}
	for _, t := range b.Skipped {
		j.Skip = append(j.Skip, t.Format(time.RFC3339))
	}
	if b.Pending && !b.ApprovalDue.IsZero() {
		j.ApprovalDue = b.ApprovalDue.Format(time.RFC3339)
	}
	if !b.CheckedIn.IsZero() {
		j.CheckedIn = b.CheckedIn.Format(time.RFC3339)
	}
	if !b.Released.IsZero() {
		j.Released = b.Released.Format(time.RFC3339)
	}
	return j
}

func (s *Server) createBooking(c *gin.Context) {
	var req bookingRequestJSON
	if err := readJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Room == "" {
		writeError(c, invalid("room est obligatoire / room is required"))
		return
	}
	start, err := parseTime("start", req.Start)
	if err != nil {
		writeError(c, err)
		return
	}
	end, err := parseTime("end", req.End)
	if err != nil {
		writeError(c, err)
		return
	}
	r := booking.Request{Room: req.Room, Start: start, End: end, Title: req.Title}
	if req.Description != nil {
		r.Description = *req.Description
	}
	if req.Recurrence != nil {
		r.Recurrence = *req.Recurrence
	}
	for _, v := range req.Skip {
		t, err := parseTime("skip", v)
		if err != nil {
			writeError(c, err)
			return
		}
		r.Skip = append(r.Skip, t)
	}
	m, _ := member(c)
	b, err := s.opts.Bookings.Book(c.Request.Context(), m, r)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/bookings/"+b.ID)
	c.JSON(http.StatusCreated, toBookingJSON(b))
	if room, err := s.opts.Catalog.Room(b.Room); err == nil {
		s.rememberSite(c.Request.Context(), m, room.SiteID)
	}
	s.booked(c.Request.Context(), m, b)
}

// booked tells Options.Booked of b, made by m, once answered: in the
// background (the answer never waits for it), bounded in time.
func (s *Server) booked(ctx context.Context, m booking.Member, b booking.Booking) {
	if s.opts.Booked == nil {
		return
	}
	if b.Organizer.ID == "" {
		b.Organizer = m
	}
	if b.Organizer.Email == "" {
		b.Organizer.Email = m.Email
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rememberSiteTimeout)
	go func() {
		defer cancel()
		s.opts.Booked(ctx, b)
	}()
}

// maxPreviewQuery bounds the query of a series preview.
const maxPreviewQuery = 2048

type seriesDateJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
	// Free: nothing in the way; otherwise conflicts (as a 409 lists
	// them) or rule and detail (as a 422 says them).
	Free      bool       `json:"free"`
	Conflicts []busyJSON `json:"conflicts,omitempty"`
	Rule      string     `json:"rule,omitempty"`
	Detail    string     `json:"detail,omitempty"`
}

type seriesPreviewJSON struct {
	Dates []seriesDateJSON `json:"dates"`
	Free  int              `json:"free"`
	Taken int              `json:"taken"`
}

// previewBooking says, date by date, what POST /api/v1/bookings would
// meet for the same room, start, end and recurrence, and writes nothing:
// the dates a member may then skip.
func (s *Server) previewBooking(c *gin.Context) {
	if len(c.Request.URL.RawQuery) > maxPreviewQuery {
		writeError(c, invalid("requête trop longue / query too long"))
		return
	}
	room := c.Query("room")
	if room == "" {
		writeError(c, invalid("room est obligatoire / room is required"))
		return
	}
	start, err := parseTime("start", c.Query("start"))
	if err != nil {
		writeError(c, err)
		return
	}
	end, err := parseTime("end", c.Query("end"))
	if err != nil {
		writeError(c, err)
		return
	}
	m, _ := member(c)
	dates, err := s.opts.Bookings.Preview(c.Request.Context(), m, booking.Request{Room: room, Start: start, End: end, Recurrence: c.Query("recurrence"), Repeats: c.Query("repeats")})
	if err != nil {
		writeError(c, err)
		return
	}
	out := seriesPreviewJSON{Dates: make([]seriesDateJSON, 0, len(dates))}
	for _, d := range dates {
		j := seriesDateJSON{Start: d.Start.Format(time.RFC3339), End: d.End.Format(time.RFC3339), Free: d.Free()}
		for _, b := range d.With {
			j.Conflicts = append(j.Conflicts, busyToJSON(b, false))
		}
		if d.Refused != nil {
			j.Rule, j.Detail = string(d.Refused.Rule), d.Refused.Detail
		}
		if j.Free {
			out.Free++
		} else {
			out.Taken++
		}
		out.Dates = append(out.Dates, j)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

type bookingItemJSON struct {
	ID        string `json:"id"`
	Room      string `json:"room"`
	Start     string `json:"start"`
	End       string `json:"end"`
	Title     string `json:"title"`
	Organizer string `json:"organizer"`
	Pending   bool   `json:"pending,omitempty"`
	CheckedIn bool   `json:"checked_in,omitempty"`
	Released  bool   `json:"released,omitempty"`
}

func (s *Server) listBookings(c *gin.Context) {
	f := booking.Filter{Room: c.Query("room")}
	if v := c.Query("from"); v != "" {
		t, err := parseTime("from", v)
		if err != nil {
			writeError(c, err)
			return
		}
		f.From = t
	}
	if v := c.Query("to"); v != "" {
		t, err := parseTime("to", v)
		if err != nil {
			writeError(c, err)
			return
		}
		f.To = t
	}
	m, _ := member(c)
	f.Viewer = &m
	if c.Query("mine") == "true" {
		f.Organizer = m.ID
	}
	list, err := s.opts.Bookings.List(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := []bookingItemJSON{}
	for _, b := range list {
		out = append(out, bookingItemJSON{
			ID: b.Ref, Room: booking.RoomOf(b.Ref), Title: b.Title, Organizer: b.Organizer,
			Start: b.Start.Format(time.RFC3339), End: b.End.Format(time.RFC3339), Pending: b.Pending,
			CheckedIn: b.CheckedIn, Released: b.Released,
		})
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getBooking(c *gin.Context) {
	m, _ := member(c)
	b, err := s.opts.Bookings.Get(c.Request.Context(), m, c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toBookingJSON(b))
}

type bookingPatchJSON struct {
	Start       *string `json:"start"`
	End         *string `json:"end"`
	Title       *string `json:"title"`
	Description *string `json:"description"`
	// Recurrence makes a single booking a series; Skip leaves dates of
	// it out.
	Recurrence *string  `json:"recurrence"`
	Skip       []string `json:"skip"`
}

func (s *Server) patchBooking(c *gin.Context) {
	var req bookingPatchJSON
	if err := readJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	var ch booking.Change
	if err := parseTimeFields(timeField{"start", req.Start, &ch.Start}, timeField{"end", req.End, &ch.End}); err != nil {
		writeError(c, err)
		return
	}
	ch.Title, ch.Description, ch.Recurrence = req.Title, req.Description, req.Recurrence
	for _, v := range req.Skip {
		t, err := parseTime("skip", v)
		if err != nil {
			writeError(c, err)
			return
		}
		ch.Skip = append(ch.Skip, t)
	}
	m, _ := member(c)
	b, err := s.opts.Bookings.Move(c.Request.Context(), m, c.Param("id"), ch)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toBookingJSON(b))
}

func (s *Server) deleteBooking(c *gin.Context) {
	m, _ := member(c)
	if err := s.opts.Bookings.Cancel(c.Request.Context(), m, c.Param("id")); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type skipJSON struct {
	// Start names the date to leave out by its start, as the series'
	// dates are listed.
	Start string `json:"start"`
}

// skipDate answers POST /api/v1/bookings/{id}/skip: one date of a series
// is left out ("cette date seulement"), free for others at once; the
// rest of the series stays booked.
func (s *Server) skipDate(c *gin.Context) {
	var req skipJSON
	if err := readJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	start, err := parseTime("start", req.Start)
	if err != nil {
		writeError(c, err)
		return
	}
	m, _ := member(c)
	b, err := s.opts.Bookings.SkipDate(c.Request.Context(), m, c.Param("id"), start)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toBookingJSON(b))
}

// conflictJSON is an overlap (a and b), or an object of the room's
// calendar that cannot be read whole (problem; a is what of it is
// counted busy, when something is known, and b is absent).
type conflictJSON struct {
	Room    string             `json:"room"`
	A       *busyJSON          `json:"a,omitempty"`
	B       *busyJSON          `json:"b,omitempty"`
	Problem *objectProblemJSON `json:"problem,omitempty"`
}

// objectProblemJSON names an unreadable calendar object and says why
// (the reader's words, for admins only).
type objectProblemJSON struct {
	Object string `json:"object"`
	Reason string `json:"reason"`
}

// maxReasonRunes bounds the reason given for an unreadable object (it
// may quote the object, which came from outside).
const maxReasonRunes = 300

func (s *Server) listConflicts(c *gin.Context) {
	list, err := s.opts.Bookings.Conflicts(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	out := []conflictJSON{}
	for _, cf := range list {
		if cf.Problem != nil {
			j := conflictJSON{Room: cf.Room, Problem: &objectProblemJSON{Object: cf.A.Ref, Reason: cf.Problem.Error()}}
			if r := []rune(j.Problem.Reason); len(r) > maxReasonRunes {
				j.Problem.Reason = string(r[:maxReasonRunes-1]) + "…"
			}
			if cf.A.End.After(cf.A.Start) {
				a := busyToJSON(cf.A, true)
				j.A = &a
			}
			out = append(out, j)
			continue
		}
		a, b := busyToJSON(cf.A, true), busyToJSON(cf.B, true)
		out = append(out, conflictJSON{Room: cf.Room, A: &a, B: &b})
	}
	c.JSON(http.StatusOK, out)
}
