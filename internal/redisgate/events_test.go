package redisgate_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/eventgatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// eventTarget makes an events contract Target on a shared Redis: its keys
// live under a random prefix, and Flush deletes exactly those, each
// event's (and the index's) in one DEL, as a flush would.
func eventTarget(t *testing.T, c redis.UniversalClient, opts ...redisgate.Option) eventgatetest.Target {
	t.Helper()
	prefix := "t" + testenv.RandomID() + ":"
	g := redisgate.NewEventGate(c, append([]redisgate.Option{redisgate.WithPrefix(prefix)}, opts...)...)
	flush := func(t *testing.T) {
		t.Helper()
		deleteKeys(t, c, prefix)
	}
	t.Cleanup(func() { deleteKeys(t, c, prefix) })
	return eventgatetest.Target{Gate: g, Flush: flush}
}

// The events contract suite on the Redis started by `make test`, each
// subtest under its own key prefix.
func TestEventContract(t *testing.T) {
	c := client(t, testenv.RedisURL(t))
	eventgatetest.Run(t, func(t *testing.T) eventgatetest.Target { return eventTarget(t, c) })
}

// The events contract suite with a private Redis per subtest, which
// Flush empties with FLUSHALL, with the default prefix.
func TestEventContractFlushAll(t *testing.T) {
	eventgatetest.Run(t, func(t *testing.T) eventgatetest.Target {
		srv := startRedisSerially(t)
		c := client(t, srv.URL())
		flush := func(t *testing.T) {
			t.Helper()
			if err := c.FlushAll(context.Background()).Err(); err != nil {
				t.Fatalf("FLUSHALL: %v", err)
			}
		}
		return eventgatetest.Target{Gate: redisgate.NewEventGate(c), Flush: flush}
	})
}

// Every key is one of the documented layout: an event's carry
// {event:ID}, the index's {events}.
func TestEventKeys(t *testing.T) {
	c := client(t, testenv.RedisURL(t))
	ctx := context.Background()
	prefix := "t" + testenv.RandomID() + ":"
	t.Cleanup(func() { deleteKeys(t, c, prefix) })
	g := redisgate.NewEventGate(c, redisgate.WithPrefix(prefix))
	now := time.Date(2031, 5, 1, 9, 0, 0, 0, time.UTC)
	ids := []string{"a", "event:b", "c:d", "é"}
	for _, id := range ids {
		ev := events.Event{ID: id, Title: id, Start: now.Add(time.Hour), End: now.Add(2 * time.Hour),
			Settings: events.Settings{Capacity: 1, Waitlist: true, Start: now.Add(time.Hour)}}
		if err := g.Load(ctx, id, events.State{Event: ev}, ""); err != nil {
			t.Fatal(err)
		}
		st, _ := g.State(ctx, id)
		for _, m := range []string{"x", "y", "z"} {
			if _, err := g.Register(ctx, id, events.Registration{Member: m}, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := g.Unregister(ctx, id, "y"); err != nil {
			t.Fatal(err)
		}
		if err := g.Written(ctx, id, st.Gen, 4, "e"); err != nil {
			t.Fatal(err)
		}
		lease, ok, err := g.Lock(ctx, id, time.Minute)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if _, err := g.Unregister(ctx, id, "x"); err != nil {
			t.Fatal(err)
		}
		if err := g.Rollback(ctx, id, st.Gen, lease.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := g.Unregister(ctx, id, "z"); err != nil { // a tombstone and a log entry stay
			t.Fatal(err)
		}
		if _, err := g.Register(ctx, id, events.Registration{Member: "w"}, now); err != nil { // waits
			t.Fatal(err)
		}
	}
	if err := g.IndexLoad(ctx, "tok", map[string]time.Time{"a": now}); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	layout := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(\{event:([^}]*)\}:(state|members|confirmed|waiting|tombs|log|fail|lock)|\{events\}:(idx|meta))$`)
	seen := map[string]bool{}
	for _, k := range keys {
		m := layout.FindStringSubmatch(k)
		if m == nil {
			t.Errorf("key %q outside the layout", k)
			continue
		}
		seen[m[3]+m[4]] = true
	}
	for _, want := range []string{"state", "members", "confirmed", "waiting", "tombs", "log", "fail", "lock", "idx", "meta"} {
		if !seen[want] {
			t.Errorf("no %s key among %v", want, keys)
		}
	}
}
