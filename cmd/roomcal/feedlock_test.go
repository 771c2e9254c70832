package main

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// slowTokens is an api.FeedTokens whose Issue and Revoke wait until
// released, counting how many ran at once.
type slowTokens struct {
	api.FeedTokens
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	running int
	most    int
}

func (s *slowTokens) hold() {
	s.mu.Lock()
	s.running++
	s.most = max(s.most, s.running)
	s.mu.Unlock()
	s.entered <- struct{}{}
	<-s.release
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
}

func (s *slowTokens) Issue(context.Context, booking.Member) (string, error) {
	s.hold()
	return "token", nil
}

func (s *slowTokens) Revoke(context.Context, string) error {
	s.hold()
	return nil
}

// TestFeedLinkChangesOneAtATime: while one change of a member's feed
// link is under way, another for the same member is refused with
// ErrStale (409) instead of racing it on the calendar server; another
// member's goes through; once the first is done, the next is accepted.
func TestFeedLinkChangesOneAtATime(t *testing.T) {
	slow := &slowTokens{entered: make(chan struct{}, 4), release: make(chan struct{})}
	l := lockedFeedTokens{FeedTokens: slow, gate: redisgate.New(gatetest.Embedded(t).Client())}
	ctx := context.Background()
	ana := booking.Member{ID: "ana"}
	done := make(chan error, 1)
	go func() {
		_, err := l.Issue(ctx, ana)
		done <- err
	}()
	<-slow.entered
	if _, err := l.Issue(ctx, ana); !errors.Is(err, booking.ErrStale) {
		t.Fatalf("a second issue while the first runs: %v, want ErrStale", err)
	}
	if err := l.Revoke(ctx, ana.ID); !errors.Is(err, booking.ErrStale) {
		t.Fatalf("a revoke while an issue runs: %v, want ErrStale", err)
	}
	other := make(chan error, 1)
	go func() { other <- l.Revoke(ctx, "bruno") }()
	<-slow.entered // bruno's runs beside ana's
	slow.release <- struct{}{}
	slow.release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	go func() { slow.release <- struct{}{} }()
	if _, err := l.Issue(ctx, ana); err != nil {
		t.Fatalf("an issue after the first finished: %v", err)
	}
	if slow.most != 2 {
		t.Fatalf("%d changes ran at once, want 2 (one per member)", slow.most)
	}
}
