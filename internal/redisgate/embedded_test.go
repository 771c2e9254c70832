package redisgate_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/eventgatetest"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/limittest"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// The contract suites on the embedded engine need no server: they run in
// a plain `go test ./...` as well as under `make test`, where the same
// suites also run on a real Redis and a Redis Cluster.

// fakeClock is an engine's clock that moves only when told: expiry of
// holds, locks and windows is then exact, and tests wait for nothing.
type fakeClock struct {
	mu  sync.Mutex
	e   *redisgate.Embedded
	now time.Time
}

func newFakeClock(e *redisgate.Embedded) *fakeClock {
	c := &fakeClock{e: e, now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	e.SetTime(c.now)
	return c
}

func (c *fakeClock) Advance(_ *testing.T, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.e.SetTime(c.now)
}

// One engine per subtest on a fake clock; Flush is the engine's FLUSHALL.
func TestEmbeddedContract(t *testing.T) {
	gatetest.Run(t, func(t *testing.T) gatetest.Target {
		e := gatetest.Embedded(t)
		clock := newFakeClock(e)
		return gatetest.Target{
			Gate:   redisgate.New(e.Client()),
			Flush:  func(*testing.T) { e.FlushAll() },
			Elapse: clock.Advance,
			Sited: func(_ *testing.T, slot func(string) string) booking.Gate {
				return redisgate.New(e.Client(), redisgate.WithSlots(slot))
			},
		}
	})
}

// One engine shared by every subtest, on the wall clock, as `roomcal
// serve` runs it: holds expire as time passes.
func TestEmbeddedContractWallClock(t *testing.T) {
	e := gatetest.Embedded(t)
	c := e.Client()
	gatetest.Run(t, func(t *testing.T) gatetest.Target { return prefixTarget(t, c) })
}

func TestEmbeddedEventContract(t *testing.T) {
	eventgatetest.Run(t, func(t *testing.T) eventgatetest.Target {
		e := gatetest.Embedded(t)
		return eventgatetest.Target{
			Gate:  redisgate.NewEventGate(e.Client()),
			Flush: func(*testing.T) { e.FlushAll() },
		}
	})
}

func TestEmbeddedEventContractShared(t *testing.T) {
	e := gatetest.Embedded(t)
	c := e.Client()
	eventgatetest.Run(t, func(t *testing.T) eventgatetest.Target { return eventTarget(t, c) })
}

func TestEmbeddedLimiterContract(t *testing.T) {
	limittest.RunSingle(t, func(t *testing.T) limittest.Target {
		e := gatetest.Embedded(t)
		clock := newFakeClock(e)
		return limittest.Target{
			Limiter: redisgate.NewLimiter(e.Client()),
			Flush:   func(*testing.T) { e.FlushAll() },
			Elapse:  clock.Advance,
		}
	})
}

// The wall clock, and a second client of the same engine as a replica
// would be (it shares the counts); each subtest under its own prefix.
func TestEmbeddedLimiterContractWallClock(t *testing.T) {
	e := gatetest.Embedded(t)
	c := e.Client()
	limittest.Run(t, func(t *testing.T) limittest.Target {
		prefix := "t" + testenv.RandomID() + ":"
		t.Cleanup(func() { deleteKeys(t, c, prefix) })
		return limittest.Target{
			Limiter: redisgate.NewLimiter(c, redisgate.WithPrefix(prefix)),
			Replica: redisgate.NewLimiter(embeddedReplica(t, e), redisgate.WithPrefix(prefix)),
			Flush:   func(t *testing.T) { deleteKeys(t, c, prefix) },
			Elapse:  sleep,
		}
	})
}

// embeddedReplica is a second client of e, closed when t ends.
func embeddedReplica(t testing.TB, e *redisgate.Embedded) redis.UniversalClient {
	c := e.NewClient()
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A pipeline far larger than one read of the engine (Versions of a few
// thousand rooms, Summaries of as many events) goes through: the client
// must not block writing while the engine blocks answering.
func TestEmbeddedLargePipelines(t *testing.T) {
	e := gatetest.Embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rooms := make([]string, 3000)
	for i := range rooms {
		rooms[i] = fmt.Sprintf("room-with-a-long-name-%04d", i)
	}
	vs, err := redisgate.New(e.Client()).Versions(ctx, rooms)
	if err != nil || len(vs) != len(rooms) {
		t.Fatalf("Versions of %d rooms: %d answers, %v", len(rooms), len(vs), err)
	}
	sums, err := redisgate.NewEventGate(e.Client()).Summaries(ctx, rooms)
	if err != nil || len(sums) != 0 {
		t.Fatalf("Summaries of %d unknown events: %v, %v", len(rooms), sums, err)
	}
}
