package redisgate

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/signout.lua
var signOutSrc string

var signOutScript = redis.NewScript(signOutSrc)

// SignOuts caches, for every replica, when each member last signed out,
// so that a session cookie made before is refused everywhere without a
// read of the calendar store per request. The cache is only a cache:
// the time is kept in the member's preferences on the calendar server,
// and read again from there when Redis has lost it (a flush, the key's
// expiry).
//
//	P{so:MEMBER}   STRING  Unix microseconds of the last sign-out (0: none); expires after the ttl
//
// MEMBER is escaped as the limiter's keys are. Raise (lua/signout.lua)
// only ever moves the time forward, so a reader filling the cache with
// what it read before a sign-out cannot undo it.
type SignOuts struct {
	gate *Gate
	ttl  time.Duration
}

// NewSignOuts returns the cache on client, entries kept for ttl. It takes
// the Gate's options (WithPrefix).
func NewSignOuts(client redis.UniversalClient, ttl time.Duration, opts ...Option) *SignOuts {
	return &SignOuts{gate: New(client, opts...), ttl: ttl}
}

func (so *SignOuts) key(member string) string {
	return so.gate.prefix + "{so:" + keyEscaper.Replace(member) + "}"
}

// Get returns member's last sign-out as cached (zero when they never
// signed out); ok is false when the cache does not know.
func (so *SignOuts) Get(ctx context.Context, member string) (at time.Time, ok bool, err error) {
	v, err := so.gate.rdb.Get(ctx, so.key(member)).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sign-out of %s: %w", member, classify(ctx, err))
	}
	us, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false, nil // not ours: read it again
	}
	return fromMicros(us), true, nil
}

// Raise caches at (zero: never) as member's last sign-out unless a later
// one is cached, and returns the one cached after.
func (so *SignOuts) Raise(ctx context.Context, member string, at time.Time) (time.Time, error) {
	us := int64(0)
	if !at.IsZero() {
		us = at.UnixMicro()
	}
	res, err := so.gate.eval(ctx, signOutScript, []string{so.key(member)}, []any{us, so.ttl.Milliseconds()})
	if err != nil {
		return time.Time{}, fmt.Errorf("cache sign-out of %s: %w", member, err)
	}
	kept, _ := res.(int64)
	return fromMicros(kept), nil
}

func fromMicros(us int64) time.Time {
	if us <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
