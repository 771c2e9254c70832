package booking

import "testing"

func TestSeenBy(t *testing.T) {
	owner := Member{ID: "owen", Name: "Owen", Email: "owen@example.org"}
	b := Booking{ID: "loire_b1", Title: "Entretien", Description: "Code 4512", Organizer: owner}
	admin := Member{ID: "ada", Groups: []string{GroupAdmins}}
	other := Member{ID: "mia"}
	tests := []struct {
		name               string
		m                  Member
		hide               bool
		title, desc, email string
	}{
		{"organiser", owner, true, "Entretien", "Code 4512", "owen@example.org"},
		{"admin", admin, true, "Entretien", "Code 4512", "owen@example.org"},
		{"another member", other, false, "Entretien", "", ""},
		{"another member, titles hidden", other, true, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := b.SeenBy(tt.m, tt.hide)
			if got.Title != tt.title || got.Description != tt.desc || got.Organizer.Email != tt.email || got.Organizer.Name != "Owen" {
				t.Fatalf("seen %+v", got)
			}
			busy := Busy{Ref: b.ID, Kind: KindBooking, Title: b.Title, Organizer: owner.ID}.SeenBy(tt.m, tt.hide)
			if busy.Title != tt.title {
				t.Fatalf("busy title %q, want %q", busy.Title, tt.title)
			}
		})
	}
	if ev := (Busy{Kind: KindEvent, Title: "Assemblée"}).SeenBy(other, true); ev.Title != "Assemblée" {
		t.Fatalf("an event's title hidden: %+v", ev)
	}
}
