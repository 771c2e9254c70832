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
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/eventgatetest"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/limittest"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// clusterClient dials the Redis Cluster started by `make test` (three
// masters with one replica each).
func clusterClient(t *testing.T) redis.UniversalClient {
	t.Helper()
	c := client(t, testenv.RedisClusterURL(t))
	if _, ok := c.(*redis.ClusterClient); !ok {
		t.Fatalf("Dial of the cluster URL gave a %T", c)
	}
	return c
}

// acker is a gate that counts its replica acknowledgements.
type acker interface{ AckStats() redisgate.AckStats }

// ackTotals sums the acknowledgements of the gates of a suite's subtests.
type ackTotals struct {
	mu  sync.Mutex
	sum redisgate.AckStats
}

// watch adds g's counts to the totals when t ends, and fails t if any of
// its decisions was refused or stood without a replica: every master of
// a healthy cluster has one.
func (a *ackTotals) watch(t *testing.T, g acker) {
	t.Cleanup(func() {
		s := g.AckStats()
		if s.Refused != 0 || s.Alone != 0 {
			t.Errorf("on a healthy cluster: %+v, want every decision acknowledged by a replica", s)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.sum.Replicated += s.Replicated
		a.sum.Alone += s.Alone
		a.sum.Refused += s.Refused
	})
}

// The booking gate's contract suite on the Redis Cluster of `make test`,
// the way roomcal runs on a cluster: every decision waits for a replica
// (WithReplicaAck). Tiny chunks make every Load and Apply of more than a
// few intervals several scripts. A script touching keys of two slots
// would fail with CROSSSLOT; one answered before its replica has it would
// not be counted as replicated.
func TestContractCluster(t *testing.T) {
	c := clusterClient(t)
	var acks ackTotals
	t.Run("suite", func(t *testing.T) {
		gatetest.Run(t, func(t *testing.T) gatetest.Target {
			tg := prefixTarget(t, c, redisgate.WithChunk(5), redisgate.WithReplicaAck(1, 0))
			acks.watch(t, tg.Gate.(*redisgate.Gate))
			return tg
		})
	})
	if acks.sum.Replicated == 0 {
		t.Fatalf("no decision went through the replica acknowledgement: %+v", acks.sum)
	}
	t.Logf("replica acknowledgements: %+v", acks.sum)
}

// The events contract suite on the Redis Cluster of `make test`, with
// replica acknowledgements; Summaries' pipeline spans slots there.
func TestEventContractCluster(t *testing.T) {
	c := clusterClient(t)
	var acks ackTotals
	t.Run("suite", func(t *testing.T) {
		eventgatetest.Run(t, func(t *testing.T) eventgatetest.Target {
			tg := eventTarget(t, c, redisgate.WithReplicaAck(1, 0))
			acks.watch(t, tg.Gate.(*redisgate.EventGate))
			return tg
		})
	})
	if acks.sum.Replicated == 0 {
		t.Fatalf("no decision went through the replica acknowledgement: %+v", acks.sum)
	}
	t.Logf("replica acknowledgements: %+v", acks.sum)
}

// The limiters' contract suite on the Redis Cluster of `make test`: each
// member's counter is one key, in the member's slot; Replica is a Limiter
// on a second cluster client (another roomcal replica).
func TestLimiterContractCluster(t *testing.T) {
	url := testenv.RedisClusterURL(t)
	c := clusterClient(t)
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

// TestReplicaAckFailover shows the hazard of asynchronous replication and
// that WithReplicaAck closes it. On a private cluster, a room and an event
// on one master get decisions that reach the replica (a claim and commit,
// registrations); then the replica lags (it is paused, and the master's
// link to it filled) while more decisions are taken; then the master is
// killed and its replica takes over. Without replica acknowledgements,
// the decisions taken during the lag were acknowledged and are lost: the
// same slot is granted again, the registrations are gone. With them,
// those decisions are refused (ErrUnavailable: never acknowledged), and
// every acknowledged one is on the promoted replica. After the failover
// the promoted master has no replica (its old master is down): decisions
// stand alone, as on a single Redis; once the old master is back as its
// replica, they are replicated again.
//
// Only the decisions taken during the lag wait 200 ms for their replica
// (the lag must outlast the wait, and the replica's pause must stay under
// the cluster's node timeout); the others, which the test needs to stand
// and which a loaded machine may replicate slowly, wait up to 2 s. The
// private cluster's node timeout is 3 s, so that a pause made long by a
// loaded machine (the link filled, then the waits) does not have the
// cluster fail the paused replica, which would make a different test.
func TestReplicaAckFailover(t *testing.T) {
	const nodeTimeout = 3 * time.Second
	cl := testenv.StartRedisClusterWith(t, nodeTimeout)
	c := client(t, cl.URL())
	ctx := context.Background()
	used := map[string]bool{} // masters killed or promoted by an earlier case
	tests := []struct {
		name string
		ack  bool
	}{
		{"without replica acknowledgements acknowledged decisions are lost", false},
		{"with replica acknowledgements nothing acknowledged is lost", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := "t" + testenv.RandomID() + ":"
			opts := []redisgate.Option{redisgate.WithPrefix(prefix)}
			lagOpts := []redisgate.Option{redisgate.WithPrefix(prefix)}
			if tt.ack {
				lagOpts = append(lagOpts, redisgate.WithReplicaAck(1, 200*time.Millisecond))
				opts = append(opts, redisgate.WithReplicaAck(1, 2*time.Second))
			}
			g, lg := redisgate.New(c, opts...), redisgate.New(c, lagOpts...)
			eg, leg := redisgate.NewEventGate(c, opts...), redisgate.NewEventGate(c, lagOpts...)

			// A room and an event whose keys live on the same master, one
			// no earlier case killed.
			var room, event string
			var master *testenv.ClusterNode
			for master == nil {
				room, event = "r"+testenv.RandomID(), "e"+testenv.RandomID()
				m := cl.MasterOf(t, prefix+"{room:"+room+"}")
				if !used[m.Addr()] && cl.MasterOf(t, prefix+"{event:"+event+"}").Addr() == m.Addr() {
					master = m
				}
			}
			used[master.Addr()] = true
			replica := cl.ReplicaOf(t, prefix+"{room:"+room+"}")

			day := time.Date(2031, 3, 3, 0, 0, 0, 0, time.UTC)
			at := func(h int) []booking.Busy {
				s := day.Add(time.Duration(h) * time.Hour)
				return []booking.Busy{{Start: s, End: s.Add(time.Hour), Kind: booking.KindBooking}}
			}
			bookOn := func(ctx context.Context, g *redisgate.Gate, id string, hour int) error {
				if err := g.Claim(ctx, room, booking.Claim{HoldID: "h-" + id, TTL: time.Hour, Intervals: at(hour)}); err != nil {
					return err
				}
				return g.Commit(ctx, room, "h-"+id, id, "etag-"+id, at(hour), 0, nil)
			}
			book := func(ctx context.Context, id string, hour int) error { return bookOn(ctx, g, id, hour) }
			registerOn := func(ctx context.Context, eg *redisgate.EventGate, m string) error {
				_, err := eg.Register(ctx, event, events.Registration{Member: m}, day)
				return err
			}
			register := func(ctx context.Context, m string) error { return registerOn(ctx, eg, m) }
			if err := g.Load(ctx, room, booking.Snapshot{Token: "t"}); err != nil {
				t.Fatal(err)
			}
			ev := events.Event{ID: event, Title: "AG", Start: day.AddDate(0, 1, 0), End: day.AddDate(0, 1, 0).Add(time.Hour),
				Settings: events.Settings{Capacity: 100, Waitlist: true, Start: day.AddDate(0, 1, 0)}}
			if err := eg.Load(ctx, event, events.State{Event: ev}, ""); err != nil {
				t.Fatal(err)
			}
			// Before the lag: replicated, acknowledged or not.
			if err := book(ctx, "before", 9); err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if err := register(ctx, fmt.Sprintf("before-%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			cl.AwaitReplicated(t, master, 10*time.Second)

			// The replica lags: paused, and the link to it filled.
			pausedAt := time.Now()
			if got := cl.Stall(t, prefix+"{room:"+room+"}"); got != replica {
				t.Fatalf("stalled %s, want %s", got.Addr(), replica.Addr())
			}
			paused := true
			defer func() {
				if paused {
					cl.Resume(t, replica)
				}
			}()
			// Decisions during the lag, at once (the pause must stay well
			// under the node timeout, or the cluster would fail the
			// replica itself).
			during := map[string]error{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i := range 5 {
				wg.Go(func() {
					m := fmt.Sprintf("during-%d", i)
					err := registerOn(ctx, leg, m)
					mu.Lock()
					during[m] = err
					mu.Unlock()
				})
			}
			wg.Go(func() {
				err := bookOn(ctx, lg, "during", 11)
				mu.Lock()
				during["booking"] = err
				mu.Unlock()
			})
			wg.Wait()

			killed := cl.Kill(master)
			cl.Resume(t, replica)
			paused = false
			pause := time.Since(pausedAt)
			if pause >= nodeTimeout {
				t.Logf("the replica was paused %v, not under the node timeout %v: the cluster may have failed it", pause, nodeTimeout)
			}
			promoted := cl.AwaitFailover(t, prefix+"{room:"+room+"}", master, 30*time.Second)
			failover := time.Since(killed)
			used[promoted.Addr()] = true // a master without replica from now on
			if promoted.Addr() != replica.Addr() {
				t.Fatalf("%s took over, want the replica %s", promoted.Addr(), replica.Addr())
			}

			// Read back through the gates, once the client has found the
			// new master.
			var st events.State
			var busy []booking.Busy
			back := retryUnavailable(t, 30*time.Second, func(ctx context.Context) error {
				var err error
				if st, err = eg.State(ctx, event); err != nil {
					return err
				}
				busy, err = g.Busy(ctx, room, day, day.Add(24*time.Hour))
				return err
			})
			t.Logf("replica paused %v; failover of %s to %s: %v; gates answer again %v after the kill", pause.Round(time.Millisecond),
				master.Addr(), promoted.Addr(), failover.Round(time.Millisecond), back.Sub(killed).Round(time.Millisecond))
			registered := map[string]bool{}
			for _, r := range st.Registrations {
				registered[r.Member] = true
			}
			booked := map[string]bool{}
			for _, b := range busy {
				booked[b.Ref] = true
			}
			for i := range 5 {
				if m := fmt.Sprintf("before-%d", i); !registered[m] {
					t.Errorf("%s, replicated before the lag, is lost", m)
				}
			}
			if !booked["before"] {
				t.Errorf("the booking replicated before the lag is lost: %+v", busy)
			}
			// Acknowledged during the lag and lost.
			var lost []string
			for m, err := range during {
				switch {
				case err == nil && m == "booking" && !booked["during"]:
					lost = append(lost, "booking")
				case err == nil && m != "booking" && !registered[m]:
					lost = append(lost, m)
				case err != nil && !errors.Is(err, redisgate.ErrUnavailable):
					t.Errorf("%s during the lag: %v, want nil or ErrUnavailable", m, err)
				}
			}
			// The slot of a lost booking is granted again: a double booking.
			intruder := book(ctx, "intruder", 11)
			var ce *booking.ConflictError

			if !tt.ack {
				if len(lost) != len(during) {
					t.Fatalf("without replica acknowledgements, %d of the %d decisions acknowledged during the lag were lost (%v): the test did not make the lag it needs (answers %v)",
						len(lost), len(during), lost, during)
				}
				if intruder != nil {
					t.Fatalf("without replica acknowledgements, the lost booking's slot should be granted again, got %v", intruder)
				}
				t.Logf("without replica acknowledgements: lost %v, and the slot of the lost booking was granted again", lost)
				cl.Restart(t, master)
				cl.AwaitHealthy(t, 30*time.Second)
				return
			}

			if len(lost) != 0 {
				t.Fatalf("acknowledged during the lag and lost: %v", lost)
			}
			for m, err := range during {
				var aerr *redisgate.ReplicaAckError
				if !errors.As(err, &aerr) {
					t.Errorf("%s during the lag: %v, want a ReplicaAckError (the replica lagged)", m, err)
				}
			}
			if intruder != nil && !errors.As(intruder, &ce) {
				t.Fatalf("booking after the failover: %v", intruder)
			}
			if err := book(ctx, "over-before", 9); !errors.As(err, &ce) {
				t.Fatalf("booking over the replicated booking after the failover: %v, want a conflict", err)
			}

			// The promoted master has no replica: decisions stand alone.
			s0 := eg.AckStats()
			if err := register(ctx, "alone"); err != nil {
				t.Fatalf("register on the promoted master without a replica: %v", err)
			}
			if s := eg.AckStats(); s.Alone != s0.Alone+1 {
				t.Fatalf("stats %+v after %+v: want one decision standing alone", s, s0)
			}
			// The old master comes back, empty, as the new master's
			// replica: decisions wait for it again.
			cl.Restart(t, master)
			cl.AwaitHealthy(t, 30*time.Second)
			s1 := eg.AckStats()
			if err := register(ctx, "replicated-again"); err != nil {
				t.Fatalf("register once the old master is back: %v", err)
			}
			if s := eg.AckStats(); s.Replicated != s1.Replicated+1 {
				t.Fatalf("stats %+v after %+v: want one decision acknowledged by the returned replica", s, s1)
			}
			if roleOf(t, master) != "slave" {
				t.Fatalf("the old master did not come back as a replica")
			}
			t.Logf("with replica acknowledgements: rooms %+v and %+v during the lag, events %+v and %+v during the lag",
				g.AckStats(), lg.AckStats(), eg.AckStats(), leg.AckStats())
		})
	}
}

// retryUnavailable calls fn until it does not fail with ErrUnavailable
// (the client looks for the new master meanwhile), and returns when it
// succeeded.
func retryUnavailable(t *testing.T, timeout time.Duration, fn func(context.Context) error) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := fn(ctx)
		cancel()
		switch {
		case err == nil:
			return time.Now()
		case !errors.Is(err, redisgate.ErrUnavailable):
			t.Fatalf("after the failover: %v", err)
		case time.Now().After(deadline):
			t.Fatalf("still unavailable %v after the failover: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// roleOf is the role ("master" or "slave") node gives.
func roleOf(t *testing.T, n *testenv.ClusterNode) string {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: n.Addr()})
	defer c.Close()
	info, err := c.Info(context.Background(), "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "role:"); ok {
			return v
		}
	}
	return ""
}

// BenchmarkClusterClaim claims (and releases) a free slot in a loaded
// room on the Redis Cluster of `make test`, with and without waiting for
// a replica: the price of WithReplicaAck.
func BenchmarkClusterClaim(b *testing.B) {
	c := client(b, testenv.RedisClusterURL(b))
	for _, ack := range []bool{false, true} {
		b.Run(fmt.Sprintf("replica_ack=%v", ack), func(b *testing.B) {
			prefix := "b" + testenv.RandomID() + ":"
			b.Cleanup(func() { deleteKeys(b, c, prefix) })
			opts := []redisgate.Option{redisgate.WithPrefix(prefix)}
			if ack {
				opts = append(opts, redisgate.WithReplicaAck(1, 0))
			}
			g := redisgate.New(c, opts...)
			ctx := context.Background()
			if err := g.Load(ctx, "bench", booking.Snapshot{Token: "t", Objects: roomObjects(2000)}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				s := benchBase.AddDate(0, 0, i%200).Add(19 * time.Hour)
				id := fmt.Sprintf("h%d", i)
				if err := g.Claim(ctx, "bench", booking.Claim{HoldID: id, TTL: time.Minute,
					Intervals: []booking.Busy{{Start: s, End: s.Add(time.Hour)}}}); err != nil {
					b.Fatal(err)
				}
				if err := g.Release(ctx, "bench", id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
