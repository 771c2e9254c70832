package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// requestJSON is a request waiting for approval, as its approvers see it.
type requestJSON struct {
	ID        string `json:"id"`
	Room      string `json:"room"`
	RoomName  string `json:"room_name"`
	Site      string `json:"site"`
	Start     string `json:"start"`
	End       string `json:"end"`
	Title     string `json:"title"`
	Organizer string `json:"organizer"`
	// OrganizerName is the requester's name ("" when unknown).
	OrganizerName string `json:"organizer_name"`
}

// listRequests answers GET /api/v1/requests: the requests waiting in the
// rooms whose requests the member answers (none for anyone else).
func (s *Server) listRequests(c *gin.Context) {
	m, _ := member(c)
	list, err := s.opts.Bookings.Requests(c.Request.Context(), m)
	if err != nil {
		writeError(c, err)
		return
	}
	out := []requestJSON{}
	for _, r := range list {
		out = append(out, requestJSON{
			ID: r.Ref, Room: r.Room.ID, RoomName: r.Room.Name, Site: r.SiteID, Title: r.Title, Organizer: r.Organizer, OrganizerName: r.OrganizerName,
			Start: r.Start.Format(time.RFC3339), End: r.End.Format(time.RFC3339),
		})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// acceptRequest answers POST /api/v1/requests/:id/accept.
func (s *Server) acceptRequest(c *gin.Context) {
	m, _ := member(c)
	b, err := s.opts.Bookings.Decide(c.Request.Context(), m, c.Param("id"), true, "")
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toBookingJSON(b))
}

type refusalJSON struct {
	Reason string `json:"reason"`
}

// refuseRequest answers POST /api/v1/requests/:id/refuse {reason}.
func (s *Server) refuseRequest(c *gin.Context) {
	var req refusalJSON
	if err := readJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	m, _ := member(c)
	if _, err := s.opts.Bookings.Decide(c.Request.Context(), m, c.Param("id"), false, req.Reason); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
