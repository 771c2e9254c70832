package redisgate

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/ratelimit.lua
var rateLimitSrc string

var rateLimitScript = redis.NewScript(rateLimitSrc)

// Limiter counts events per key (a member's writes) in fixed windows kept
// in Redis, so that every replica sharing the Redis shares the counts. It
// implements api.Limiter and is safe for concurrent use.
//
// # Keys
//
// One counter per key and window length, with prefix P (WithPrefix,
// default "roomcal:"):
//
//	P{rl:KEY}:PER   STRING  events counted in the current window; expires when it ends
//
// PER is the window length in milliseconds (a limit configured with
// another length counts apart) and KEY the caller's key with '%', '{'
// and '}' percent-escaped ("%25", "%7B", "%7D"), so that any key, braces
// included, gives a distinct name whose hash tag is exactly {rl:KEY}.
//
// # Windows
//
// Allow is one script (lua/ratelimit.lua): INCR the counter and, when it
// was just created, PEXPIRE it for the window's length. A window thus
// starts at the first event counted after the previous window ended and
// ends when its counter expires, by the Redis server's clock only: the
// replicas' clocks never matter, and every key touched is in KEYS. The
// answer is whether the count is within n and the time left until the
// counter expires. A counter that has no expiry (written by hand) gets
// one, so no key lives forever.
//
// A script retried by go-redis after a lost connection counts its event
// twice: the limit errs on the strict side by one event then.
type Limiter struct {
	gate *Gate // for its client, prefix and script runner
}

// NewLimiter returns a Limiter on client, which may be a *redis.Client, a
// *redis.ClusterClient or a *redis.Ring. It takes the Gate's options:
// WithPrefix applies (and panics on '{' or '}' as New does); the others
// do not concern limits.
func NewLimiter(client redis.UniversalClient, opts ...Option) *Limiter {
	return &Limiter{gate: New(client, opts...)}
}

// keyEscaper percent-escapes what would break the hash tag; escaping '%'
// too keeps the encoding one-to-one.
var keyEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

// counterKey is the counter of key for windows of perMs milliseconds.
func (l *Limiter) counterKey(key string, perMs int64) string {
	return l.gate.prefix + "{rl:" + keyEscaper.Replace(key) + "}:" + strconv.FormatInt(perMs, 10)
}

// Allow counts one event for key and reports whether it is within n per
// per. When it is not, retryAfter is the time left until the window ends
// (positive, at most per); when it is, retryAfter is 0. per is rounded up
// to the millisecond. Failures to reach Redis match ErrUnavailable.
func (l *Limiter) Allow(ctx context.Context, key string, n int, per time.Duration) (bool, time.Duration, error) {
	if key == "" || n <= 0 || per <= 0 {
		return false, 0, errors.New("rate limit: need a key, a positive count and a positive period")
	}
	perMs := windowMillis(per)
	res, err := l.gate.run(ctx, rateLimitScript, []string{l.counterKey(key, perMs)}, []any{n, perMs})
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	allowed, ok1 := res[0].(int64)
	var ttl int64
	ok2 := len(res) == 2
	if ok2 {
		ttl, ok2 = res[1].(int64)
	}
	if !ok1 || !ok2 {
		return false, 0, fmt.Errorf("rate limit %s: unexpected script answer %v", key, res)
	}
	if allowed == 1 {
		return true, 0, nil
	}
	return false, min(time.Duration(ttl)*time.Millisecond, per), nil
}

// windowMillis is a rate window in whole milliseconds, rounded up: Redis
// expires keys to the millisecond, and a window of 0 would never expire.
func windowMillis(per time.Duration) int64 {
	return int64((per + time.Millisecond - 1) / time.Millisecond)
}
