package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

// The rooms administered in the pages: /api/v1/admin/rooms. Admins
// administer every room, site admins (group "admins-<site id>") the
// rooms of their site; the route's policy (RoomAdmin) lets both in and
// the domain (booking.RoomAdmin) checks the site.

// adminRoomJSON is a room as the admin pages read and write it. The
// opening hours and rules have the shape of GET /api/v1/rooms/{id}.
type adminRoomJSON struct {
	ID            string         `json:"id"`
	Site          string         `json:"site"`
	Name          string         `json:"name"`
	Capacity      int            `json:"capacity"`
	Equipment     []string       `json:"equipment"`
	Accessibility []string       `json:"accessibility"`
	Description   string         `json:"description"`
	Directions    string         `json:"directions"`
	Retired       bool           `json:"retired"`
	Hours         map[string]any `json:"opening_hours"`
	Closures      []closureJSON  `json:"closures"`
	Rules         adminRulesJSON `json:"rules"`
	Revision      int            `json:"revision"`
	Audit         []auditJSON    `json:"audit"`
	// Cancelled: the bookings ahead a retirement with cancel_future
	// cancelled (only then).
	Cancelled *[]futureBookingJSON `json:"cancelled,omitempty"`
}

// adminRulesJSON are the rules as admins edit them: those members read,
// approval and quotas.
type adminRulesJSON struct {
	rulesJSON
	// Approvers: groups that accept or refuse requests (empty: no
	// approval); a request lapses after approval_within_days (0: the
	// default).
	Approvers          []string `json:"approvers"`
	ApprovalWithinDays float64  `json:"approval_within_days"`
	// CheckInWithinMinutes: a booking not confirmed ("Je suis là")
	// within this many minutes of its start is released (0: no check-in).
	CheckInWithinMinutes int           `json:"checkin_within_minutes"`
	Quota                quotaRuleJSON `json:"quota"`
}

// quotaRuleJSON is one member's quota; 0 is no limit.
type quotaRuleJSON struct {
	Scope          string   `json:"scope"` // "site" (default) or "room"
	PerWeekMinutes int      `json:"per_week_minutes"`
	Ahead          int      `json:"ahead"`
	LongestMinutes int      `json:"longest_minutes"`
	Exempt         []string `json:"exempt"`
}

type auditJSON struct {
	At      string   `json:"at"`
	By      string   `json:"by"`
	ByName  string   `json:"by_name,omitempty"`
	Action  string   `json:"action"`
	Changes []string `json:"changes"`
}

// adminRoomInput is the body of POST and PUT: every editable field (PUT
// replaces them all), and the revision the page read (PUT only).
type adminRoomInput struct {
	ID            string         `json:"id"`
	Site          string         `json:"site"`
	Name          string         `json:"name"`
	Capacity      int            `json:"capacity"`
	Equipment     []string       `json:"equipment"`
	Accessibility []string       `json:"accessibility"`
	Description   string         `json:"description"`
	Directions    string         `json:"directions"`
	Retired       bool           `json:"retired"`
	Hours         hoursInput     `json:"opening_hours"`
	Closures      []closureJSON  `json:"closures"`
	Rules         adminRulesJSON `json:"rules"`
	Revision      *int           `json:"revision"`
	// CancelFuture, with retired: the bookings ahead are cancelled and
	// their owners told CancelReason (required then). Without it a room
	// that has bookings ahead is not retired (409 future_bookings).
	CancelFuture bool   `json:"cancel_future"`
	CancelReason string `json:"cancel_reason"`
}

// futureBookingJSON is a booking ahead of a room being retired.
type futureBookingJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Kind        string `json:"kind"`
	Start       string `json:"start"`
	End         string `json:"end"`
	Occurrences int    `json:"occurrences"`
	Owner       string `json:"owner"`
	OwnerName   string `json:"owner_name,omitempty"`
	Pending     bool   `json:"pending,omitempty"`
}

func futureJSON(list []booking.FutureBooking) []futureBookingJSON {
	out := []futureBookingJSON{}
	for _, b := range list {
		out = append(out, futureBookingJSON{ID: b.ID, Title: b.Title, Kind: string(b.Kind), Start: b.Start.Format(time.RFC3339),
			End: b.End.Format(time.RFC3339), Occurrences: b.Occurrences, Owner: b.Owner, OwnerName: b.OwnerName, Pending: b.Pending})
	}
	return out
}

// futureListJSON answers GET .../future-bookings, and is the body of a
// refused retirement's problem (with it).
type futureListJSON struct {
	Count    int                 `json:"count"`
	Writing  int                 `json:"writing"`
	Bookings []futureBookingJSON `json:"bookings"`
}

// hoursInput is opening_hours as sent: "always": true, or a list of
// ranges for each weekday key (a day missing or with no range is closed).
type hoursInput struct {
	Always bool        `json:"always"`
	Sun    []rangeJSON `json:"sun"`
	Mon    []rangeJSON `json:"mon"`
	Tue    []rangeJSON `json:"tue"`
	Wed    []rangeJSON `json:"wed"`
	Thu    []rangeJSON `json:"thu"`
	Fri    []rangeJSON `json:"fri"`
	Sat    []rangeJSON `json:"sat"`
}

func toAdminRoomJSON(st booking.RoomSettings) adminRoomJSON {
	r := st.Room
	out := adminRoomJSON{
		ID: r.ID, Site: r.SiteID, Name: r.Name, Capacity: r.Capacity,
		Equipment: nonNil(r.Equipment), Accessibility: nonNil(r.Accessibility),
		Description: r.Description, Directions: r.Directions, Retired: r.Retired,
		Hours: hoursJSON(r.Hours), Closures: []closureJSON{}, Rules: toAdminRulesJSON(r.Rules),
		Revision: st.Revision, Audit: []auditJSON{},
	}
	for _, cl := range r.Hours.Closures {
		out.Closures = append(out.Closures, closureJSON{From: cl.From.String(), To: cl.To.String(), Reason: cl.Reason})
	}
	// Newest first: what an admin looks for.
	for i := len(st.Audit) - 1; i >= 0; i-- {
		a := st.Audit[i]
		out.Audit = append(out.Audit, auditJSON{At: a.At.Format(time.RFC3339), By: a.By, ByName: a.ByName, Action: a.Action, Changes: nonNil(a.Changes)})
	}
	return out
}

func toRulesJSON(r booking.Rules) rulesJSON {
	return rulesJSON{
		MaxDurationMinutes: int(r.MaxDuration / time.Minute),
		MinNoticeMinutes:   int(r.MinNotice / time.Minute),
		MaxAheadDays:       r.MaxAhead.Hours() / 24,
		BufferMinutes:      int(r.Buffer / time.Minute),
		AllowedGroups:      nonNil(r.AllowedGroups),
	}
}

func toAdminRulesJSON(r booking.Rules) adminRulesJSON {
	q := r.Quota
	scope := string(q.Scope)
	if scope == "" {
		scope = string(booking.ScopeSite)
	}
	return adminRulesJSON{
		rulesJSON: toRulesJSON(r), Approvers: nonNil(r.Approvers), ApprovalWithinDays: r.ApprovalWithin.Hours() / 24,
		CheckInWithinMinutes: int(r.CheckInWithin / time.Minute),
		Quota: quotaRuleJSON{Scope: scope, PerWeekMinutes: int(q.PerWeek / time.Minute), Ahead: q.Ahead,
			LongestMinutes: int(q.Longest / time.Minute), Exempt: nonNil(q.Exempt)},
	}
}

// room turns the input into a booking.Room (id, site and everything
// editable); errors are problems naming the field.
func (in adminRoomInput) room() (booking.Room, error) {
	r := booking.Room{
		ID: strings.TrimSpace(in.ID), SiteID: in.Site, Name: in.Name, Capacity: in.Capacity,
		Equipment: in.Equipment, Accessibility: in.Accessibility,
		Description: in.Description, Directions: in.Directions, Retired: in.Retired,
		Rules: booking.Rules{
			MaxDuration:    time.Duration(in.Rules.MaxDurationMinutes) * time.Minute,
			MinNotice:      time.Duration(in.Rules.MinNoticeMinutes) * time.Minute,
			MaxAhead:       time.Duration(in.Rules.MaxAheadDays * float64(24*time.Hour)),
			Buffer:         time.Duration(in.Rules.BufferMinutes) * time.Minute,
			AllowedGroups:  in.Rules.AllowedGroups,
			Approvers:      in.Rules.Approvers,
			ApprovalWithin: time.Duration(in.Rules.ApprovalWithinDays * float64(24*time.Hour)),
			CheckInWithin:  time.Duration(in.Rules.CheckInWithinMinutes) * time.Minute,
			Quota: booking.Quota{
				Scope:   booking.QuotaScope(in.Rules.Quota.Scope),
				PerWeek: time.Duration(in.Rules.Quota.PerWeekMinutes) * time.Minute,
				Ahead:   in.Rules.Quota.Ahead,
				Longest: time.Duration(in.Rules.Quota.LongestMinutes) * time.Minute,
				Exempt:  in.Rules.Quota.Exempt,
			},
		},
	}
	if !in.Hours.Always {
		r.Hours.Weekly = map[time.Weekday][]booking.TimeRange{}
		for d, ranges := range [...][]rangeJSON{in.Hours.Sun, in.Hours.Mon, in.Hours.Tue, in.Hours.Wed, in.Hours.Thu, in.Hours.Fri, in.Hours.Sat} {
			out := []booking.TimeRange{}
			for _, rg := range ranges {
				from, err1 := parseClock(rg.From)
				to, err2 := parseClock(rg.To)
				if err := errors.Join(err1, err2); err != nil {
					return r, invalid(fmt.Sprintf("opening_hours.%s : heure HH:MM attendue / expected HH:MM", weekdayKeys[d]))
				}
				out = append(out, booking.TimeRange{From: from, To: to})
			}
			r.Hours.Weekly[time.Weekday(d)] = out
		}
	}
	for i, cl := range in.Closures {
		from, err1 := time.Parse(time.DateOnly, cl.From)
		to, err2 := time.Parse(time.DateOnly, cl.To)
		if err := errors.Join(err1, err2); err != nil {
			return r, invalid(fmt.Sprintf("closures[%d] : date AAAA-MM-JJ attendue / expected YYYY-MM-DD", i))
		}
		r.Hours.Closures = append(r.Hours.Closures, booking.Closure{
			From:   booking.Date{Year: from.Year(), Month: from.Month(), Day: from.Day()},
			To:     booking.Date{Year: to.Year(), Month: to.Month(), Day: to.Day()},
			Reason: cl.Reason,
		})
	}
	return r, nil
}

// parseClock reads "HH:MM" (00:00 to 24:00).
func parseClock(s string) (booking.ClockTime, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, errors.New("not HH:MM")
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, errors.New("not HH:MM")
	}
	return booking.Clock(h, m), nil
}

// adminError says what went wrong in the admin's words: a stale record
// or a name already taken is a 409 of its own.
func (s *Server) adminError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, booking.ErrStale):
		writeError(c, problem(http.StatusConflict, CodeConflict,
			"Quelqu'un d'autre vient de modifier cette salle ; rechargez-la pour voir ses changements. / Someone else has just changed this room; reload it to see their changes.").withCause(err))
	case errors.As(err, new(*booking.FutureBookingsError)):
		writeError(c, s.futureProblem(err))
	case errors.Is(err, booking.ErrExists):
		writeError(c, problem(http.StatusConflict, CodeConflict,
			"Une salle ou un calendrier porte déjà cet identifiant. / A room or calendar already has this id.").withCause(err))
	default:
		writeError(c, err)
	}
}

// futureProblem is the 409 of a retirement refused for the bookings the
// room has ahead: how many, from when to when, and the list.
func (s *Server) futureProblem(err error) *Problem {
	var fe *booking.FutureBookingsError
	errors.As(err, &fe)
	loc := time.UTC
	if cat := s.opts.Catalog; cat != nil {
		if r, err := cat.Room(fe.Room); err == nil {
			if site, err := cat.Site(r.SiteID); err == nil && site.Location != nil {
				loc = site.Location
			}
		}
	}
	n := len(fe.Bookings)
	var detail string
	switch {
	case fe.Cancelling:
		detail = fmt.Sprintf("Cette salle accueille encore %s à venir : déplacez-les ou annulez-les d'abord depuis la page des événements (leurs inscrit·e·s y sont prévenu·e·s), puis retirez la salle. / This room still holds %s ahead: move or cancel them first from the events page (their registrants are told there), then retire the room.",
			plural(n, "événement", "événements"), plural(n, "event", "events"))
	case n == 0:
		detail = "Une réservation est en train d'être enregistrée dans cette salle ; réessayez dans un instant. / A booking is being saved in this room; try again in a moment."
	default:
		from, to := fe.Bookings[0].Start, fe.Bookings[0].Start
		for _, b := range fe.Bookings {
			if b.Start.After(to) {
				to = b.Start
			}
		}
		span := "le " + from.In(loc).Format("02/01/2006")
		spanEN := "on " + from.In(loc).Format("2006-01-02")
		if from.In(loc).Format(time.DateOnly) != to.In(loc).Format(time.DateOnly) {
			span = "du " + from.In(loc).Format("02/01/2006") + " au " + to.In(loc).Format("02/01/2006")
			spanEN = "from " + from.In(loc).Format("2006-01-02") + " to " + to.In(loc).Format("2006-01-02")
		}
		detail = fmt.Sprintf("Cette salle a encore %s (%s) : elle n'est pas retirée. Pour la retirer, annulez-les (leurs auteur·rice·s seront prévenu·e·s, avec votre motif), ou gardez la salle en service. / This room still has %s (%s): it is not retired. To retire it, cancel them (their owners are told, with your reason), or keep the room in service.",
			plural(n, "réservation à venir", "réservations à venir"), span, plural(n, "booking ahead", "bookings ahead"), spanEN)
	}
	pr := problem(http.StatusConflict, CodeFutureBookings, detail).withCause(err)
	pr.Future = &futureListJSON{Count: n, Writing: fe.Writing, Bookings: futureJSON(fe.Bookings)}
	return pr
}

// plural is "1 réservation", "3 réservations".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// adminRoutes are the admin API's routes; without Options.RoomAdmin they
// answer 404.
func (s *Server) adminRoutes() []route {
	return []route{
		{http.MethodGet, "/api/v1/admin/rooms", RoomAdmin, s.withRoomAdmin(s.adminListRooms)},
		{http.MethodPost, "/api/v1/admin/rooms", RoomAdmin, s.withRoomAdmin(s.adminCreateRoom)},
		{http.MethodGet, "/api/v1/admin/rooms/:id", RoomAdmin, s.withRoomAdmin(s.adminGetRoom)},
		{http.MethodPut, "/api/v1/admin/rooms/:id", RoomAdmin, s.withRoomAdmin(s.adminPutRoom)},
		{http.MethodGet, "/api/v1/admin/rooms/:id/future-bookings", RoomAdmin, s.withRoomAdmin(s.adminFutureBookings)},
		{http.MethodPost, importRoute, RoomAdmin, s.withRoomAdmin(s.adminImport)},
	}
}

// importRoute takes a room's calendar export, up to maxImportBytes.
const (
	importRoute    = "/api/v1/admin/rooms/:id/import"
	maxImportBytes = 8 << 20
)

// largerBodies are the routes whose bodies may exceed maxBodyBytes.
var largerBodies = map[string]int64{importRoute: maxImportBytes}

type importInput struct {
	ICS    string `json:"ics"`
	DryRun bool   `json:"dry_run"`
}

type importLineJSON struct {
	UID       string     `json:"uid"`
	Title     string     `json:"title"`
	Start     string     `json:"start"`
	End       string     `json:"end"`
	Recurring bool       `json:"recurring"`
	With      []busyJSON `json:"with,omitempty"`
}

type importProblemJSON struct {
	UID    string `json:"uid,omitempty"`
	Reason string `json:"reason"`
}

type importReportJSON struct {
	DryRun     bool                `json:"dry_run"`
	Imported   []importLineJSON    `json:"imported"`
	Existing   []importLineJSON    `json:"existing"`
	Clashes    []importLineJSON    `json:"clashes"`
	Unreadable []importProblemJSON `json:"unreadable"`
}

func importLines(ls []booking.ImportLine) []importLineJSON {
	out := []importLineJSON{}
	for _, l := range ls {
		j := importLineJSON{UID: l.UID, Title: l.Title, Start: l.Start.Format(time.RFC3339), End: l.End.Format(time.RFC3339), Recurring: l.Recurring}
		for _, b := range l.With {
			j.With = append(j.With, busyToJSON(b, true))
		}
		out = append(out, j)
	}
	return out
}

// adminImport imports a room's calendar export (dry_run: says what would
// happen and writes nothing).
func (s *Server) adminImport(c *gin.Context) {
	m, _ := member(c)
	var in importInput
	if err := readJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if strings.TrimSpace(in.ICS) == "" {
		writeError(c, invalid("ics : le contenu du fichier .ics est obligatoire. / ics: the .ics file's content is required."))
		return
	}
	rep, err := s.opts.Bookings.Import(c.Request.Context(), m, c.Param("id"), []byte(in.ICS), in.DryRun)
	if err != nil {
		s.adminError(c, err)
		return
	}
	if !rep.DryRun && len(rep.Imported) > 0 {
		if err := s.opts.RoomAdmin.NoteImport(c.Request.Context(), m, c.Param("id"), len(rep.Imported), len(rep.Clashes)); err != nil {
			s.log.WarnContext(c.Request.Context(), "import not noted in the room's history", "room", c.Param("id"), "err", err)
		}
	}
	out := importReportJSON{DryRun: rep.DryRun, Imported: importLines(rep.Imported), Existing: importLines(rep.Existing),
		Clashes: importLines(rep.Clashes), Unreadable: []importProblemJSON{}}
	for _, p := range rep.Unreadable {
		out.Unreadable = append(out.Unreadable, importProblemJSON{UID: p.UID, Reason: p.Reason})
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) withRoomAdmin(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.opts.RoomAdmin == nil {
			renderProblem(c, problem(http.StatusNotFound, CodeNotFound, "Cette adresse n'existe pas. / No such route."))
			return
		}
		h(c)
	}
}

func (s *Server) adminListRooms(c *gin.Context) {
	m, _ := member(c)
	out := []adminRoomJSON{}
	for _, st := range s.opts.RoomAdmin.Administered(m) {
		out = append(out, toAdminRoomJSON(st))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) adminGetRoom(c *gin.Context) {
	m, _ := member(c)
	st, err := s.opts.RoomAdmin.Get(c.Request.Context(), m, c.Param("id"))
	if err != nil {
		s.adminError(c, err)
		return
	}
	c.JSON(http.StatusOK, toAdminRoomJSON(st))
}

func (s *Server) adminCreateRoom(c *gin.Context) {
	m, _ := member(c)
	var in adminRoomInput
	if err := readJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	r, err := in.room()
	if err != nil {
		writeError(c, err)
		return
	}
	st, err := s.opts.RoomAdmin.Create(c.Request.Context(), m, r)
	if err != nil {
		s.adminError(c, err)
		return
	}
	c.Header("Location", "/api/v1/admin/rooms/"+st.Room.ID)
	c.JSON(http.StatusCreated, toAdminRoomJSON(st))
}

func (s *Server) adminPutRoom(c *gin.Context) {
	m, _ := member(c)
	var in adminRoomInput
	if err := readJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if in.Revision == nil {
		writeError(c, invalid("revision est obligatoire : celle de la salle telle que vous l'avez lue. / revision is required: the one of the room as you read it."))
		return
	}
	if in.ID != "" && in.ID != c.Param("id") {
		writeError(c, invalid("L'identifiant d'une salle ne change pas. / A room's id does not change."))
		return
	}
	r, err := in.room()
	if err != nil {
		writeError(c, err)
		return
	}
	st, cancelled, err := s.opts.RoomAdmin.Update(c.Request.Context(), m, c.Param("id"), *in.Revision, r,
		booking.Retirement{CancelFuture: in.CancelFuture, Reason: in.CancelReason})
	if err != nil {
		s.adminError(c, err)
		return
	}
	out := toAdminRoomJSON(st)
	if in.CancelFuture {
		list := futureJSON(cancelled)
		out.Cancelled = &list
	}
	c.JSON(http.StatusOK, out)
}

// adminFutureBookings lists the bookings a retirement of the room would
// cancel.
func (s *Server) adminFutureBookings(c *gin.Context) {
	m, _ := member(c)
	list, err := s.opts.RoomAdmin.FutureBookings(c.Request.Context(), m, c.Param("id"))
	if err != nil {
		s.adminError(c, err)
		return
	}
	c.JSON(http.StatusOK, futureListJSON{Count: len(list), Bookings: futureJSON(list)})
}
