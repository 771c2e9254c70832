package redisgate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/internal/limittest"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

var _ limittest.Limiter = (*redisgate.Limiter)(nil)

// The limiters' contract suite on the Redis started by `make test`, each
// subtest under its own key prefix; Replica is a Limiter on a second
// client (another replica) with the same prefix.
func TestLimiterContract(t *testing.T) {
	url := testenv.RedisURL(t)
	c := client(t, url)
	limittest.Run(t, func(t *testing.T) limittest.Target {
		prefix := "t" + testenv.RandomID() + ":"
		t.Cleanup(func() { deleteKeys(t, c, prefix) })
		return limittest.Target{
			Limiter: redisgate.NewLimiter(c, redisgate.WithPrefix(prefix)),
			Replica: redisgate.NewLimiter(client(t, url), redisgate.WithPrefix(prefix)),
			Flush:   func(t *testing.T) { deleteKeys(t, c, prefix) },
			Elapse:  sleep,
		}
	})
}

// The counter is one key named after the member (braces escaped, so the
// hash tag is exactly the member's) and the window, with a TTL no longer
// than the window; a counter left without TTL gets one.
func TestLimiterKeys(t *testing.T) {
	c := client(t, testenv.RedisURL(t))
	prefix := "t" + testenv.RandomID() + ":"
	t.Cleanup(func() { deleteKeys(t, c, prefix) })
	l := redisgate.NewLimiter(c, redisgate.WithPrefix(prefix))
	ctx := context.Background()

	member := "ré{mi}%:" + testenv.RandomID()
	want := prefix + "{rl:ré%7Bmi%7D%25:" + member[len("ré{mi}%:"):] + "}:60000"
	if ok, _, err := l.Allow(ctx, member, 5, time.Minute); err != nil || !ok {
		t.Fatalf("Allow: %v, %v", ok, err)
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys %q, want [%q]", keys, want)
	}
	if n, _ := c.Get(ctx, want).Int(); n != 1 {
		t.Errorf("count %d, want 1", n)
	}
	if ttl := c.PTTL(ctx, want).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL %v, want in (0, 1m]", ttl)
	}
	// (Sub-millisecond windows are rounded up: TestWindowMillis. A
	// counter of a 2 ms window cannot be seen here reliably: it is gone
	// before the next command under load.)

	// A counter without expiry gets one.
	bare := "bare" + testenv.RandomID()
	bareKey := prefix + "{rl:" + bare + "}:60000"
	if err := c.Set(ctx, bareKey, 7, 0).Err(); err != nil {
		t.Fatal(err)
	}
	ok, ra, err := l.Allow(ctx, bare, 5, time.Minute)
	if err != nil || ok || ra <= 0 || ra > time.Minute {
		t.Fatalf("Allow on a counter of 7 without TTL: %v, %v, %v; want refused within a minute", ok, ra, err)
	}
	if ttl := c.PTTL(ctx, bareKey).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL %v after Allow, want in (0, 1m]", ttl)
	}
}

// An unreachable Redis gives an error matching ErrUnavailable, which the
// HTTP layer lets through (it fails open).
func TestLimiterUnavailable(t *testing.T) {
	port := testenv.FreePort(t)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	l := redisgate.NewLimiter(c)
	_, _, err := l.Allow(context.Background(), "m", 1, time.Minute)
	if !errors.Is(err, redisgate.ErrUnavailable) {
		t.Fatalf("Allow on a closed port: %v, want ErrUnavailable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = l.Allow(ctx, "m", 1, time.Minute)
	if !errors.Is(err, context.Canceled) || errors.Is(err, redisgate.ErrUnavailable) {
		t.Fatalf("Allow with a cancelled ctx: %v, want context.Canceled only", err)
	}
}
