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
