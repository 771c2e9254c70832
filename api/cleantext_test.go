package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestWritesAnswerWhatIsStored: titles, descriptions and locations with
// NUL, CR LF and bidirectional controls are stored cleaned, and the
// answer to the write shows the stored text, not the text sent.
func TestWritesAnswerWhatIsStored(t *testing.T) {
	f := newPolicyFixture(t)
	ctx := context.Background()
	const (
		sentTitle  = "  Réunion\x00 budget\r\n\u202egnp.exe\u202c\u2066x\u2069\u200f "
		storedT    = "Réunion budget\ngnp.exex"
		sentDesc   = "ligne 1\r\nligne 2\rfin\x07\u061c\u200e\u202a!"
		storedDesc = "ligne 1\nligne 2\nfin!"
	)
	field := func(v string) string { b, _ := json.Marshal(v); return string(b) }
	start, end := f.slot()
	resp, body := f.call(t, asOwner, http.MethodPost, "/api/v1/bookings", fmt.Sprintf(`{"room":"loire","start":%q,"end":%q,"title":%s,"description":%s}`,
		start.Format(time.RFC3339), end.Format(time.RFC3339), field(sentTitle), field(sentDesc)), false)
	var b struct{ ID, Title, Description string }
	if resp.StatusCode != 201 || json.Unmarshal(body, &b) != nil {
		t.Fatalf("create booking: %d %s", resp.StatusCode, body)
	}
	stored, err := f.bookings.Get(ctx, *roleMembers[asOwner], b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][3]string{{"answer title", b.Title, storedT}, {"stored title", stored.Title, storedT},
		{"answer description", b.Description, storedDesc}, {"stored description", stored.Description, storedDesc}} {
		if c[1] != c[2] {
			t.Errorf("booking %s %q, want %q", c[0], c[1], c[2])
		}
	}

	resp, body = f.call(t, asOwner, http.MethodPatch, "/api/v1/bookings/"+b.ID, `{"title":`+field(sentTitle)+`,"description":`+field(sentDesc)+`}`, false)
	if resp.StatusCode != 200 || json.Unmarshal(body, &b) != nil || b.Title != storedT || b.Description != storedDesc {
		t.Errorf("move booking: %d %s, want title %q", resp.StatusCode, body, storedT)
	}

	es := start.AddDate(0, 0, 7)
	resp, body = f.call(t, asOrga, http.MethodPost, "/api/v1/events", fmt.Sprintf(`{"title":%s,"description":%s,"location":%s,"start":%q,"end":%q,"capacity":4}`,
		field(sentTitle), field(sentDesc), field("Hall\u202e A"), es.Format(time.RFC3339), es.Add(time.Hour).Format(time.RFC3339)), false)
	var ev struct{ ID, Title, Description, Location string }
	if resp.StatusCode != 201 || json.Unmarshal(body, &ev) != nil {
		t.Fatalf("create event: %d %s", resp.StatusCode, body)
	}
	v, err := f.events.Get(ctx, *roleMembers[asOrga], ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][3]string{{"answer title", ev.Title, storedT}, {"stored title", v.Event.Title, storedT},
		{"answer description", ev.Description, storedDesc}, {"stored description", v.Event.Description, storedDesc},
		{"answer location", ev.Location, "Hall A"}, {"stored location", v.Event.Location, "Hall A"}} {
		if c[1] != c[2] {
			t.Errorf("event %s %q, want %q", c[0], c[1], c[2])
		}
	}
	resp, body = f.call(t, asOrga, http.MethodPatch, "/api/v1/events/"+ev.ID, `{"title":`+field(sentTitle)+`}`, false)
	if resp.StatusCode != 200 || json.Unmarshal(body, &ev) != nil || ev.Title != storedT {
		t.Errorf("change event: %d %s, want title %q", resp.StatusCode, body, storedT)
	}
	if strings.ContainsAny(storedT+storedDesc, "\x00\r\u202e") {
		t.Fatal("the expected texts themselves are not clean")
	}
}
