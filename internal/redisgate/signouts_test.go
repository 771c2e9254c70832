package redisgate_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestSignOuts: the cache knows nothing of a member until told; it keeps
// the latest sign-out whatever order times are raised in (a reader
// filling it with an older time cannot hide a newer sign-out); "never"
// is cached too; entries expire. On Redis and on the embedded engine.
func TestSignOuts(t *testing.T) {
	targets := map[string]func(t *testing.T) redis.UniversalClient{
		"Redis":    func(t *testing.T) redis.UniversalClient { return client(t, testenv.RedisURL(t)) },
		"Embedded": func(t *testing.T) redis.UniversalClient { return gatetest.Embedded(t).Client() },
	}
	for name, newClient := range targets {
		t.Run(name, func(t *testing.T) {
			c := newClient(t)
			prefix := "t" + testenv.RandomID() + ":"
			so := redisgate.NewSignOuts(c, time.Minute, redisgate.WithPrefix(prefix))
			ctx := context.Background()
			member := "ré{mi}:" + testenv.RandomID()
			if _, ok, err := so.Get(ctx, member); err != nil || ok {
				t.Fatalf("Get before anything: ok %v, %v", ok, err)
			}
			newer := time.Date(2026, 12, 5, 9, 0, 0, 123_000_000, time.UTC)
			older := newer.Add(-time.Hour)
			for _, raise := range []time.Time{newer, older, {}} {
				kept, err := so.Raise(ctx, member, raise)
				if err != nil || !kept.Equal(newer) {
					t.Fatalf("Raise(%v) = %v, %v; want %v kept", raise, kept, err, newer)
				}
			}
			if at, ok, err := so.Get(ctx, member); err != nil || !ok || !at.Equal(newer) {
				t.Fatalf("Get = %v, %v, %v; want %v", at, ok, err, newer)
			}
			never := "never-" + testenv.RandomID()
			if kept, err := so.Raise(ctx, never, time.Time{}); err != nil || !kept.IsZero() {
				t.Fatalf("Raise(never) = %v, %v", kept, err)
			}
			if at, ok, err := so.Get(ctx, never); err != nil || !ok || !at.IsZero() {
				t.Fatalf("Get(never) = %v, %v, %v; want zero, known", at, ok, err)
			}
			keys, err := c.Keys(ctx, prefix+"*").Result()
			if err != nil || len(keys) != 2 {
				t.Fatalf("keys %q, %v", keys, err)
			}
			for _, k := range keys {
				if ttl, err := c.PTTL(ctx, k).Result(); err != nil || ttl <= 0 || ttl > time.Minute {
					t.Errorf("%s: ttl %v, %v; want up to a minute", k, ttl, err)
				}
			}
		})
	}
}
