package main

import (
	"bytes"
	"testing"
	"time"
)

type noteAnswer struct {
	Key   string `json:"key"`
	Kind  string `json:"kind"`
	At    string `json:"at"`
	Event struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"event"`
}

// TestPromotedNoteSurvivesFlush: a member confirmed from the waiting
// list gets a "promoted" note (GET /api/v1/me/notes) dated like the
// promoted_at of their registration and the X-ROOMCAL-PROMOTED kept on
// Radicale; a FLUSHALL of Redis changes nothing of it; dismissed, it is
// gone, also after another FLUSHALL; the member who left and the one
// still waiting have none.
func TestPromotedNoteSurvivesFlush(t *testing.T) {
	b, redis := noticeBackend(t)
	ins := []*instance{newInstance(t, b, instanceOpts{preferences: true}), newInstance(t, b, instanceOpts{preferences: true})}
	id := ins[0].createEvent(t, map[string]any{"title": "Atelier vélo", "capacity": 1, "waitlist": true})
	first, second, third := memberNo(1), memberNo(2), memberNo(3)
	for _, p := range []person{first, second, third} {
		if a := ins[0].as(t, p, "POST", "/api/v1/events/"+id+"/registrations", nil, ""); a.status != 201 {
			t.Fatalf("register %s: %d %s", p.id, a.status, a.body)
		}
	}
	notes := func(in *instance, p person) ([]noteAnswer, []byte) {
		t.Helper()
		a := in.as(t, p, "GET", "/api/v1/me/notes", nil, "")
		if a.status != 200 {
			t.Fatalf("notes of %s: %d %s", p.id, a.status, a.body)
		}
		return decode[[]noteAnswer](t, a), a.body
	}
	if n, body := notes(ins[0], second); len(n) != 0 {
		t.Fatalf("notes of a member still waiting: %s", body)
	}

	before := time.Now().Truncate(time.Second)
	if a := ins[1].as(t, first, "DELETE", "/api/v1/events/"+id+"/registrations/me", nil, ""); a.status != 204 {
		t.Fatalf("unregister: %d %s", a.status, a.body)
	}
	after := time.Now()
	n, body := notes(ins[0], second)
	if len(n) != 1 || n[0].Kind != "promoted" || n[0].Event.ID != id || n[0].Event.Title != "Atelier vélo" || n[0].Key == "" {
		t.Fatalf("notes of the promoted member: %s", body)
	}
	at, err := time.Parse(time.RFC3339, n[0].At)
	if err != nil || at.Before(before.Add(-time.Second)) || at.After(after.Add(time.Second)) {
		t.Fatalf("note's at %q (%v), want between %s and %s", n[0].At, err, before, after)
	}
	ev := decode[struct {
		MyRegistration struct {
			Status     string `json:"status"`
			PromotedAt string `json:"promoted_at"`
		} `json:"my_registration"`
	}](t, ins[1].as(t, second, "GET", "/api/v1/events/"+id, nil, ""))
	if ev.MyRegistration.Status != "confirmed" || ev.MyRegistration.PromotedAt != n[0].At {
		t.Fatalf("my_registration %+v, want confirmed, promoted at %s", ev.MyRegistration, n[0].At)
	}
	for _, p := range []person{first, third} {
		if n, body := notes(ins[1], p); len(n) != 0 {
			t.Fatalf("notes of %s, not promoted: %s", p.id, body)
		}
	}
	// On the calendar server, with the registration.
	rec := onServer(t, b, id)
	found := false
	for _, r := range rec.Registrations {
		switch {
		case r.Member == second.id:
			found = true
			if !r.Promoted.Equal(at) {
				t.Errorf("on Radicale: %s promoted at %s, want %s", r.Member, r.Promoted, at)
			}
		case !r.Promoted.IsZero():
			t.Errorf("on Radicale: %s promoted at %s, want none", r.Member, r.Promoted)
		}
	}
	if !found {
		t.Fatalf("on Radicale: %s not registered: %+v", second.id, rec.Registrations)
	}

	flush := func() {
		t.Helper()
		redis.FlushAll(t)
	}
	flush()
	if again, againBody := notes(ins[1], second); !bytes.Equal(againBody, body) || len(again) != 1 {
		t.Fatalf("notes after FLUSHALL:\n before %s\n after  %s", body, againBody)
	}

	if a := ins[0].as(t, second, "PATCH", "/api/v1/me/preferences", map[string]any{"dismiss": n[0].Key}, ""); a.status != 200 {
		t.Fatalf("dismiss: %d %s", a.status, a.body)
	}
	if n, body := notes(ins[1], second); len(n) != 0 {
		t.Fatalf("notes once dismissed: %s", body)
	}
	flush()
	if n, body := notes(ins[0], second); len(n) != 0 {
		t.Fatalf("notes once dismissed, after FLUSHALL: %s", body)
	}
}
