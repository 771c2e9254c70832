package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// TestOthersBookings: another member sees when a room is taken, by whom
// and (unless the site hides titles) what for, never the description or
// the organiser's e-mail; the organiser and admins see everything. In a
// site that hides titles, neither a booking, the list nor the
// availability gives another's title.
func TestOthersBookings(t *testing.T) {
	for _, hide := range []bool{false, true} {
		t.Run(map[bool]string{false: "titles shown", true: "titles hidden"}[hide], func(t *testing.T) {
			f := newPolicyFixture(t, func(s *booking.Site) { s.HideTitles = hide })
			owner := *roleMembers[asOwner]
			owner.Email = "owen@example.org"
			start, end := f.slot()
			b, err := f.bookings.Book(context.Background(), owner, booking.Request{
				Room: "loire", Start: start, End: end, Title: "Entretien annuel", Description: "Code de la porte : 4512",
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				role       int
				everything bool
			}{{asMember, false}, {asOrga, false}, {asOwner, true}, {asAdmin, true}} {
				resp, body := f.call(t, tt.role, http.MethodGet, "/api/v1/bookings/"+b.ID, "", false)
				var got bookingJSON
				if resp.StatusCode != 200 || json.Unmarshal(body, &got) != nil {
					t.Fatalf("%s: %d %s", roleNames[tt.role], resp.StatusCode, body)
				}
				wantTitle := "Entretien annuel"
				if hide && !tt.everything {
					wantTitle = ""
				}
				if got.Title != wantTitle || got.Organizer.Name != owner.Name || got.Organizer.ID != owner.ID {
					t.Errorf("%s sees title %q by %+v; want %q by %s", roleNames[tt.role], got.Title, got.Organizer, wantTitle, owner.Name)
				}
				if tt.everything != (got.Description != "" && got.Organizer.Email != "") {
					t.Errorf("%s sees description %q, e-mail %q", roleNames[tt.role], got.Description, got.Organizer.Email)
				}
				if !tt.everything && (strings.Contains(string(body), "4512") || strings.Contains(string(body), "owen@")) {
					t.Errorf("%s's answer holds the description or the e-mail: %s", roleNames[tt.role], body)
				}

				q := url.Values{"room": {"loire"}, "from": {start.Format(time.RFC3339)}, "to": {end.Format(time.RFC3339)}}
				resp, body = f.call(t, tt.role, http.MethodGet, "/api/v1/bookings?"+q.Encode(), "", false)
				var list []bookingItemJSON
				if resp.StatusCode != 200 || json.Unmarshal(body, &list) != nil || len(list) != 1 || list[0].Title != wantTitle {
					t.Errorf("%s lists %d %s; want one booking titled %q", roleNames[tt.role], resp.StatusCode, body, wantTitle)
				}
			}
			q := url.Values{"site": {"nantes"}, "from": {start.Format(time.RFC3339)}, "to": {end.Format(time.RFC3339)}}
			_, body := f.call(t, asMember, http.MethodGet, "/api/v1/availability?"+q.Encode(), "", false)
			if strings.Contains(string(body), "Entretien") == hide {
				t.Errorf("availability (titles hidden: %v): %s", hide, body)
			}
		})
	}
}
