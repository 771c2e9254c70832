package main

// The promises of DESIGN.md with three roomcal replicas on a Redis
// Cluster: no double booking, no overbooking and the waiting list in
// order, on the cluster of make test; and nothing acknowledged lost when
// a master dies in the middle of a burst and its replica takes over, on a
// private cluster (the nodes of the shared one are never killed).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// clusterBackend is a fresh calendar home on the Radicale of make test
// and the Redis Cluster at url, the gates' keys under a prefix of their
// own.
func clusterBackend(t *testing.T, url string) *backend {
	t.Helper()
	b := newBackend(t, testenv.RadicaleHome(t), url)
	b.prefix = "t" + testenv.RandomID() + ":"
	return b
}

// threeInstances starts three roomcal replicas on b.
func threeInstances(t *testing.T, b *backend) []*instance {
	t.Helper()
	return []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}
}

// TestClusterNoDoubleBooking: 500 members book one slot at once through
// three replicas on the Redis Cluster: one booking, 499 conflicts, one
// VEVENT on Radicale.
func TestClusterNoDoubleBooking(t *testing.T) {
	b := clusterBackend(t, testenv.RedisClusterURL(t))
	ins := threeInstances(t, b)
	start, end := slot(12, 10)
	began := time.Now()
	answers := contend(t, ins, 500, "loire", start, end)
	n := countStatus(answers)
	if n[201] != 1 || n[409] != 499 {
		t.Fatalf("500 contenders over three replicas: got %v, want one 201 and 499 409", n)
	}
	if got := bookingsOnServer(t, b, "loire", start, end); len(got) != 1 {
		t.Fatalf("Radicale holds %d bookings in the slot, want 1: %+v", len(got), got)
	}
	t.Logf("500 contenders over three replicas answered in %v", time.Since(began).Round(time.Millisecond))
}

// TestClusterEventCapHeld: 1,000 members register at once for 100 seats
// with a waiting list, through three replicas on the Redis Cluster:
// exactly 100 confirmed, the waiting list numbered 1 to 900 in arrival
// order, every member told what the list says, and the object on Radicale
// agreeing member by member.
//
// A registration is answered once its decision is written to the
// calendar, or 503 after twice the events' write timeout. The burst's
// last registrations wait for the writes of all before them (grouped,
// the event's object growing to 1,000 attendees): 13-15 s at a load
// average of 10-11, past the default 20 s on a machine loaded more. The
// replicas here allow 25 s a write (50 s a registration, under the test
// client's 60 s), so that every registration is answered by what was
// decided.
func TestClusterEventCapHeld(t *testing.T) {
	b := clusterBackend(t, testenv.RedisClusterURL(t))
	o := instanceOpts{eventWrites: 25 * time.Second}
	ins := []*instance{newInstance(t, b, o), newInstance(t, b, o), newInstance(t, b, o)}
	id := ins[0].createEvent(t, map[string]any{"capacity": 100, "waitlist": true})

	began := time.Now()
	answers := registerAll(t, ins, id, 0, 1000)
	took := time.Since(began)
	assertCapHeld(t, answers, 100)
	regs := ins[2].attendees(t, id)
	if c, w := counts(regs); c != 100 || w != 900 {
		t.Fatalf("attendee list: %d confirmed, %d waiting", c, w)
	}
	// The list is in arrival order (confirmed, then the waiting list) and
	// numbers the waiting list 1..900 in that order.
	assertPositions(t, regs)
	assertToldAsListed(t, answers, regs)
	assertServerAgrees(t, b, id, regs)
	writes := ins[0].ev.Stats().Writes + ins[1].ev.Stats().Writes + ins[2].ev.Stats().Writes
	t.Logf("1,000 registrations over three replicas answered in %v, written in %d PUTs", took.Round(time.Millisecond), writes)
}

// TestClusterCheckAndLog: `roomcal check` and the start-up log say what
// ROOMCAL_REDIS_URL names: a single node, or a cluster given by all its
// nodes or by one seed node and ROOMCAL_REDIS_CLUSTER.
func TestClusterCheckAndLog(t *testing.T) {
	cluster := testenv.RedisClusterURL(t)
	seed, _, _ := strings.Cut(cluster, "?")
	tests := []struct {
		name, url, flag string
		check, log      string
	}{
		{"single node", testenv.RedisURL(t), "", "ok   Redis single node answers (127.0.0.1:", "single node at 127.0.0.1:"},
		{"cluster, every node listed", cluster, "", "ok   Redis cluster: 3 masters, 3 replicas answer\n", "cluster of 3 masters and 3 replicas (seeds 127.0.0.1:"},
		{"cluster, one seed node and the flag", seed, "true", "ok   Redis cluster: 3 masters, 3 replicas answer\n", "cluster of 3 masters and 3 replicas (seeds " + strings.TrimPrefix(seed, "redis://") + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := config.MapEnv(map[string]string{
				"ROOMCAL_DATA_DIR":      filepath.Join(t.TempDir(), "data"),
				"ROOMCAL_CONFIG":        "",
				"ROOMCAL_REDIS_URL":     tt.url,
				"ROOMCAL_REDIS_CLUSTER": tt.flag,
			})
			ctx := context.Background()
			for _, args := range [][]string{{"rooms", "sync"}, {"check"}} {
				var out, errs bytes.Buffer
				if code := run(ctx, args, env, &out, &errs); code != 0 {
					t.Fatalf("roomcal %v: exit %d\n%s%s", args, code, out.String(), errs.String())
				}
				if args[0] == "check" && !strings.Contains(out.String(), tt.check) {
					t.Errorf("check says:\n%s\nwant a line %q", out.String(), tt.check)
				}
			}
			cfg, err := config.Parse("demo", config.DemoYAML(), env)
			if err != nil {
				t.Fatal(err)
			}
			d, err := open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer d.close()
			if got := redisSummary(ctx, cfg, d); !strings.HasPrefix(got, tt.log) {
				t.Errorf("the start-up log says redis=%q, want %q…", got, tt.log)
			}
		})
	}
}

// outcome is one request of the failover burst.
type outcome struct {
	kind       string // "register" or "book"
	who        string
	in         int // which replica
	start, end time.Time
	a          answer
	slot       time.Time // bookings: the slot's start
}

// recoveryMargin is how long, beyond the failover itself, roomcal may take
// to answer 2xx again: each replica's cluster client finds the new master
// (its slot map is reloaded when a master stops answering, every 2 s at
// most otherwise), and an event writer caught by the failover gives its
// lock back.
const recoveryMargin = 5 * time.Second

// TestClusterFailover kills -9, in the middle of a burst of registrations
// and bookings through three replicas, the master that owns the event's
// and the room's slot, on a private cluster; its replica takes over. Just
// before the kill the replica lags (it is paused and the master's link to
// it filled): the decisions taken then reach only the master, the case
// asynchronous replication loses, made certain rather than left to
// chance. Nothing acknowledged is lost (every 2xx registration is on the
// calendar and in the API with the status it was told, every 2xx booking
// on the calendar and still holding its slot), nothing overlaps, the cap
// holds, the only errors are 503s for requests in flight during the
// outage, and the service answers 2xx again within the failover time plus
// recoveryMargin.
func TestClusterFailover(t *testing.T) {
	cl := testenv.StartRedisCluster(t)
	b := clusterBackend(t, cl.URL())
	ins := threeInstances(t, b)
	ctx := context.Background()
	rc, err := redisgate.Dial(ctx, cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	// An event whose slot's master also serves the room loire's (no
	// rules, no buffer: a lost booking's slot is free again). Keys are
	// placed by their hash tag: a room's keys carry its site's tag
	// {site:ID} (siteSlots), so they are in its site's slot.
	const capacity, room = 150, "loire"
	roomKey := func(string) string { return b.prefix + "{site:nantes}" }
	master := cl.MasterOf(t, roomKey(room))
	var id string
	for try := 0; id == ""; try++ {
		if try == 40 {
			t.Fatalf("no event on the master of %s after 40 events", room)
		}
		ev := ins[0].createEvent(t, map[string]any{"capacity": capacity, "waitlist": true})
		if cl.MasterOf(t, b.prefix+"{event:"+ev+"}") == master {
			id = ev
		}
	}
	eventKey := b.prefix + "{event:" + id + "}"
	replica := cl.ReplicaOf(t, eventKey)

	// The burst: 24 members register at a time, and 3 book, each booking
	// slot tried by two members in turn (the second is refused, unless
	// the first was).
	var (
		mu       sync.Mutex
		done     []outcome
		members  atomic.Int64
		slots    atomic.Int64
		wg       sync.WaitGroup
		stop     = make(chan struct{})
		stopping = func() bool {
			select {
			case <-stop:
				return true
			default:
				return false
			}
		}
	)
	record := func(o outcome) {
		mu.Lock()
		done = append(done, o)
		mu.Unlock()
	}
	for range 24 {
		wg.Go(func() {
			for !stopping() {
				i := int(members.Add(1))
				o := outcome{kind: "register", who: memberNo(i).id, in: i % 3, start: time.Now()}
				o.a = ins[o.in].as(t, memberNo(i), "POST", "/api/v1/events/"+id+"/registrations", nil, "")
				o.end = time.Now()
				record(o)
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			for !stopping() {
				k := int(slots.Add(1)) - 1
				s := bookingSlot(k)
				for try, who := range []string{"a", "b"} {
					o := outcome{kind: "book", who: fmt.Sprintf("b%d-%s", k, who), in: (k + try) % 3, start: time.Now(), slot: s}
					o.a = ins[o.in].book(t, o.who, room, s, s.Add(time.Hour))
					o.end = time.Now()
					record(o)
				}
			}
		})
	}
	defer func() {
		if !stopping() {
			close(stop)
		}
		wg.Wait()
	}()
	snapshot := func() []outcome {
		mu.Lock()
		defer mu.Unlock()
		return append([]outcome(nil), done...)
	}
	await := func(what string, timeout time.Duration, cond func([]outcome) bool) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for !cond(snapshot()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, timeout)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	acked := func(kind string) func([]outcome) int {
		return func(os []outcome) int {
			n := 0
			for _, o := range os {
				if o.kind == kind && o.a.status == 201 {
					n++
				}
			}
			return n
		}
	}

	// Once the event is nearly full, the replica lags: paused, and the
	// master's link to it filled, so that the decisions taken from now on
	// stay in the master's memory. The burst goes on until the event has
	// taken at least 8 more decisions and the room one (600 ms at most:
	// a replica paused for the node timeout would be failed itself).
	await("135 registrations acknowledged", time.Minute, func(os []outcome) bool { return acked("register")(os) >= capacity-15 })
	paused := time.Now()
	if got := cl.Stall(t, eventKey); got != replica {
		t.Fatalf("stalled %s, want %s", got.Addr(), replica.Addr())
	}
	resumed := false
	defer func() {
		if !resumed {
			cl.Resume(t, replica)
		}
	}()
	// What the master has decided, read through gates of our own.
	evg := redisgate.NewEventGate(rc, redisgate.WithPrefix(b.prefix))
	rg := redisgate.New(rc, redisgate.WithPrefix(b.prefix), testSlots())
	read := func() (int64, string) {
		t.Helper()
		p, err := evg.Progress(ctx, id)
		if err != nil {
			t.Fatalf("the event's version: %v", err)
		}
		_, ver, err := rg.Version(ctx, room)
		if err != nil {
			t.Fatalf("the room's version: %v", err)
		}
		return p.Ver, ver
	}
	seq0, ver0 := read()
	lagging := time.Now()
	for time.Since(lagging) < 600*time.Millisecond {
		if seq, ver := read(); seq >= seq0+8 && ver != ver0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	seq1, ver1 := read()
	killed := cl.Kill(master)
	cl.Resume(t, replica)
	resumed = true
	t.Logf("replica %s stalled %v before the kill of %s; meanwhile the event took %d versions, the room changed: %v",
		replica.Addr(), killed.Sub(paused).Round(time.Millisecond), master.Addr(), seq1-seq0, ver1 != ver0)
	promoted := cl.AwaitFailover(t, eventKey, master, 30*time.Second)
	failover := time.Since(killed)

	// The burst goes on until every replica has acknowledged ten
	// registrations sent after the kill.
	await("every replica acknowledging again", 30*time.Second+recoveryMargin, func(os []outcome) bool {
		n := [3]int{}
		for _, o := range os {
			if o.kind == "register" && o.a.status == 201 && o.start.After(killed) {
				n[o.in]++
			}
		}
		return n[0] >= 10 && n[1] >= 10 && n[2] >= 10
	})
	close(stop)
	wg.Wait()
	all := snapshot()

	// When each replica was back: the end of its first 2xx to a request
	// sent after the kill.
	var back [3]time.Time
	for _, o := range all {
		if o.start.After(killed) && o.a.status == 201 && (back[o.in].IsZero() || o.end.Before(back[o.in])) {
			back[o.in] = o.end
		}
	}
	lastBack := slices.MaxFunc(back[:], func(a, b time.Time) int { return a.Compare(b) })
	recovery := lastBack.Sub(killed)
	t.Logf("failover of %s to %s in %v; all three replicas answering 2xx again %v after the kill",
		master.Addr(), promoted.Addr(), failover.Round(time.Millisecond), recovery.Round(time.Millisecond))
	if recovery > failover+recoveryMargin {
		t.Errorf("service back %v after the kill, more than the failover (%v) plus %v", recovery, failover, recoveryMargin)
	}

	// Answers: registrations 201 or 503, bookings 201, 409 or 503; a 503
	// only for a request in flight between the lag and its replica's
	// return (sent before that replica's first 2xx came back).
	n := map[string]map[int]int{"register": {}, "book": {}}
	for _, o := range all {
		n[o.kind][o.a.status]++
		switch {
		case o.a.status == 503:
			if p := decode[api.Problem](t, o.a); p.Code != api.CodeUnavailable {
				t.Errorf("%s %s: 503 with code %q", o.kind, o.who, p.Code)
			}
			if o.end.Before(paused) || o.start.After(back[o.in]) {
				t.Errorf("%s %s on replica %d: 503 outside the outage (sent %v, answered %v after the kill)",
					o.kind, o.who, o.in, o.start.Sub(killed).Round(time.Millisecond), o.end.Sub(killed).Round(time.Millisecond))
			}
		case o.a.status == 201, o.kind == "book" && o.a.status == 409:
		default:
			t.Errorf("%s %s: unexpected answer %d %s", o.kind, o.who, o.a.status, o.a.body)
		}
	}
	t.Logf("answers: registrations %v, bookings %v", n["register"], n["book"])
	if n["register"][503]+n["book"][503] == 0 {
		t.Errorf("no request was in flight at the kill: the failover did not fall in the burst")
	}

	// One more registration through each replica writes whatever the gate
	// holds; then the API and the calendar must agree.
	for i := range ins {
		if a := ins[i].as(t, memberNo(5000+i), "POST", "/api/v1/events/"+id+"/registrations", nil, ""); a.status != 201 {
			t.Fatalf("registration after the failover: %d %s", a.status, a.body)
		}
	}
	regs := ins[1].attendees(t, id)
	assertPositions(t, regs)
	assertServerAgrees(t, b, id, regs)
	if c, _ := counts(regs); c != capacity {
		t.Errorf("%d confirmed for %d seats", c, capacity)
	}
	listed := map[string]regAnswer{}
	for _, r := range regs {
		listed[r.Member] = r
	}
	ackedRegs := 0
	for _, o := range all {
		if o.kind != "register" || o.a.status != 201 {
			continue
		}
		ackedRegs++
		told := decode[regAnswer](t, o.a)
		now, ok := listed[o.who]
		switch {
		case !ok:
			t.Errorf("%s was acknowledged (%s) and is lost", o.who, told.Status)
		case told.Status == "confirmed" && now.Status != "confirmed":
			t.Errorf("%s was told confirmed and is now %s %d", o.who, now.Status, now.Position)
		}
	}

	// Bookings: all acknowledged ones on the calendar, none overlapping,
	// and each still holding its slot.
	first, last := bookingSlot(0), bookingSlot(int(slots.Load()))
	onServer := bookingsOnServer(t, b, room, first, last.Add(time.Hour))
	assertNoOverlap(t, onServer)
	present := map[string]bool{}
	for _, bk := range onServer {
		present[bk.Ref] = true
	}
	var ackedBookings []outcome
	for _, o := range all {
		if o.kind == "book" && o.a.status == 201 {
			ackedBookings = append(ackedBookings, o)
			if bid := decode[struct{ ID string }](t, o.a).ID; !present[bid] {
				t.Errorf("booking %s by %s was acknowledged and is not on the calendar", bid, o.who)
			}
		}
	}
	var again sync.WaitGroup
	for i, o := range ackedBookings {
		again.Go(func() {
			if a := ins[i%3].book(t, "verif-"+o.who, room, o.slot, o.slot.Add(time.Hour)); a.status != 409 {
				t.Errorf("the slot of %s's acknowledged booking (%v), booked again after the failover: %d %s, want 409",
					o.who, o.slot, a.status, a.body)
			}
		})
	}
	again.Wait()
	assertNoOverlap(t, bookingsOnServer(t, b, room, first, last.Add(time.Hour)))
	t.Logf("%d registrations and %d bookings acknowledged; %d registrations listed after the failover",
		ackedRegs, len(ackedBookings), len(regs))
}

// bookingSlot is the k-th one-hour slot of the failover burst: twelve a
// day from 08:00 Paris time, from 30 days ahead.
func bookingSlot(k int) time.Time {
	d := time.Now().In(paris).AddDate(0, 0, 30+k/12)
	return time.Date(d.Year(), d.Month(), d.Day(), 8+k%12, 0, 0, 0, paris)
}
