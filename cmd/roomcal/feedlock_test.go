package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

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

// countingPreferences is a booking.PreferencesStore whose updates take a
// while, counting how many ran at once per member.
type countingPreferences struct {
	booking.PreferencesStore
	mu      sync.Mutex
	running map[string]int
	most    int
	done    int
}

func (c *countingPreferences) UpdatePreferences(_ context.Context, id string, change func(*booking.Preferences) error) (booking.Preferences, error) {
	c.mu.Lock()
	c.running[id]++
	c.most = max(c.most, c.running[id])
	c.mu.Unlock()
	time.Sleep(30 * time.Millisecond) // a slow calendar write
	var p booking.Preferences
	err := change(&p)
	c.mu.Lock()
	c.running[id]--
	c.done++
	c.mu.Unlock()
	return p, err
}

// TestPreferencesChangesOneAtATime: concurrent updates of one member's
// preferences run one after the other (the second waits for the lock
// instead of racing the first on the calendar server), and all of them
// are done.
func TestPreferencesChangesOneAtATime(t *testing.T) {
	store := &countingPreferences{running: map[string]int{}}
	l := lockedPreferences{PreferencesStore: store, gate: redisgate.New(gatetest.Embedded(t).Client())}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := []string{"ana", "bruno"}[i%2]
			_, err := l.UpdatePreferences(context.Background(), id, func(p *booking.Preferences) error { p.Site = "nantes"; return nil })
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("update: %v", err)
		}
	}
	if store.most != 1 || store.done != 8 {
		t.Fatalf("at most %d updates of one member at once, %d done; want 1 and 8", store.most, store.done)
	}
}
