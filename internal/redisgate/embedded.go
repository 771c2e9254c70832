package redisgate

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Embedded is a Redis-compatible engine running inside the process
// (miniredis, its Lua run by gopher-lua), for roomcal without
// ROOMCAL_REDIS_URL. The gates run exactly the same Lua scripts on it as
// on Redis: there is one implementation of every decision. Its client
// talks to the engine over a loopback socket with a random password
// that only this process knows (an in-memory net.Pipe has no buffer: a
// pipeline larger than the engine reads at once would deadlock on it).
//
// Expiry follows the engine's clock: the wall clock by default (TTLs run
// down as time passes, and TIME inside scripts agrees), or a clock set
// with SetTime, which stands still until it is set again (tests).
//
// What the engine keeps lives in this process only: one roomcal instance
// per embedded engine. Several replicas need a shared Redis.
type Embedded struct {
	m        *miniredis.Miniredis
	password string
	client   *redis.Client
}

// StartEmbedded starts an embedded engine and a client connected to it.
func StartEmbedded() (*Embedded, error) {
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true)
	password := randomID() + randomID()
	m.RequireAuth(password)
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("embedded engine: %w", err)
	}
	e := &Embedded{m: m, password: password}
	e.client = e.newClient()
	if err := e.client.Ping(context.Background()).Err(); err != nil {
		e.Close()
		return nil, fmt.Errorf("embedded engine: %w", err)
	}
	return e, nil
}

func (e *Embedded) newClient() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:     e.m.Addr(),
		Password: e.password,
		// Each command holds the engine's one lock: more connections do
		// not buy parallelism, only goroutines parked on the lock.
		PoolSize:        32,
		DisableIdentity: true,
	})
}

// Client is the client of the engine, to give to New, NewEventGate and
// NewLimiter.
func (e *Embedded) Client() redis.UniversalClient { return e.client }

// FlushAll drops everything the engine holds, as FLUSHALL does to Redis.
func (e *Embedded) FlushAll() { e.m.FlushAll() }

// SetTime sets the engine's clock (TIME in scripts, and key expiry) to
// t; it stands still there until set again. For tests.
func (e *Embedded) SetTime(t time.Time) { e.m.SetTime(t) }

// Close stops the client and the engine.
func (e *Embedded) Close() {
	_ = e.client.Close()
	e.m.Close()
}

// NewClient is another client of the same engine (a second pool), as a
// second replica's would be to a shared Redis. The caller closes it.
func (e *Embedded) NewClient() redis.UniversalClient { return e.newClient() }
