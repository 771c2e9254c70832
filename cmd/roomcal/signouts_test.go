package main

import (
	"context"
	"testing"
	"time"

	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestSignOutsSurviveAFlush: a sign-out is kept on the calendar server
// and cached in Redis; two replicas read the same time, also after a
// FLUSHALL (read again from the calendar), and a later sign-out is not
// hidden by a replica that filled the cache before it. On Radicale and
// Redis.
func TestSignOutsSurviveAFlush(t *testing.T) {
	home := testenv.RadicaleHome(t)
	store, err := caldav.NewClient(home.URL, caldav.ClientOptions{Username: home.User, Password: home.Password})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.CreateCalendar(ctx, tokensCalendar, "jetons"); err != nil {
		t.Fatal(err)
	}
	rdb := testenv.StartRedis(t)
	replica := func() signOuts {
		rc, err := redisgate.Dial(ctx, rdb.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rc.Close() })
		return signOuts{
			prefs: lockedPreferences{PreferencesStore: caldav.NewMemberPreferences(store, tokensCalendar), gate: redisgate.New(rc)},
			cache: redisgate.NewSignOuts(rc, signOutCacheTTL),
		}
	}
	a, b := replica(), replica()
	if at, err := b.SignedOutAt(ctx, "ada"); err != nil || !at.IsZero() {
		t.Fatalf("before any sign-out: %v, %v", at, err)
	}
	first := time.Now().Truncate(time.Microsecond)
	if err := a.SignOut(ctx, "ada", first); err != nil {
		t.Fatal(err)
	}
	if at, err := b.SignedOutAt(ctx, "ada"); err != nil || !at.Equal(first) {
		t.Fatalf("the other replica reads %v, %v; want %v", at, err, first)
	}
	rdb.FlushAll(t)
	if at, err := b.SignedOutAt(ctx, "ada"); err != nil || !at.Equal(first) {
		t.Fatalf("after FLUSHALL: %v, %v; want %v read from the calendar", at, err, first)
	}
	later := first.Add(time.Second)
	if err := a.SignOut(ctx, "ada", later); err != nil {
		t.Fatal(err)
	}
	for _, r := range []signOuts{a, b} {
		if at, err := r.SignedOutAt(ctx, "ada"); err != nil || !at.Equal(later) {
			t.Fatalf("after the second sign-out: %v, %v; want %v", at, err, later)
		}
	}
	if p, err := a.prefs.Preferences(ctx, "ada"); err != nil || !p.SignedOutAt.Equal(later) {
		t.Fatalf("kept on the calendar: %+v, %v", p, err)
	}
}
