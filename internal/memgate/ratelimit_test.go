package memgate

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/limittest"
)

var _ limittest.Limiter = (*Limiter)(nil)

// limitClock is a fake clock that moves only when told.
type limitClock struct {
	mu  sync.Mutex
	now time.Time
}

func newLimitClock() *limitClock {
	return &limitClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *limitClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *limitClock) Advance(_ *testing.T, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLimiterContract(t *testing.T) {
	limittest.RunSingle(t, func(t *testing.T) limittest.Target {
		c := newLimitClock()
		l := NewLimiter(WithLimiterClock(c.Now))
		return limittest.Target{Limiter: l, Flush: func(*testing.T) { l.Flush() }, Elapse: c.Advance}
	})
}

// The real clock works too: windows end in real time.
func TestLimiterContractRealClock(t *testing.T) {
	limittest.RunSingle(t, func(t *testing.T) limittest.Target {
		l := NewLimiter()
		return limittest.Target{
			Limiter: l,
			Flush:   func(*testing.T) { l.Flush() },
			Elapse:  func(_ *testing.T, d time.Duration) { time.Sleep(d) },
			Short:   200 * time.Millisecond,
		}
	})
}

// A window ends exactly per after its first event, by the injected
// clock, and retryAfter says so to the nanosecond.
func TestLimiterWindowBounds(t *testing.T) {
	c := newLimitClock()
	l := NewLimiter(WithLimiterClock(c.Now))
	ctx := context.Background()
	allow := func() (bool, time.Duration) {
		t.Helper()
		ok, ra, err := l.Allow(ctx, "m", 1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok, ra
	}
	if ok, _ := allow(); !ok {
		t.Fatal("first event refused")
	}
	c.Advance(t, 20*time.Second)
	if ok, ra := allow(); ok || ra != 40*time.Second {
		t.Fatalf("second event: ok %v, retryAfter %v; want refused, 40s", ok, ra)
	}
	c.Advance(t, 40*time.Second-time.Nanosecond)
	if ok, ra := allow(); ok || ra != time.Nanosecond {
		t.Fatalf("last instant: ok %v, retryAfter %v; want refused, 1ns", ok, ra)
	}
	c.Advance(t, time.Nanosecond)
	if ok, _ := allow(); !ok {
		t.Fatal("refused once the window ended")
	}
}

// Ended windows are swept: many one-off keys do not pile up. Sweeping
// must not drop live windows.
func TestLimiterSweep(t *testing.T) {
	c := newLimitClock()
	l := NewLimiter(WithLimiterClock(c.Now))
	ctx := context.Background()
	if ok, _, err := l.Allow(ctx, "live", 1, time.Hour); err != nil || !ok {
		t.Fatalf("live: %v %v", ok, err)
	}
	for i := 0; i < 10000; i++ {
		if _, _, err := l.Allow(ctx, fmt.Sprint("k", i), 1, time.Second); err != nil {
			t.Fatal(err)
		}
		c.Advance(t, 10*time.Millisecond)
	}
	l.mu.Lock()
	n := len(l.windows)
	l.mu.Unlock()
	if n > 3000 {
		t.Errorf("%d windows kept, want ended ones swept", n)
	}
	if ok, _, _ := l.Allow(ctx, "live", 1, time.Hour); ok {
		t.Error("the live window was swept")
	}
}

func TestLimiterCancelled(t *testing.T) {
	l := NewLimiter()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := l.Allow(ctx, "m", 1, time.Minute); err == nil {
		t.Fatal("Allow with a cancelled ctx: no error")
	}
}
