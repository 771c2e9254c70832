package redisgate

import (
	"context"
	"fmt"
	"sync"
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
// Expiry follows the engine's clock: the wall clock by default (TIME
// inside scripts is the wall clock, and a ticker runs the keys' TTLs down
// every TTLTick), or a clock set with SetTime, which stands still until
// it is set again (tests: each SetTime runs the TTLs down by the time it
// moved). The ticker, not miniredis's ClockTTL: ClockTTL walks and sorts
// every key before each command, which made every decision O(keys).
//
// What the engine keeps lives in this process only: one roomcal instance
// per embedded engine. Several replicas need a shared Redis.
type Embedded struct {
	m        *miniredis.Miniredis
	password string
	client   *redis.Client

	mu     sync.Mutex
	manual bool      // SetTime was called: the ticker stands aside
	last   time.Time // the clock the TTLs were last run down to
	stop   chan struct{}
	done   chan struct{}
}

// TTLTick is how often the embedded engine runs its keys' TTLs down: a
// lock or a staging key outlives its TTL by at most this much. Holds do
// not depend on it (their expiry is read against TIME in the scripts).
const TTLTick = 50 * time.Millisecond

// tick runs the TTLs down with the wall clock until Close.
func (e *Embedded) tick() {
	defer close(e.done)
	t := time.NewTicker(TTLTick)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		e.mu.Lock()
		if !e.manual {
			now := time.Now()
			if d := now.Sub(e.last); d > 0 {
				e.m.FastForward(d)
			}
			e.last = now
		}
		e.mu.Unlock()
	}
}

// StartEmbedded starts an embedded engine and a client connected to it.
func StartEmbedded() (*Embedded, error) {
	m := miniredis.NewMiniRedis()
	password := randomID() + randomID()
	m.RequireAuth(password)
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("embedded engine: %w", err)
	}
	e := &Embedded{m: m, password: password, last: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go e.tick()
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
func (e *Embedded) SetTime(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := t.Sub(e.last)
	if !e.manual {
		e.manual, d = true, 0
	}
	e.m.SetTime(t)
	if d > 0 {
		e.m.FastForward(d)
	}
	e.last = t
}

// Close stops the client and the engine.
func (e *Embedded) Close() {
	e.mu.Lock()
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	e.mu.Unlock()
	<-e.done
	_ = e.client.Close()
	e.m.Close()
}

// NewClient is another client of the same engine (a second pool), as a
// second replica's would be to a shared Redis. The caller closes it.
func (e *Embedded) NewClient() redis.UniversalClient { return e.newClient() }
