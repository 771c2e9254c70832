package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
)

// Calendar feeds that calendar apps subscribe to (webcal://). Room and
// site feeds show busy times only, titles hidden: who meets about what is
// not public. The events feed shows the internal events, cancelled ones
// as STATUS:CANCELLED so that subscribed calendars drop them. Feeds are
// read from the cache, carry a VTIMEZONE for every TZID they use, and
// answer conditional GETs (ETag, If-None-Match → 304). The handlers
// compose booking.FeedEntry values; a FeedEncoder writes them.

// FeedEncoder writes a calendar feed: name and entries in, the body of a
// text/calendar answer out, with a VTIMEZONE for every time zone the
// entries use. The same input gives the same bytes (the feed's ETag is
// their hash). An error means the entries cannot be written (a bug, or
// data no calendar can hold); it must be safe for concurrent use. The
// iCalendar adapter (caldav.FeedEncoder) implements it.
type FeedEncoder interface {
	Encode(name string, entries []booking.FeedEntry) ([]byte, error)
}

// feedID strips the ".ics" of a feed's last path segment.
func feedID(c *gin.Context) (string, bool) {
	id, ok := strings.CutSuffix(c.Param("file"), ".ics")
	return id, ok && id != ""
}

// busyEntry is one busy interval as a feed entry, titled title (the
// booking's own title is not shown unless title is it).
// A request waiting for approval says so.
func busyEntry(b booking.Busy, loc *time.Location, title, location string, stamp time.Time) booking.FeedEntry {
	if b.Pending {
		title += " (en attente de validation)"
	}
	return booking.FeedEntry{
		// One entry per occurrence: a recurring booking's instances are
		// listed one by one (busy times, not the series).
		UID:      fmt.Sprintf("%s-%d@roomcal", b.Ref, b.Start.Unix()),
		Title:    title,
		Location: location,
		Start:    b.Start.In(loc),
		End:      b.End.In(loc),
		Stamp:    stamp,
	}
}

func (s *Server) roomFeed(c *gin.Context) {
	id, ok := feedID(c)
	if !ok {
		writeError(c, problem(http.StatusNotFound, CodeNotFound, "Flux inconnu. / No such feed."))
		return
	}
	from, to := s.opts.Bookings.FeedRange()
	room, site, busy, err := s.opts.Bookings.RoomBusy(c.Request.Context(), id, from, to)
	if err != nil {
		writeError(c, err)
		return
	}
	evs := make([]booking.FeedEntry, 0, len(busy))
	for _, b := range busy {
		evs = append(evs, busyEntry(b, site.Location, "Occupé", room.Name, from))
	}
	s.writeFeed(c, room.Name+" — "+site.Name, evs, "public")
}

func (s *Server) siteFeed(c *gin.Context) {
	id, ok := feedID(c)
	if !ok {
		writeError(c, problem(http.StatusNotFound, CodeNotFound, "Flux inconnu. / No such feed."))
		return
	}
	site, err := s.opts.Catalog.Site(id)
	if err != nil {
		writeError(c, err)
		return
	}
	rooms, err := s.opts.Catalog.Rooms(booking.RoomFilter{Site: id})
	if err != nil {
		writeError(c, err)
		return
	}
	from, to := s.opts.Bookings.FeedRange()
	var evs []booking.FeedEntry
	for _, r := range rooms {
		_, _, busy, err := s.opts.Bookings.RoomBusy(c.Request.Context(), r.ID, from, to)
		if err != nil {
			writeError(c, err)
			return
		}
		for _, b := range busy {
			evs = append(evs, busyEntry(b, site.Location, "Occupé — "+r.Name, r.Name, from))
		}
	}
	s.writeFeed(c, "Salles — "+site.Name, evs, "public")
}

func (s *Server) eventsFeed(c *gin.Context) {
	from, to := s.opts.Bookings.FeedRange()
	list, err := s.opts.Events.List(c.Request.Context(), from, to)
	if err != nil {
		writeError(c, err)
		return
	}
	evs := make([]booking.FeedEntry, 0, len(list))
	base := s.baseURL(c)
	for _, sm := range list {
		evs = append(evs, eventEntry(sm, s.eventPlace(sm.Event), base, from))
	}
	s.writeFeed(c, "Événements", evs, "public")
}

// eventPlace is where an event is held, as its LOCATION says it: its
// room and the room's site ("Salle Loire, Nantes — Île de Nantes": a
// cooperative has several sites), else its free-text location.
func (s *Server) eventPlace(ev events.Event) string {
	if ev.Room == "" {
		return ev.Location
	}
	rm, err := s.opts.Catalog.Room(ev.Room)
	if err != nil {
		return ev.Location
	}
	if site, err := s.opts.Catalog.Site(rm.SiteID); err == nil {
		return rm.Name + ", " + site.Name
	}
	return rm.Name
}

// eventEntry is an internal event as the public feed shows it: no
// attendee; the seats left and the address of the event's page (base is
// roomcal's), where one registers, in the description; place is its
// LOCATION (eventPlace).
func eventEntry(sm events.Summary, place, base string, stamp time.Time) booking.FeedEntry {
	ev := sm.Event
	desc := ev.Description
	if !ev.Settings.Cancelled {
		left := ev.Settings.Capacity - sm.Confirmed
		if left < 0 {
			left = 0
		}
		seats := fmt.Sprintf("Places restantes : %d sur %d.", left, ev.Settings.Capacity)
		if desc != "" {
			desc += "\n\n"
		}
		desc += seats + "\nInscription : " + base + "/evenements/" + url.PathEscape(ev.ID)
	}
	return booking.FeedEntry{
		UID: ev.ID, Title: ev.Title, Description: desc, Location: place,
		Start: ev.Start, End: ev.End, Cancelled: ev.Settings.Cancelled, Stamp: stamp,
	}
}

// writeFeed encodes a feed and answers it, or 304 when the client has it;
// scope is "public" (shared caches may keep it) or "private" (only the
// subscriber's own client may).
func (s *Server) writeFeed(c *gin.Context, name string, evs []booking.FeedEntry, scope string) {
	body, err := s.opts.Feeds.Encode(name, evs)
	if err != nil {
		writeError(c, err)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	c.Header("ETag", etag)
	c.Header("Cache-Control", scope+", max-age=60")
	if match := c.GetHeader("If-None-Match"); match != "" && etagMatches(match, etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", body)
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, "*" matching anything).
func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		if p == "*" || strings.TrimPrefix(p, "W/") == etag {
			return true
		}
	}
	return false
}

// FeedTokens keeps the members' personal feed tokens (the CalDAV adapter
// implements it).
type FeedTokens interface {
	// Issue makes a new token for m, revoking the previous one.
	Issue(ctx context.Context, m booking.Member) (string, error)
	// Revoke removes memberID's token.
	Revoke(ctx context.Context, memberID string) error
	// Member says whose token this is; an error wrapping
	// booking.ErrNotFound when no one's (never issued, or revoked).
	Member(ctx context.Context, token string) (booking.Member, error)
	// Link says whether memberID has a token, and since when.
	Link(ctx context.Context, memberID string) (booking.FeedLink, error)
}

// feedLinkJSON is GET /api/v1/me/feed: whether the caller has a personal
// feed link and when it was made (the link itself is shown only when
// made).
type feedLinkJSON struct {
	Exists    bool   `json:"exists"`
	CreatedAt string `json:"created_at,omitempty"`
}

func (s *Server) feedLink(c *gin.Context) {
	m, _ := member(c)
	link, err := s.opts.FeedTokens.Link(c.Request.Context(), m.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, feedLinkJSON{Exists: link.Exists, CreatedAt: formatOptional(link.IssuedAt)})
}

type feedTokenJSON struct {
	URL string `json:"url"`
}

// issueFeedToken makes (or renews) the caller's personal feed token and
// answers its URL: the only time the token is shown.
func (s *Server) issueFeedToken(c *gin.Context) {
	m, _ := member(c)
	token, err := s.opts.FeedTokens.Issue(c.Request.Context(), m)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, feedTokenJSON{URL: s.baseURL(c) + "/feeds/me/" + token + ".ics"})
}

// baseURL is roomcal's address as members reach it: Options.PublicURL,
// else the request's scheme and Host.
func (s *Server) baseURL(c *gin.Context) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

func (s *Server) revokeFeedToken(c *gin.Context) {
	m, _ := member(c)
	if err := s.opts.FeedTokens.Revoke(c.Request.Context(), m.ID); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// personalFeed is the holder's bookings and registrations, with their
// titles: the token is the credential.
func (s *Server) personalFeed(c *gin.Context) {
	token, ok := feedID(c)
	if !ok {
		writeError(c, problem(http.StatusNotFound, CodeNotFound, "Flux inconnu. / No such feed."))
		return
	}
	m, err := s.opts.FeedTokens.Member(c.Request.Context(), token)
	if errors.Is(err, booking.ErrNotFound) {
		writeError(c, problem(http.StatusNotFound, CodeNotFound, "Ce lien d'abonnement n'est plus valable. / This feed link is no longer valid."))
		return
	}
	if err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	from, to := s.opts.Bookings.FeedRange()
	mine, err := s.opts.Bookings.List(ctx, booking.Filter{Organizer: m.ID, From: from, To: to})
	if err != nil {
		writeError(c, err)
		return
	}
	var evs []booking.FeedEntry
	for _, b := range mine {
		room, err := s.opts.Catalog.Room(booking.RoomOf(b.Ref))
		if err != nil {
			continue
		}
		loc := s.opts.Catalog.Zone(room.ID)
		ev := busyEntry(b, loc, b.Title, room.Name, from)
		ev.Private = true
		evs = append(evs, ev)
	}
	if s.opts.Events != nil {
		regs, err := s.opts.Events.MyRegistrations(ctx, m.ID, from, to)
		if err != nil {
			writeError(c, err)
			return
		}
		base := s.baseURL(c)
		for _, r := range regs {
			ev := eventEntry(r.Summary, s.eventPlace(r.Summary.Event), base, from)
			if r.Registration.Status == events.Waitlisted {
				ev.Title = fmt.Sprintf("[liste d'attente n°%d] %s", r.Registration.Position, ev.Title)
				ev.Free = true
			}
			ev.Private = true
			evs = append(evs, ev)
		}
	}
	c.Header("Referrer-Policy", "no-referrer")
	// One member's titles and registrations: no shared cache may keep
	// them (the token in the path is the only credential).
	s.writeFeed(c, "Mes réservations et inscriptions — "+m.Name, evs, "private")
}
