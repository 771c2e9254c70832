package api

import (
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/gin-gonic/gin"
)

// metrics are the counters /metrics exposes in the Prometheus text
// format. They count what this process saw; Prometheus sums replicas.
type metrics struct {
	requests [6]atomic.Int64 // by status class: 1xx … 5xx (index 1…5)
}

func (m *metrics) count(status int) {
	if c := status / 100; c >= 1 && c <= 5 {
		m.requests[c].Add(1)
	}
}

func (s *Server) metrics(c *gin.Context) {
	c.Header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w := c.Writer
	w.WriteHeader(http.StatusOK)
	fmt.Fprintln(w, "# HELP roomcal_http_requests_total HTTP requests answered, by status class.")
	fmt.Fprintln(w, "# TYPE roomcal_http_requests_total counter")
	for class := 1; class <= 5; class++ {
		fmt.Fprintf(w, "roomcal_http_requests_total{class=\"%dxx\"} %d\n", class, s.stats.requests[class].Load())
	}
	if s.opts.Bookings != nil {
		fmt.Fprintln(w, "# HELP roomcal_calendar_overlaps_total Overlaps between busy intervals found by sync passes (calendars edited outside roomcal).")
		fmt.Fprintln(w, "# TYPE roomcal_calendar_overlaps_total counter")
		fmt.Fprintf(w, "roomcal_calendar_overlaps_total %d\n", s.opts.Bookings.ConflictsSeen())
	}
	if s.opts.Events != nil {
		st := s.opts.Events.Stats()
		fmt.Fprintln(w, "# HELP roomcal_event_writes_total Conditional PUTs of event objects (each carries every decision pending at the time).")
		fmt.Fprintln(w, "# TYPE roomcal_event_writes_total counter")
		fmt.Fprintf(w, "roomcal_event_writes_total %d\n", st.Writes)
		fmt.Fprintln(w, "# HELP roomcal_event_write_conflicts_total Event writes that found another version (412) and were made again.")
		fmt.Fprintln(w, "# TYPE roomcal_event_write_conflicts_total counter")
		fmt.Fprintf(w, "roomcal_event_write_conflicts_total %d\n", st.Stale)
		fmt.Fprintln(w, "# HELP roomcal_event_rollbacks_total Times pending event decisions were undone because the calendar could not be written.")
		fmt.Fprintln(w, "# TYPE roomcal_event_rollbacks_total counter")
		fmt.Fprintf(w, "roomcal_event_rollbacks_total %d\n", st.Rollbacks)
	}
}
