package caldav_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
)

// TestFeedTokens: a token names its member, only its hash is stored, a
// new token revokes the old one, and a revoked token names no one; on
// the embedded store and on Radicale.
func TestFeedTokens(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, _ *caldav.EventCalendar) {
		ctx := t.Context()
		ft := caldav.NewFeedTokens(s, evCal)
		m := booking.Member{ID: "amina:42", Name: "Amina Diallo, Nantes", Email: "amina@example.org"}
		first, err := ft.Issue(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) < 22 {
			t.Fatalf("token %q: fewer than 128 bits", first)
		}
		got, err := ft.Member(ctx, first)
		if err != nil || got.ID != m.ID || got.Name != m.Name || got.Email != m.Email {
			t.Fatalf("Member(first) = %+v, %v", got, err)
		}
		// Nothing stored holds the token in clear.
		ch, err := s.Changes(ctx, evCal, "")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range ch.Changed {
			names = append(names, o.Name)
		}
		objs, err := s.MultiGet(ctx, evCal, names)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if strings.Contains(string(o.Data), first) || strings.Contains(o.Name, first) {
				t.Fatalf("object %s holds the token in clear", o.Name)
			}
		}

		second, err := ft.Issue(ctx, m)
		if err != nil || second == first {
			t.Fatalf("second token %q, %v", second, err)
		}
		if _, err := ft.Member(ctx, first); !errors.Is(err, caldav.ErrUnknownToken) {
			t.Fatalf("the first token after a new one: %v, want ErrUnknownToken", err)
		}
		if got, err := ft.Member(ctx, second); err != nil || got.ID != m.ID {
			t.Fatalf("Member(second) = %+v, %v", got, err)
		}
		if err := ft.Revoke(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{second, "", "x", strings.Repeat("a", 100)} {
			if _, err := ft.Member(ctx, tok); !errors.Is(err, caldav.ErrUnknownToken) {
				t.Fatalf("Member(%q) after revoking: %v", tok, err)
			}
		}
		if err := ft.Revoke(ctx, m.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
	})
}
