package memgate_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/memgate"
)

// clock is a fake clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(t *testing.T, d time.Duration) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestContract(t *testing.T) {
	gatetest.Run(t, func(t *testing.T) gatetest.Target {
		c := &clock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
		g := memgate.New(memgate.WithClock(c.Now))
		return gatetest.Target{Gate: g, Flush: func(*testing.T) { g.Flush() }, Elapse: c.Advance}
	})
}

// The real clock works too: holds expire in real time.
func TestContractRealClock(t *testing.T) {
	gatetest.Run(t, func(t *testing.T) gatetest.Target {
		g := memgate.New()
		return gatetest.Target{
			Gate:   g,
			Flush:  func(*testing.T) { g.Flush() },
			Elapse: func(_ *testing.T, d time.Duration) { time.Sleep(d) },
		}
	})
}

// A hold expires exactly at claim time + TTL by the injected clock.
func TestHoldExpiresAtTTL(t *testing.T) {
	c := &clock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	g := memgate.New(memgate.WithClock(c.Now))
	ctx := context.Background()
	if err := g.Load(ctx, "r", booking.Snapshot{}); err != nil {
		t.Fatal(err)
	}
	s := time.Date(2030, 2, 1, 10, 0, 0, 0, time.UTC)
	claim := func(id string) error {
		return g.Claim(ctx, "r", booking.Claim{HoldID: id, TTL: time.Minute,
			Intervals: []booking.Busy{{Start: s, End: s.Add(time.Hour)}}})
	}
	if err := claim("a"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		free    bool
	}{
		{59 * time.Second, false},
		{999 * time.Millisecond, false},
		{time.Millisecond, true}, // exactly TTL after the claim
	}
	for _, st := range steps {
		c.Advance(t, st.advance)
		err := claim("b")
		var ce *booking.ConflictError
		switch {
		case st.free && err != nil:
			t.Fatalf("after %v more: %v, want the slot free", st.advance, err)
		case !st.free && !errors.As(err, &ce):
			t.Fatalf("after %v more: %v, want a conflict", st.advance, err)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	g := memgate.New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Load(ctx, "r", booking.Snapshot{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled ctx: %v", err)
	}
	if _, err := g.Token(context.Background(), "r"); !errors.Is(err, booking.ErrNoState) {
		t.Errorf("state after a cancelled Load: %v", err)
	}
}
