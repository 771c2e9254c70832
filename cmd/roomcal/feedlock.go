package main

import (
	"context"
	"fmt"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
)

// lockedFeedTokens serialises the changes of one member's feed link
// through the gate's object locks. The token objects are written with
// If-Match, which Nextcloud checks and then does not enforce: two
// re-issues at once could both pass, and the member would be left with a
// valid token they no longer see. A change already under way for the
// member gives booking.ErrStale (409), as a booking's does.
type lockedFeedTokens struct {
	api.FeedTokens
	gate booking.Gate
}

// feedLockRoom names the gate's slot for feed-link locks (no room has a
// '~' in its id).
const feedLockRoom = "~feed-tokens"

// feedLockTTL outlasts an issue's reads and writes.
const feedLockTTL = time.Minute

func (l lockedFeedTokens) lock(ctx context.Context, memberID string) (booking.Lease, error) {
	lease, ok, err := l.gate.LockObject(ctx, feedLockRoom, memberID, feedLockTTL)
	if err != nil {
		return booking.Lease{}, fmt.Errorf("lock feed link of %s: %w", memberID, err)
	}
	if !ok {
		return booking.Lease{}, fmt.Errorf("feed link of %s is being changed by another request: %w", memberID, booking.ErrStale)
	}
	return lease, nil
}

// Issue implements api.FeedTokens under the member's lock.
func (l lockedFeedTokens) Issue(ctx context.Context, m booking.Member) (string, error) {
	lease, err := l.lock(ctx, m.ID)
	if err != nil {
		return "", err
	}
	defer lease.Release()
	return l.FeedTokens.Issue(ctx, m)
}

// Revoke implements api.FeedTokens under the member's lock.
func (l lockedFeedTokens) Revoke(ctx context.Context, memberID string) error {
	lease, err := l.lock(ctx, memberID)
	if err != nil {
		return err
	}
	defer lease.Release()
	return l.FeedTokens.Revoke(ctx, memberID)
}

// lockedPreferences serialises the changes of one member's preferences
// through the gate's object locks, for the same reason as the feed
// links': Nextcloud checks If-Match and then does not enforce it, so
// two updates at once could both pass and one member's choice be lost.
// Updates are short and rare; one that finds the lock held waits for it
// a little (preferencesLockWait) before it gives booking.ErrStale.
type lockedPreferences struct {
	booking.PreferencesStore
	gate booking.Gate
}

const (
	preferencesLockRoom = "~preferences"
	preferencesLockTTL  = 30 * time.Second
	preferencesLockWait = 3 * time.Second
)

// UpdatePreferences implements booking.PreferencesStore under the
// member's lock.
func (l lockedPreferences) UpdatePreferences(ctx context.Context, memberID string, change func(*booking.Preferences) error) (booking.Preferences, error) {
	deadline := time.Now().Add(preferencesLockWait)
	for pause := 20 * time.Millisecond; ; pause = min(2*pause, 250*time.Millisecond) {
		lease, ok, err := l.gate.LockObject(ctx, preferencesLockRoom, memberID, preferencesLockTTL)
		if err != nil {
			return booking.Preferences{}, fmt.Errorf("lock preferences of %s: %w", memberID, err)
		}
		if ok {
			defer lease.Release()
			return l.PreferencesStore.UpdatePreferences(ctx, memberID, change)
		}
		if time.Now().Add(pause).After(deadline) {
			return booking.Preferences{}, fmt.Errorf("preferences of %s are being changed by another request: %w", memberID, booking.ErrStale)
		}
		select {
		case <-ctx.Done():
			return booking.Preferences{}, ctx.Err()
		case <-time.After(pause):
		}
	}
}
