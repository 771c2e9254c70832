package caldav_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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
		if link, err := ft.Link(ctx, m.ID); err != nil || link.Exists {
			t.Fatalf("Link before any token: %+v, %v", link, err)
		}
		before := time.Now().Add(-time.Second)
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
		if link, err := ft.Link(ctx, m.ID); err != nil || !link.Exists || link.IssuedAt.Before(before) || link.IssuedAt.After(time.Now().Add(time.Second)) {
			t.Fatalf("Link with a token: %+v, %v", link, err)
		}
		if err := ft.Revoke(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		if link, err := ft.Link(ctx, m.ID); err != nil || link.Exists {
			t.Fatalf("Link after revoking: %+v, %v", link, err)
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

// namesLog is a Store that records the object names created and deleted.
type namesLog struct {
	caldav.Store
	mu      sync.Mutex
	deleted map[string]bool
	reused  []string // names created again after a delete
}

func (n *namesLog) Create(ctx context.Context, cal, name string, data []byte) (string, error) {
	n.mu.Lock()
	if n.deleted[name] {
		n.reused = append(n.reused, name)
	}
	n.mu.Unlock()
	return n.Store.Create(ctx, cal, name, data)
}

func (n *namesLog) Delete(ctx context.Context, cal, name, etag string) error {
	n.mu.Lock()
	n.deleted[name] = true
	n.mu.Unlock()
	return n.Store.Delete(ctx, cal, name, etag)
}

// TestFeedTokensNeverReuseANameDeleted: issuing and revoking a member's
// link again and again never deletes a name and creates it again, which
// Nextcloud's trash bin refuses from the third round (nextcloud/server
// #30096); each round still works.
func TestFeedTokensNeverReuseANameDeleted(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, _ *caldav.EventCalendar) {
		ctx := t.Context()
		log := &namesLog{Store: s, deleted: map[string]bool{}}
		ft := caldav.NewFeedTokens(log, evCal)
		m := booking.Member{ID: "bruno", Name: "Bruno"}
		for round := range 4 {
			tok, err := ft.Issue(ctx, m)
			if err != nil {
				t.Fatalf("round %d: issue: %v", round, err)
			}
			if got, err := ft.Member(ctx, tok); err != nil || got.ID != m.ID {
				t.Fatalf("round %d: Member = %+v, %v", round, got, err)
			}
			if err := ft.Revoke(ctx, m.ID); err != nil {
				t.Fatalf("round %d: revoke: %v", round, err)
			}
			if _, err := ft.Member(ctx, tok); !errors.Is(err, caldav.ErrUnknownToken) {
				t.Fatalf("round %d: the revoked token: %v", round, err)
			}
		}
		if len(log.reused) > 0 {
			t.Fatalf("names deleted and created again: %v", log.reused)
		}
	})
}
