package memgate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Limiter is the in-process stand-in for redisgate.Limiter: it counts
// events per key (a member's writes) in fixed windows with the same
// semantics, for the embedded default (one replica) and for tests. It
// implements api.Limiter and is safe for concurrent use; it is not shared
// between processes.
//
// A window starts at the first event counted for a key (and window
// length) after its previous window ended, and lasts per by the
// Limiter's clock (WithLimiterClock injects one). Refused events are
// counted too but never lengthen the window. Ended windows are swept
// from time to time, so memory follows the keys active within per; Flush
// drops every count at once, as FLUSHALL does to Redis.
type Limiter struct {
	now func() time.Time

	mu      sync.Mutex
	windows map[limitKey]*window
	sweepAt int // sweep ended windows when there are this many
}

// limitKey is a key and window length: a limit configured with another
// length counts apart, as in Redis.
type limitKey struct {
	key string
	per time.Duration
}

type window struct {
	count int
	ends  time.Time
}

// minSweep is the fewest windows worth sweeping for.
const minSweep = 1024

// LimiterOption configures a Limiter.
type LimiterOption func(*Limiter)

// WithLimiterClock makes the Limiter read time from now (default
// time.Now): windows start and end by it.
func WithLimiterClock(now func() time.Time) LimiterOption {
	return func(l *Limiter) { l.now = now }
}

// NewLimiter returns a Limiter with no counts.
func NewLimiter(opts ...LimiterOption) *Limiter {
	l := &Limiter{now: time.Now, windows: map[limitKey]*window{}, sweepAt: minSweep}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Flush drops every count at once.
func (l *Limiter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.windows = map[limitKey]*window{}
	l.sweepAt = minSweep
}

// Allow counts one event for key and reports whether it is within n per
// per. When it is not, retryAfter is the time left until the window ends
// (positive, at most per); when it is, retryAfter is 0.
func (l *Limiter) Allow(ctx context.Context, key string, n int, per time.Duration) (bool, time.Duration, error) {
	if key == "" || n <= 0 || per <= 0 {
		return false, 0, errors.New("rate limit: need a key, a positive count and a positive period")
	}
	if err := ctx.Err(); err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	k := limitKey{key, per}
	w := l.windows[k]
	if w == nil || !now.Before(w.ends) {
		if w == nil && len(l.windows) >= l.sweepAt {
			l.sweep(now)
		}
		w = &window{ends: now.Add(per)}
		l.windows[k] = w
	}
	w.count++
	if w.count <= n {
		return true, 0, nil
	}
	return false, w.ends.Sub(now), nil
}

// sweep drops the windows that have ended; l.mu is held.
func (l *Limiter) sweep(now time.Time) {
	for k, w := range l.windows {
		if !now.Before(w.ends) {
			delete(l.windows, k)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.windows))
}
