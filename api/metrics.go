package api

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
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
	fmt.Fprintln(w, "# HELP roomcal_availability_memo_total Availability answers by memo and result. memo=answer: the booking service's answers (hit: given again; miss: made and kept; uncached: made, not reusable: a live hold in it, or read straight from a calendar). memo=encoded: their encoded bodies (hit: served without encoding or compressing; miss: encoded or compressed, and kept; uncached: made for an answer that is not reusable).")
	fmt.Fprintln(w, "# TYPE roomcal_availability_memo_total counter")
	e := &s.encoded
	var bst booking.Stats
	if s.opts.Bookings != nil {
		bst = s.opts.Bookings.Stats()
		writeMemo(w, "answer", bst.AnswerHits, bst.AnswerMisses, bst.AnswerUncached)
	}
	writeMemo(w, "encoded", e.hits.Load(), e.misses.Load(), e.uncached.Load())
	fmt.Fprintln(w, "# HELP roomcal_availability_encodings_total Availability bodies made: JSON encodings (step=json) and gzip compressions (step=gzip).")
	fmt.Fprintln(w, "# TYPE roomcal_availability_encodings_total counter")
	fmt.Fprintf(w, "roomcal_availability_encodings_total{step=\"json\"} %d\n", e.encodes.Load())
	fmt.Fprintf(w, "roomcal_availability_encodings_total{step=\"gzip\"} %d\n", e.compressions.Load())
	if s.opts.Bookings != nil || s.opts.Events != nil {
		fmt.Fprintln(w, "# HELP roomcal_sync_seconds Time taken by the sync passes this process made: over one room's calendar (pass=room), over every room in turn (pass=rooms), over the events calendar (pass=events).")
		fmt.Fprintln(w, "# TYPE roomcal_sync_seconds histogram")
	}
	if s.opts.Bookings != nil {
		writeHistogram(w, "roomcal_sync_seconds", `pass="room"`, bst.RoomSyncs)
		writeHistogram(w, "roomcal_sync_seconds", `pass="rooms"`, bst.SyncPasses)
	}
	if s.opts.Events != nil {
		writeHistogram(w, "roomcal_sync_seconds", `pass="events"`, s.opts.Events.SyncTimes())
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
		fmt.Fprintln(w, "# HELP roomcal_event_writes_unknown_total Event writes whose answer was lost; their outcome was learnt by reading the object back.")
		fmt.Fprintln(w, "# TYPE roomcal_event_writes_unknown_total counter")
		fmt.Fprintf(w, "roomcal_event_writes_unknown_total %d\n", st.Unknown)
	}
	if s.opts.Notices != nil {
		st := s.opts.Notices.NoticeCounts()
		fmt.Fprintln(w, "# HELP roomcal_notices_total Notices by outcome: sent (accepted by the SMTP server, digests included), failed (a send that failed; tried again), retried (a send after a failure), grouped (a change folded into a notice already waiting), skipped_no_address (the member has no e-mail address), deferred (held back for the daily digest by the daily cap), digests (daily digests sent), pruned (told notices deleted from the outbox).")
		fmt.Fprintln(w, "# TYPE roomcal_notices_total counter")
		for _, outcome := range []string{"sent", "failed", "retried", "grouped", "skipped_no_address", "deferred", "digests", "pruned"} {
			fmt.Fprintf(w, "roomcal_notices_total{outcome=%q} %d\n", outcome, st[outcome])
		}
	}
}

// NoticeStats gives the notices worker's counters by outcome (sent,
// failed, retried, grouped, skipped_no_address, deferred, digests,
// pruned).
type NoticeStats interface {
	NoticeCounts() map[string]int64
}

// writeMemo writes one memo's lines of roomcal_availability_memo_total.
func writeMemo(w io.Writer, memo string, hits, misses, uncached int64) {
	for _, r := range []struct {
		result string
		n      int64
	}{{"hit", hits}, {"miss", misses}, {"uncached", uncached}} {
		fmt.Fprintf(w, "roomcal_availability_memo_total{memo=%q,result=%q} %d\n", memo, r.result, r.n)
	}
}

// writeHistogram writes the samples of one histogram series (labels
// without braces, e.g. `pass="room"`): its buckets in seconds, +Inf,
// sum and count.
func writeHistogram(w io.Writer, name, labels string, t booking.TimingsSnapshot) {
	for i, bound := range booking.TimingBounds {
		fmt.Fprintf(w, "%s_bucket{%s,le=\"%s\"} %d\n", name, labels, strconv.FormatFloat(bound.Seconds(), 'g', -1, 64), t.Cumulative[i])
	}
	fmt.Fprintf(w, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, labels, t.Count)
	fmt.Fprintf(w, "%s_sum{%s} %s\n", name, labels, strconv.FormatFloat(t.Sum.Seconds(), 'g', -1, 64))
	fmt.Fprintf(w, "%s_count{%s} %d\n", name, labels, t.Count)
}
