package redisgate_test

import (
	"context"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestBusyMemoAcrossReplicas: two gates over one Redis are two replicas.
// Whatever one of them changes shows at once in the other's Busy answers,
// however often the other asked before (its memo is keyed by the room's
// version in Redis).
func TestBusyMemoAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	c := client(t, testenv.RedisURL(t))
	prefix := "t" + testenv.RandomID() + ":"
	a := redisgate.New(c, redisgate.WithPrefix(prefix))
	b := redisgate.New(c, redisgate.WithPrefix(prefix))
	room := "r" + testenv.RandomID()
	day := time.Date(2030, 3, 4, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }
	if err := a.Load(ctx, room, booking.Snapshot{Token: "t", Objects: map[string]booking.ObjectState{
		"x": {ETag: "1", Busy: []booking.Busy{{Ref: "x", Start: at(8), End: at(9), Kind: booking.KindExternal}}},
	}}); err != nil {
		t.Fatal(err)
	}
	count := func(g *redisgate.Gate, want int, what string) {
		t.Helper()
		for range 3 { // the second and third answers come from the memo
			busy, err := g.Busy(ctx, room, day, day.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(busy) != want {
				t.Fatalf("%s: %d intervals, want %d: %+v", what, len(busy), want, busy)
			}
		}
	}
	count(a, 1, "after load")
	// b claims: a sees the hold.
	if err := b.Claim(ctx, room, booking.Claim{HoldID: "h", TTL: time.Minute, Intervals: []booking.Busy{{Start: at(10), End: at(11), Kind: booking.KindBooking}}}); err != nil {
		t.Fatal(err)
	}
	count(a, 2, "after b's claim")
	// b commits: still two (the hold became the booking).
	if err := b.Commit(ctx, room, "h", "y", "e", []booking.Busy{{Ref: "y", Start: at(10), End: at(11), Kind: booking.KindBooking}}, 0, nil); err != nil {
		t.Fatal(err)
	}
	count(a, 2, "after b's commit")
	// b applies a deletion read from the calendar: a sees one.
	if err := b.Apply(ctx, room, "", nil, []string{"x"}, nil); err != nil {
		t.Fatal(err)
	}
	count(a, 1, "after b's apply")
	// b loads the room again (as after a flush): a sees the new state.
	if err := b.Load(ctx, room, booking.Snapshot{Token: "t2", Objects: map[string]booking.ObjectState{}}); err != nil {
		t.Fatal(err)
	}
	count(a, 0, "after b's load")
}
