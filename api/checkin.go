package api

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	qr "github.com/piglig/go-qr"
)

// checkIn answers POST /api/v1/bookings/:id/checkin: "Je suis là".
func (s *Server) checkIn(c *gin.Context) {
	m, _ := member(c)
	b, err := s.opts.Bookings.CheckIn(c.Request.Context(), m, c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toBookingJSON(b))
}

type noShowJSON struct {
	Member string `json:"member"`
	Name   string `json:"name"` // "" when it could not be read
	Count  int    `json:"count"`
	Last   string `json:"last"`
}

// noShowDays is how far back GET /api/v1/noshows counts.
const noShowDays = 90

// listNoShows answers GET /api/v1/noshows (admins): the bookings released
// for want of a check-in over the last 90 days, per member, most first.
func (s *Server) listNoShows(c *gin.Context) {
	m, _ := member(c)
	list, err := s.opts.Bookings.NoShows(c.Request.Context(), m, noShowDays)
	if err != nil {
		writeError(c, err)
		return
	}
	out := []noShowJSON{}
	for _, n := range list {
		out = append(out, noShowJSON{Member: n.Member, Name: n.Name, Count: n.Count, Last: n.Last.Format(time.RFC3339)})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// checkInURL is the address of room's check-in page, which the QR code
// on its door opens: under PublicURL, else the address the request came
// to.
func (s *Server) checkInURL(c *gin.Context, room string) string {
	base := strings.TrimSuffix(s.opts.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	return base + "/salles/" + url.PathEscape(room) + "/presence"
}

// roomQR answers GET /salles/:id/qr.svg: the QR code to print for the
// room's door, as SVG, drawn on the server (github.com/piglig/go-qr, a
// port of Nayuki's QR Code generator), with the quiet zone of four
// modules scanners need.
func (s *Server) roomQR(c *gin.Context) {
	room := c.Param("id")
	if _, err := s.opts.Catalog.Room(room); err != nil {
		writeError(c, err)
		return
	}
	code, err := qr.EncodeText(s.checkInURL(c, room), qr.Medium)
	if err != nil {
		writeError(c, err)
		return
	}
	var buf bytes.Buffer
	if err := code.WriteAsSVG(qr.NewQrCodeImgConfig(8, 32), &buf); err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/svg+xml", buf.Bytes())
}
