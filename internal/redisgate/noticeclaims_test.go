package redisgate_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestNoticeClaims on every engine: of many replicas claiming one
// notice at once exactly one wins; only the winner releases it; a claim
// expires; the daily count stops at the limit and refuses without
// counting.
func TestNoticeClaims(t *testing.T) {
	engines := map[string]func(t *testing.T) redis.UniversalClient{
		"embedded": func(t *testing.T) redis.UniversalClient { return gatetest.Embedded(t).Client() },
		"redis":    func(t *testing.T) redis.UniversalClient { return client(t, testenv.RedisURL(t)) },
		"cluster":  func(t *testing.T) redis.UniversalClient { return client(t, testenv.RedisClusterURL(t)) },
	}
	for name, mk := range engines {
		t.Run(name, func(t *testing.T) {
			c := mk(t)
			ctx := context.Background()
			prefix := redisgate.WithPrefix("t" + testenv.RandomID() + ":")
			replicas := make([]*redisgate.NoticeClaims, 8)
			for i := range replicas {
				replicas[i] = redisgate.NewNoticeClaims(c, prefix)
			}
			var wins atomic.Int64
			var winner atomic.Int64
			var wg sync.WaitGroup
			for i, r := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := r.Claim(ctx, "notice:ev_1:{m}:c-x", time.Minute)
					if err != nil {
						t.Error(err)
					}
					if ok {
						wins.Add(1)
						winner.Store(int64(i))
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d replicas won the claim, want 1", wins.Load())
			}
			w := replicas[winner.Load()]
			other := replicas[(winner.Load()+1)%int64(len(replicas))]
			if ok, _ := w.Claim(ctx, "notice:ev_1:{m}:c-x", time.Minute); !ok {
				t.Error("the winner's own claim again: refused")
			}
			if err := other.Release(ctx, "notice:ev_1:{m}:c-x"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := other.Claim(ctx, "notice:ev_1:{m}:c-x", time.Minute); ok {
				t.Error("a release by another replica freed the claim")
			}
			if err := w.Release(ctx, "notice:ev_1:{m}:c-x"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := other.Claim(ctx, "notice:ev_1:{m}:c-x", 200*time.Millisecond); !ok {
				t.Error("a released claim cannot be taken")
			}
			time.Sleep(400 * time.Millisecond)
			if ok, _ := w.Claim(ctx, "notice:ev_1:{m}:c-x", time.Minute); !ok {
				t.Error("an expired claim cannot be taken")
			}
			// The day's count: every message once, refused past the
			// limit without being counted; the same message again (a
			// retry) is not counted twice.
			day := "day:{m}:2026-12-14"
			seeds := 0
			seed := func(context.Context) ([]string, error) { seeds++; return []string{"s1"}, nil }
			for i, msg := range []string{"a", "b", "a", "c", "d"} {
				n, ok, err := other.Count(ctx, day, msg, 3, time.Minute, seed)
				if err != nil {
					t.Fatal(err)
				}
				// Seeded with one message sent before: a, b fill the day.
				want := []struct {
					n  int
					ok bool
				}{{2, true}, {3, true}, {3, true}, {3, false}, {3, false}}[i]
				if n != want.n || ok != want.ok {
					t.Errorf("count %d (%s): %d %v, want %d %v", i, msg, n, ok, want.n, want.ok)
				}
			}
			if seeds != 1 {
				t.Errorf("seeded %d times, want once (the day was missing once)", seeds)
			}
			// Lost (a flush; here: a gate of a prefix of its own, empty):
			// rebuilt from the seed, which holds what was recorded as sent.
			lost := redisgate.NewNoticeClaims(c, redisgate.WithPrefix("t"+testenv.RandomID()+":"))
			full := func(context.Context) ([]string, error) { return []string{"s1", "a", "b"}, nil }
			if n, ok, err := lost.Count(ctx, day, "e", 3, time.Minute, full); err != nil || ok || n != 3 {
				t.Errorf("after the loss: %d %v %v, want refused at 3", n, ok, err)
			}
			if n, ok, err := lost.Count(ctx, day, "b", 3, time.Minute, full); err != nil || !ok || n != 3 {
				t.Errorf("a message counted before the loss: %d %v %v, want ok at 3", n, ok, err)
			}
			if _, _, err := lost.Count(ctx, "day:{m}:2026-12-15", "-", 3, time.Minute, nil); err == nil {
				t.Error("the seeded mark accepted as a message")
			}
		})
	}
}
