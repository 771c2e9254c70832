package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// quotaJSON is what is left of one quota for the member asking (GET
// /api/v1/me/quotas). Limits of 0 are no limit. The page writes "il vous
// reste 3 h cette semaine à Nantes" from left_week_minutes and site_name.
type quotaJSON struct {
	Scope           string    `json:"scope"` // site or room
	Site            string    `json:"site"`
	SiteName        string    `json:"site_name"`
	Room            string    `json:"room,omitempty"`
	RoomName        string    `json:"room_name,omitempty"`
	Rooms           []string  `json:"rooms"` // the rooms whose bookings count
	WeekStart       time.Time `json:"week_start"`
	PerWeekMinutes  int       `json:"per_week_minutes"`
	UsedWeekMinutes int       `json:"used_week_minutes"`
	LeftWeekMinutes int       `json:"left_week_minutes"`
	Ahead           int       `json:"ahead"`
	UsedAhead       int       `json:"used_ahead"`
	LongestMinutes  int       `json:"longest_minutes"`
}

func (s *Server) myQuotas(c *gin.Context) {
	m, _ := member(c)
	list, err := s.opts.Bookings.Quotas(c.Request.Context(), m)
	if err != nil {
		writeError(c, err)
		return
	}
	out := []quotaJSON{}
	for _, q := range list {
		out = append(out, quotaJSON{
			Scope: string(q.Scope), Site: q.SiteID, SiteName: q.Site, Room: q.RoomID, RoomName: q.Room, Rooms: nonNil(q.Rooms),
			WeekStart:      q.Week.Start,
			PerWeekMinutes: int(q.PerWeek / time.Minute), UsedWeekMinutes: int(q.UsedWeek / time.Minute),
			LeftWeekMinutes: int(q.LeftWeek() / time.Minute),
			Ahead:           q.Ahead, UsedAhead: q.UsedAhead, LongestMinutes: int(q.Longest / time.Minute),
		})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"quotas": out})
}
