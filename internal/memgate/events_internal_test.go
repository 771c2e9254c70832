package memgate

import (
	"context"
	"testing"
	"time"

	"github.com/roomcal/roomcal/events"
)

// peek returns what event id holds internally: the versions of its undo
// records and its tombstones.
func peek(t *testing.T, g *EventGate, id string) (logVers []int64, tombs map[string]int64) {
	t.Helper()
	e, _ := g.locked(id, false)
	if e == nil {
		t.Fatalf("no entry for %s", id)
	}
	defer e.mu.Unlock()
	tombs = map[string]int64{}
	for _, u := range e.log {
		logVers = append(logVers, u.ver)
	}
	for mid, m := range e.members {
		if !m.live {
			tombs[mid] = m.ver
		}
	}
	return logVers, tombs
}

// Written forgets the undo records and tombstones up to the durable
// version, and only those.
func TestWrittenGC(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	g := NewEventGate(WithEventClock(func() time.Time { return now }))
	ev := events.Event{Start: now.Add(time.Hour), Settings: events.Settings{Capacity: 1, Waitlist: true, Start: now.Add(time.Hour)}}
	if err := g.Load(ctx, "e", events.State{Gen: "g", Event: ev}, ""); err != nil {
		t.Fatal(err)
	}
	reg := func(m string) {
		if _, err := g.Register(ctx, "e", events.Registration{Member: m}, now); err != nil {
			t.Fatal(err)
		}
	}
	unreg := func(m string) {
		if _, err := g.Unregister(ctx, "e", m); err != nil {
			t.Fatal(err)
		}
	}
	reg("a")   // 1
	reg("b")   // 2
	unreg("a") // 3: tombstone a, b promoted
	reg("c")   // 4
	unreg("c") // 5: tombstone c
	logVers, tombs := peek(t, g, "e")
	if len(logVers) != 5 || tombs["a"] != 3 || tombs["c"] != 5 {
		t.Fatalf("before: log %v tombstones %v", logVers, tombs)
	}
	if err := g.Written(ctx, "e", "g", 3, "E3"); err != nil {
		t.Fatal(err)
	}
	logVers, tombs = peek(t, g, "e")
	if len(logVers) != 2 || logVers[0] != 4 || logVers[1] != 5 || len(tombs) != 1 || tombs["c"] != 5 {
		t.Fatalf("after Written(3): log %v tombstones %v", logVers, tombs)
	}
	if err := g.Written(ctx, "e", "g", 5, "E5"); err != nil {
		t.Fatal(err)
	}
	logVers, tombs = peek(t, g, "e")
	if len(logVers) != 0 || len(tombs) != 0 {
		t.Fatalf("after Written(5): log %v tombstones %v", logVers, tombs)
	}

	// Rollback leaves neither undo records nor tombstones.
	reg("a")   // 6
	unreg("b") // 7
	l, _, _ := g.Lock(ctx, "e", time.Minute)
	if err := g.Rollback(ctx, "e", "g", l.ID); err != nil {
		t.Fatal(err)
	}
	logVers, tombs = peek(t, g, "e")
	if len(logVers) != 0 || len(tombs) != 0 {
		t.Fatalf("after Rollback: log %v tombstones %v", logVers, tombs)
	}
	e, _ := g.locked("e", false)
	defer e.mu.Unlock()
	if e.confirmed != 1 || e.waiting != 0 {
		t.Fatalf("counts %d %d", e.confirmed, e.waiting)
	}
}
