package main

import (
	"context"
	"fmt"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// signOuts implements api.SignOuts: the time a member signed out is kept
// in their preferences on the calendar server (it survives anything
// Redis goes through) and cached in Redis for every replica, so that
// checking a session costs one Redis read, and a calendar read only
// after the cache lost it.
type signOuts struct {
	prefs booking.PreferencesStore
	cache *redisgate.SignOuts
}

// signOutCacheTTL bounds how long a cached time is believed without
// reading the calendar again (sign-outs only move forward, through this
// cache, so it is never stale in practice; the bound keeps Redis small).
const signOutCacheTTL = time.Hour

// SignOut records the sign-out on the calendar server first (durable),
// then in the cache.
func (s signOuts) SignOut(ctx context.Context, memberID string, at time.Time) error {
	if _, err := s.prefs.UpdatePreferences(ctx, memberID, func(p *booking.Preferences) error {
		if at.After(p.SignedOutAt) {
			p.SignedOutAt = at
		}
		return nil
	}); err != nil {
		return err
	}
	if _, err := s.cache.Raise(ctx, memberID, at); err != nil {
		return fmt.Errorf("sign-out of %s kept but not cached: %w", memberID, err)
	}
	return nil
}

// SignedOutAt reads the cache, and on a miss the calendar server, whose
// answer it caches.
func (s signOuts) SignedOutAt(ctx context.Context, memberID string) (time.Time, error) {
	at, ok, err := s.cache.Get(ctx, memberID)
	if err != nil || ok {
		return at, err
	}
	p, err := s.prefs.Preferences(ctx, memberID)
	if err != nil {
		return time.Time{}, err
	}
	// Raise keeps a sign-out cached meanwhile if it is later.
	return s.cache.Raise(ctx, memberID, p.SignedOutAt)
}
