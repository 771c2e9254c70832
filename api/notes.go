package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/events"
)

// Notes are what the pages show a member on their next visit until they
// dismiss it (PATCH /api/v1/me/preferences {"dismiss": key}, kept in
// booking.Preferences.Dismissed): for now one kind, "promoted", a seat
// that came free for them on an upcoming event's waiting list.

// notesAhead is how far ahead the events of notes are looked for.
const notesAhead = 366 * 24 * time.Hour

// noteJSON is one note.
type noteJSON struct {
	// Key names the note for dismissing it: a new promotion (after
	// leaving and waiting again) is a new note.
	Key  string `json:"key"`
	Kind string `json:"kind"`
	// At is when it happened (the promotion, to the second).
	At    string        `json:"at"`
	Event noteEventJSON `json:"event"`
}

type noteEventJSON struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Start string `json:"start"`
	End   string `json:"end"`
	// Place is the room and site, or the event's location.
	Place string `json:"place,omitempty"`
	// Timezone is the clock the event is read on (its room's site's).
	Timezone string `json:"timezone"`
}

// promotedKey is the dismiss key of member's promotion to event at at.
// It is stable across a flush of the gate: the calendar keeps the
// promotion to the second.
func promotedKey(event string, at time.Time) string {
	key := "promoted:" + event + ":" + strconv.FormatInt(at.Unix(), 10)
	if len(key) > 100 { // a preference key's limit (booking.Preferences.Dismiss)
		sum := sha256.Sum256([]byte(event))
		key = "promoted:" + hex.EncodeToString(sum[:16]) + ":" + strconv.FormatInt(at.Unix(), 10)
	}
	return key
}

// myNotes lists the member's notes not dismissed, soonest event first.
func (s *Server) myNotes(c *gin.Context) {
	m, _ := member(c)
	ctx := c.Request.Context()
	p, err := s.opts.Preferences.Preferences(ctx, m.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	out := []noteJSON{}
	if s.opts.Events != nil {
		now := time.Now()
		regs, err := s.opts.Events.MyRegistrations(ctx, m.ID, now, now.Add(notesAhead))
		if err != nil {
			writeError(c, err)
			return
		}
		for _, r := range regs {
			ev := r.Summary.Event
			if r.Registration.Status != events.Confirmed || r.Registration.Promoted.IsZero() || ev.Settings.Cancelled {
				continue
			}
			key := promotedKey(ev.ID, r.Registration.Promoted)
			if p.HasDismissed(key) {
				continue
			}
			out = append(out, noteJSON{
				Key: key, Kind: "promoted", At: r.Registration.Promoted.Truncate(time.Second).Format(time.RFC3339),
				Event: noteEventJSON{ID: ev.ID, Title: ev.Title, Start: ev.Start.Format(time.RFC3339),
					End: ev.End.Format(time.RFC3339), Place: s.eventPlace(ev), Timezone: s.eventZone(ev).String()},
			})
		}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}
