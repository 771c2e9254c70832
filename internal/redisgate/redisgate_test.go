package redisgate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// client connects to url, closing the client when t ends.
func client(t testing.TB, url string) redis.UniversalClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := redisgate.Dial(ctx, url)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// prefixTarget makes a Target on a shared Redis: its keys live under a
// random prefix, and Flush deletes exactly those (the shared server is
// never flushed whole).
func prefixTarget(t *testing.T, c redis.UniversalClient, opts ...redisgate.Option) gatetest.Target {
	t.Helper()
	prefix := "t" + testenv.RandomID() + ":"
	g := redisgate.New(c, append([]redisgate.Option{redisgate.WithPrefix(prefix)}, opts...)...)
	flush := func(t *testing.T) {
		t.Helper()
		deleteKeys(t, c, prefix)
	}
	t.Cleanup(func() { deleteKeys(t, c, prefix) })
	sited := func(_ *testing.T, slot func(string) string) booking.Gate {
		return redisgate.New(c, append([]redisgate.Option{redisgate.WithPrefix(prefix), redisgate.WithSlots(slot)}, opts...)...)
	}
	return gatetest.Target{Gate: g, Flush: flush, Elapse: sleep, Sited: sited}
}

func sleep(_ *testing.T, d time.Duration) { time.Sleep(d) }

// deleteKeys deletes every key under prefix, as one flush would: the keys
// of one room (one hash tag, so one slot) go in a single DEL, atomically,
// so concurrent scripts never see a half-flushed room (FLUSHALL never
// leaves one).
func deleteKeys(t testing.TB, c redis.UniversalClient, prefix string) {
	t.Helper()
	ctx := context.Background()
	del := func(ctx context.Context, node *redis.Client) error {
		byTag := map[string][]string{}
		iter := node.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			tag := k
			if i := strings.IndexByte(k, '{'); i >= 0 {
				if j := strings.IndexByte(k[i:], '}'); j > 0 {
					tag = k[i : i+j+1]
				}
			}
			byTag[tag] = append(byTag[tag], k)
		}
		if err := iter.Err(); err != nil {
			return err
		}
		for _, keys := range byTag {
			if err := node.Del(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch c := c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, del)
	case *redis.Client:
		err = del(ctx, c)
	default:
		t.Fatalf("deleteKeys: unexpected client %T", c)
	}
	if err != nil {
		t.Fatalf("delete keys %s*: %v", prefix, err)
	}
}

// The contract suite on the Redis started by `make test`, each subtest
// under its own key prefix.
func TestContract(t *testing.T) {
	c := client(t, testenv.RedisURL(t))
	gatetest.Run(t, func(t *testing.T) gatetest.Target { return prefixTarget(t, c) })
}

// The contract suite again with tiny chunks, so that every Load and
// Apply of more than a few intervals is written in several scripts.
func TestContractChunked(t *testing.T) {
	c := client(t, testenv.RedisURL(t))
	gatetest.Run(t, func(t *testing.T) gatetest.Target { return prefixTarget(t, c, redisgate.WithChunk(3)) })
}

// The contract suite with a private Redis per subtest, which Flush
// empties with FLUSHALL, as an operator or a restart would.
func TestContractFlushAll(t *testing.T) {
	gatetest.Run(t, func(t *testing.T) gatetest.Target {
		srv := startRedisSerially(t)
		c := client(t, srv.URL())
		flush := func(t *testing.T) {
			t.Helper()
			if err := c.FlushAll(context.Background()).Err(); err != nil {
				t.Fatalf("FLUSHALL: %v", err)
			}
		}
		sited := func(_ *testing.T, slot func(string) string) booking.Gate {
			return redisgate.New(c, redisgate.WithSlots(slot))
		}
		return gatetest.Target{Gate: redisgate.New(c), Flush: flush, Elapse: sleep, Sited: sited}
	})
}

// startMu serializes private server start-ups: testenv.FreePort frees
// its port before the server binds it, so two start-ups at once may be
// handed the same port and end up sharing one server.
var startMu sync.Mutex

func startRedisSerially(t *testing.T) *testenv.Server {
	t.Helper()
	startMu.Lock()
	defer startMu.Unlock()
	return testenv.StartRedis(t)
}

// Every key of a room carries the same hash tag, {room:ID}, so one slot.
func TestKeysShareOneSlot(t *testing.T) {
	c := client(t, testenv.RedisURL(t))
	ctx := context.Background()
	prefix := "t" + testenv.RandomID() + ":"
	t.Cleanup(func() { deleteKeys(t, c, prefix) })
	g := redisgate.New(c, redisgate.WithPrefix(prefix))
	rooms := []string{"a", "room:b", "c:d", "é"}
	s := time.Date(2031, 1, 6, 10, 0, 0, 0, time.UTC)
	for _, room := range rooms {
		objs := map[string]booking.ObjectState{
			"x": {ETag: "1", Busy: []booking.Busy{{Start: s, End: s.Add(time.Hour)}}},
			"y": {ETag: "1", Busy: []booking.Busy{{Start: s, End: s.Add(72 * time.Hour)}}},
		}
		if err := g.Load(ctx, room, booking.Snapshot{Token: "t", Objects: objs}); err != nil {
			t.Fatal(err)
		}
		if err := g.Claim(ctx, room, booking.Claim{HoldID: "h", TTL: time.Minute,
			Intervals: []booking.Busy{{Start: s.Add(-2 * time.Hour), End: s.Add(-time.Hour)}}}); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := g.Lock(ctx, room, time.Minute); err != nil || !ok {
			t.Fatalf("Lock: %v %v", ok, err)
		}
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	byTag := map[string]int{}
	for _, k := range keys {
		byTag[hashTag(k)]++
	}
	for _, room := range rooms {
		tag := "room:" + room
		// meta busy long etags objm holds holdexp holdm hmax lock
		if byTag[tag] != 10 {
			t.Errorf("room %q: %d keys with hash tag %q, want 10 (keys: %v)", room, byTag[tag], tag, keys)
		}
		delete(byTag, tag)
	}
	if len(byTag) != 0 {
		t.Errorf("keys with other hash tags: %v", byTag)
	}
}

// Expired, released and committed holds leave no key behind.
func TestHoldsLeaveNoKeys(t *testing.T) {
	c := client(t, testenv.RedisURL(t))
	ctx := context.Background()
	prefix := "t" + testenv.RandomID() + ":"
	t.Cleanup(func() { deleteKeys(t, c, prefix) })
	g := redisgate.New(c, redisgate.WithPrefix(prefix))
	s := time.Date(2031, 1, 6, 10, 0, 0, 0, time.UTC)
	if err := g.Load(ctx, "r", booking.Snapshot{}); err != nil {
		t.Fatal(err)
	}
	claim := func(id string, ttl time.Duration, day int) {
		t.Helper()
		st := s.AddDate(0, 0, day)
		if err := g.Claim(ctx, "r", booking.Claim{HoldID: id, TTL: ttl,
			Intervals: []booking.Busy{{Start: st, End: st.Add(time.Hour)}}}); err != nil {
			t.Fatal(err)
		}
	}
	claim("expires", 200*time.Millisecond, 0)
	claim("released", time.Minute, 1)
	claim("committed", time.Minute, 2)
	if err := g.Release(ctx, "r", "released"); err != nil {
		t.Fatal(err)
	}
	st := s.AddDate(0, 0, 2)
	if err := g.Commit(ctx, "r", "committed", "b", "e", []booking.Busy{{Start: st, End: st.Add(time.Hour)}}, 0, nil); err != nil {
		t.Fatal(err)
	}
	holdKeys := func() []string {
		ks, err := c.Keys(ctx, prefix+"{room:r}:hold*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	if ks := holdKeys(); len(ks) == 0 {
		t.Fatal("no hold keys while a hold is live")
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(holdKeys()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("hold keys left after every hold ended: %v", holdKeys())
		}
		time.Sleep(50 * time.Millisecond)
		if _, err := g.Busy(ctx, "r", s, s.AddDate(0, 0, 7)); err != nil { // purges
			t.Fatal(err)
		}
	}
}

// hashTag is the part of key Redis Cluster hashes: between the first '{'
// and the next '}', when not empty.
func hashTag(key string) string {
	i := strings.IndexByte(key, '{')
	if i < 0 {
		return key
	}
	j := strings.IndexByte(key[i+1:], '}')
	if j <= 0 {
		return key
	}
	return key[i+1 : i+1+j]
}

// A Redis that stops answering gives ErrUnavailable; once back (empty, as
// after a restart) the room must be rebuilt.
func TestUnavailable(t *testing.T) {
	srv := startRedisSerially(t)
	c := client(t, srv.URL())
	g := redisgate.New(c)
	ctx := context.Background()
	s := time.Date(2031, 1, 6, 10, 0, 0, 0, time.UTC)
	claim := booking.Claim{HoldID: "h", TTL: time.Minute, Intervals: []booking.Busy{{Start: s, End: s.Add(time.Hour)}}}
	if err := g.Load(ctx, "roomq7", booking.Snapshot{Token: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := g.Claim(ctx, "roomq7", claim); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"Claim", func(ctx context.Context) error { return g.Claim(ctx, "roomq7", claim) }},
		{"Commit", func(ctx context.Context) error {
			return g.Commit(ctx, "roomq7", "h", "b", "e", claim.Intervals, 0, nil)
		}},
		{"Release", func(ctx context.Context) error { return g.Release(ctx, "roomq7", "h") }},
		{"Busy", func(ctx context.Context) error { _, err := g.Busy(ctx, "roomq7", s, s.Add(time.Hour)); return err }},
		{"Token", func(ctx context.Context) error { _, err := g.Token(ctx, "roomq7"); return err }},
		{"Objects", func(ctx context.Context) error { _, _, err := g.Objects(ctx, "roomq7"); return err }},
		{"Apply", func(ctx context.Context) error { return g.Apply(ctx, "roomq7", "t", nil, []string{"b"}, nil) }},
		{"Load", func(ctx context.Context) error { return g.Load(ctx, "roomq7", booking.Snapshot{}) }},
		{"Lock", func(ctx context.Context) error { _, _, err := g.Lock(ctx, "roomq7", time.Second); return err }},
		{"Retire", func(ctx context.Context) error { return g.Retire(ctx, "roomq7", true) }},
		{"Ping", g.Ping},
	}
	for _, tc := range calls {
		err := tc.call(ctx)
		if !errors.Is(err, redisgate.ErrUnavailable) {
			t.Errorf("%s with Redis down: got %v, want ErrUnavailable", tc.name, err)
		}
		if tc.name != "Ping" && err != nil && !strings.Contains(err.Error(), "roomq7") {
			t.Errorf("%s: error %q does not name the room", tc.name, err)
		}
	}
	// A cancelled ctx is the caller's doing, not Redis's.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.Claim(cctx, "roomq7", claim); !errors.Is(err, context.Canceled) || errors.Is(err, redisgate.ErrUnavailable) {
		t.Errorf("Claim with a cancelled ctx: %v", err)
	}

	srv.Start() // empty, as after a crash
	var err error
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err = g.Token(ctx, "roomq7")
		if !errors.Is(err, redisgate.ErrUnavailable) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(err, booking.ErrNoState) {
		t.Fatalf("Token after restart: got %v, want ErrNoState", err)
	}
	if err := g.Load(ctx, "roomq7", booking.Snapshot{Token: "t2"}); err != nil {
		t.Fatal(err)
	}
	if err := g.Claim(ctx, "roomq7", claim); err != nil {
		t.Errorf("Claim after rebuild: %v", err)
	}
}

// benchRoom loads a room of n objects, a fifth of them weekly recurring
// (four times), spread over n/10 days: 2,000 objects give about 2,800
// intervals over 200 days, and the density per week does not depend on n.
func benchRoom(b *testing.B, n int) (*redisgate.Gate, string, map[string]booking.ObjectState) {
	b.Helper()
	c := client(b, testenv.RedisURL(b))
	prefix := "b" + testenv.RandomID() + ":"
	b.Cleanup(func() { deleteKeys(b, c, prefix) })
	g := redisgate.New(c, redisgate.WithPrefix(prefix))
	objs := roomObjects(n)
	room := "bench"
	if err := g.Load(context.Background(), room, booking.Snapshot{Token: "t", Objects: objs}); err != nil {
		b.Fatal(err)
	}
	return g, room, objs
}

var benchBase = time.Date(2031, 1, 6, 0, 0, 0, 0, time.UTC)

func roomObjects(n int) map[string]booking.ObjectState {
	objs := make(map[string]booking.ObjectState, n)
	days := n / 10
	for i := range n {
		ref := fmt.Sprintf("obj-%05d", i)
		occ := 1
		if i%5 == 0 {
			occ = 4 // weekly, four times
		}
		var bs []booking.Busy
		for w := range occ {
			s := benchBase.AddDate(0, 0, i%days+7*w).Add(time.Duration(8+i%10) * time.Hour)
			bs = append(bs, booking.Busy{Ref: ref, Kind: booking.KindBooking, Start: s, End: s.Add(45 * time.Minute),
				Title: "Réunion d'équipe " + ref, Organizer: "member-" + fmt.Sprint(i%400)})
		}
		objs[ref] = booking.ObjectState{ETag: "\"" + ref + "\"", Busy: bs}
	}
	return objs
}

// BenchmarkClaim claims (and releases) a free slot in a loaded room.
func BenchmarkClaim(b *testing.B) {
	g, room, _ := benchRoom(b, 2000)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		s := benchBase.AddDate(0, 0, i%200).Add(19 * time.Hour)
		id := fmt.Sprintf("h%d", i)
		c := booking.Claim{HoldID: id, TTL: time.Minute, Buffer: 10 * time.Minute,
			Intervals: []booking.Busy{{Start: s, End: s.Add(time.Hour), Kind: booking.KindBooking, Title: "x"}}}
		if err := g.Claim(ctx, room, c); err != nil {
			b.Fatal(err)
		}
		if err := g.Release(ctx, room, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimParallel claims contested slots from many goroutines.
func BenchmarkClaimParallel(b *testing.B) {
	g, room, _ := benchRoom(b, 2000)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		id := testenv.RandomID()
		for pb.Next() {
			n++
			s := benchBase.AddDate(0, 0, n%200).Add(19 * time.Hour)
			err := g.Claim(ctx, room, booking.Claim{HoldID: id + fmt.Sprint(n), TTL: 50 * time.Millisecond,
				Intervals: []booking.Busy{{Start: s, End: s.Add(time.Hour)}}})
			var ce *booking.ConflictError
			if err != nil && !errors.As(err, &ce) {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBusyWeek reads one week of a loaded room. With ten times the
// objects (and the same number per week) it should cost about the same:
// O(log n + k).
func BenchmarkBusyWeek(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			g, room, _ := benchRoom(b, n)
			ctx := context.Background()
			from := benchBase.AddDate(0, 0, 70)
			bs, err := g.Busy(ctx, room, from, from.AddDate(0, 0, 7))
			if err != nil || len(bs) == 0 {
				b.Fatalf("Busy: %d, %v", len(bs), err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := g.Busy(ctx, room, from, from.AddDate(0, 0, 7)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(bs)), "intervals/op")
		})
	}
}

// BenchmarkLoad2000 rebuilds a room of 2,000 objects.
func BenchmarkLoad2000(b *testing.B) {
	g, room, objs := benchRoom(b, 2000)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if err := g.Load(ctx, room, booking.Snapshot{Token: "t", Objects: objs}); err != nil {
			b.Fatal(err)
		}
	}
}
