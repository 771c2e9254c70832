package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

type siteJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
}

type roomJSON struct {
	ID        string   `json:"id"`
	Site      string   `json:"site"`
	Name      string   `json:"name"`
	Capacity  int      `json:"capacity"`
	Equipment []string `json:"equipment"`
	FeedURL   string   `json:"feed_url"`
}

type roomDetailJSON struct {
	roomJSON
	Timezone      string         `json:"timezone"`
	Description   string         `json:"description,omitempty"`
	Directions    string         `json:"directions,omitempty"`
	Accessibility []string       `json:"accessibility"`
	Rules         rulesJSON      `json:"rules"`
	Hours         map[string]any `json:"opening_hours"`
	Closures      []closureJSON  `json:"closures"`
}

// rulesJSON gives durations in whole minutes; 0 means no limit
// (max_duration, max_ahead) or none (min_notice, buffer).
type rulesJSON struct {
	MaxDurationMinutes int      `json:"max_duration_minutes"`
	MinNoticeMinutes   int      `json:"min_notice_minutes"`
	MaxAheadDays       float64  `json:"max_ahead_days"`
	BufferMinutes      int      `json:"buffer_minutes"`
	AllowedGroups      []string `json:"allowed_groups"`
}

type closureJSON struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
}

type rangeJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

var weekdayKeys = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func (s *Server) listSites(c *gin.Context) {
	out := []siteJSON{}
	for _, site := range s.opts.Catalog.Sites() {
		out = append(out, siteJSON{ID: site.ID, Name: site.Name, Timezone: site.Location.String()})
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) listRooms(c *gin.Context) {
	f := booking.RoomFilter{Site: c.Query("site")}
	if v := c.Query("min_capacity"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(c, invalid("min_capacity doit être un nombre entier positif. / min_capacity must be a non-negative whole number."))
			return
		}
		f.MinCapacity = n
	}
	for _, v := range c.QueryArray("equipment") {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				f.Equipment = append(f.Equipment, item)
			}
		}
	}
	rooms, err := s.opts.Catalog.Rooms(f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := []roomJSON{}
	for _, r := range rooms {
		out = append(out, toRoomJSON(r))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getRoom(c *gin.Context) {
	r, err := s.opts.Catalog.Room(c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	site, err := s.opts.Catalog.Site(r.SiteID)
	if err != nil {
		writeError(c, err)
		return
	}
	d := roomDetailJSON{
		roomJSON:      toRoomJSON(r),
		Timezone:      site.Location.String(),
		Description:   r.Description,
		Directions:    r.Directions,
		Accessibility: nonNil(r.Accessibility),
		Rules:         toRulesJSON(r.Rules),
		Hours:         hoursJSON(r.Hours),
		Closures:      []closureJSON{},
	}
	for _, cl := range r.Hours.Closures {
		d.Closures = append(d.Closures, closureJSON{From: cl.From.String(), To: cl.To.String(), Reason: cl.Reason})
	}
	c.JSON(http.StatusOK, d)
}

// hoursJSON lists each weekday's ranges; an empty Weekly means open around
// the clock, said as "always": true.
func hoursJSON(h booking.OpeningHours) map[string]any {
	out := map[string]any{}
	if len(h.Weekly) == 0 {
		out["always"] = true
		return out
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		ranges := []rangeJSON{}
		for _, tr := range h.Weekly[d] {
			ranges = append(ranges, rangeJSON{From: tr.From.String(), To: tr.To.String()})
		}
		out[weekdayKeys[d]] = ranges
	}
	return out
}

func toRoomJSON(r booking.Room) roomJSON {
	return roomJSON{
		ID:        r.ID,
		Site:      r.SiteID,
		Name:      r.Name,
		Capacity:  r.Capacity,
		Equipment: nonNil(r.Equipment),
		FeedURL:   "/feeds/rooms/" + r.ID + ".ics",
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// busyJSON is a busy interval as clients see it.
type busyJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
	Kind  string `json:"kind"`
	Title string `json:"title,omitempty"`
	// Pending: a request waiting for approval; it holds the slot.
	Pending bool `json:"pending,omitempty"`
}

func busyToJSON(b booking.Busy, withTitle bool) busyJSON {
	j := busyJSON{Start: b.Start.Format(time.RFC3339), End: b.End.Format(time.RFC3339), Kind: clientKind(b.Kind), Pending: b.Pending}
	if withTitle {
		j.Title = b.Title
	}
	return j
}
