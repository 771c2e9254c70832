package main

// Registrations on one hot event (-only events): the grouped path (the
// events service behind the HTTP API, with the Redis gate, writing every
// decision taken while a PUT is on its way in the next conditional PUT)
// against the baseline of one conditional PUT per registration.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/redisgate"
)

var (
	evRegistrations = flag.Int("registrations", 1000, "registrations (distinct members) on the hot event (-only events)")
	evClients       = flag.Int("clients", 200, "concurrent clients registering on the hot event, closed loop")
	evCapacity      = flag.Int("capacity", 200, "seats of the hot event (the rest go to its waiting list)")
	evTimeout       = flag.Duration("events-timeout", 5*time.Minute, "time bound of each registration run (grouped, baseline)")
)

const evCalendar = "events"

// countingCal counts the service's calendar writes and records each
// successful one: its object's size in registrations and its duration.
type countingCal struct {
	events.Calendar

	updates, stale, failed atomic.Int64

	mu     sync.Mutex
	writes []evWrite
}

type evWrite struct {
	regs int // registrations the object holds after the write
	took time.Duration
}

func (c *countingCal) Update(ctx context.Context, rec events.Record) (string, error) {
	c.updates.Add(1)
	t := time.Now()
	etag, err := c.Calendar.Update(ctx, rec)
	took := time.Since(t)
	switch {
	case errors.Is(err, booking.ErrStale):
		c.stale.Add(1)
	case err != nil:
		c.failed.Add(1)
	default:
		c.mu.Lock()
		c.writes = append(c.writes, evWrite{len(rec.Registrations), took})
		c.mu.Unlock()
	}
	return etag, err
}

// timedGate times the gate's calls the grouped path makes, by kind.
type timedGate struct {
	events.Gate

	mu    sync.Mutex
	calls map[string]*gateCalls
}

type gateCalls struct {
	n     int
	total time.Duration
}

func (g *timedGate) note(kind string, t time.Time) {
	d := time.Since(t)
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.calls[kind]
	if c == nil {
		c = &gateCalls{}
		g.calls[kind] = c
	}
	c.n++
	c.total += d
}

func (g *timedGate) Register(ctx context.Context, event string, r events.Registration, now time.Time) (events.Outcome, error) {
	defer g.note("Register", time.Now())
	return g.Gate.Register(ctx, event, r, now)
}

func (g *timedGate) State(ctx context.Context, event string) (events.State, error) {
	defer g.note("State", time.Now())
	return g.Gate.State(ctx, event)
}

func (g *timedGate) Progress(ctx context.Context, event string) (events.Progress, error) {
	defer g.note("Progress", time.Now())
	return g.Gate.Progress(ctx, event)
}

func (g *timedGate) Reconcile(ctx context.Context, event, etag string, ev events.Event, present []events.Registration, now time.Time) (events.State, error) {
	defer g.note("Reconcile", time.Now())
	return g.Gate.Reconcile(ctx, event, etag, ev, present, now)
}

func (g *timedGate) Written(ctx context.Context, event, gen string, ver int64, etag string) error {
	defer g.note("Written", time.Now())
	return g.Gate.Written(ctx, event, gen, ver, etag)
}

func (g *timedGate) Lock(ctx context.Context, event string, ttl time.Duration) (booking.Lease, bool, error) {
	defer g.note("Lock", time.Now())
	return g.Gate.Lock(ctx, event, ttl)
}

func (g *timedGate) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var parts []string
	for _, k := range []string{"Register", "State", "Reconcile", "Written", "Progress", "Lock"} {
		if c := g.calls[k]; c != nil {
			parts = append(parts, fmt.Sprintf("%s %d × %s", k, c.n, ms(c.total/time.Duration(c.n))))
		}
	}
	return strings.Join(parts, ", ")
}

// logTally counts the lines the service logs at Warn and above and keeps
// the first few.
type logTally struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (l *logTally) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		l.n++
		if len(l.first) < 3 {
			l.first = append(l.first, line)
		}
	}
	return len(p), nil
}

func (l *logTally) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d, first: `%s`", l.n, strings.Join(l.first, "` / `"))
}

func evMember(i int) booking.Member {
	return booking.Member{ID: fmt.Sprintf("membre-%05d", i), Name: fmt.Sprintf("Membre %05d", i), Email: fmt.Sprintf("membre-%05d@example.org", i)}
}

// runEvents runs both registration benchmarks on a fresh calendar home,
// the grouped path's gate on the engine called engineName.
func runEvents(radicale, redisURL, engineName string, rep *report) error {
	n, conc, capacity, limit := *evRegistrations, *evClients, *evCapacity, *evTimeout
	if n < 1 || conc < 1 || capacity < 1 || limit <= 0 {
		return errors.New("-registrations, -clients, -capacity and -events-timeout must be positive")
	}
	ctx := context.Background()
	user := "bench-ev-" + randHex(4)
	home := strings.TrimRight(radicale, "/") + "/" + user + "/"
	store, err := caldav.NewClient(home, caldav.ClientOptions{Username: user, Password: "x", Timeout: 60 * time.Second})
	if err != nil {
		return err
	}
	if err := store.CreateCalendar(ctx, evCalendar, "Événements"); err != nil {
		return fmt.Errorf("mkcalendar %s: %w", evCalendar, err)
	}
	eng, err := openEngine(ctx, engineName, redisURL)
	if err != nil {
		return err
	}
	defer eng.close()
	rc := eng.client

	tally := &logTally{}
	log := slog.New(slog.NewTextHandler(tally, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cal := &countingCal{Calendar: caldav.NewEventCalendar(store, evCalendar, nil, log)}
	gate := &timedGate{Gate: redisgate.NewEventGate(rc, redisgate.WithPrefix("loadbench-"+randHex(4)+":")), calls: map[string]*gateCalls{}}
	svc, err := events.NewService(events.Options{
		Calendar: cal, Gate: gate,
		Logger: log, SyncInterval: time.Hour,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.New(api.Options{Logger: log, Events: svc, AuthMode: api.AuthDev}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc + 8, MaxConnsPerHost: conc + 8}}

	fmt.Printf("### Registrations on one hot event (%d seats, waiting list), %d members, %d clients in closed loop; gate on %s\n\n", capacity, n, conc, engineTitle(eng.name))
	fmt.Printf("Fresh calendar home `%s`, events calendar `%s`; time bound %s per run.\n\n", user, evCalendar, limit)

	// 1. Grouped: through the HTTP API.
	start := time.Now().In(paris).AddDate(0, 0, 30).Truncate(time.Hour)
	id, err := evCreate(client, base, capacity, start)
	if err != nil {
		return err
	}
	codes := map[int]int{}
	var cmu sync.Mutex
	var firstErr string
	gLat, gEl, gDone := closedLoop(n, conc, limit, func(i int) bool {
		code, body := evRegister(client, base, id, evMember(i))
		cmu.Lock()
		codes[code]++
		if code != http.StatusCreated && firstErr == "" {
			firstErr = fmt.Sprintf("%d %s", code, body)
		}
		cmu.Unlock()
		return code/100 == 2
	})
	acked := 0
	for c, k := range codes {
		if c/100 == 2 {
			acked += k
		}
	}
	others := n - codes[201]
	var codeList []string
	for c, k := range codes {
		codeList = append(codeList, fmt.Sprintf("%d×%d", k, c))
	}
	sort.Strings(codeList)

	// An acknowledged registration is durable: read the object at once.
	rec, err := caldav.NewEventCalendar(store, evCalendar, nil, nil).Read(ctx, id)
	if err != nil {
		return fmt.Errorf("read hot event back: %w", err)
	}
	conf, wait, dup := tallyRegs(rec.Registrations)
	obj, err := store.Get(ctx, evCalendar, caldav.ObjectName(id))
	if err != nil {
		return fmt.Errorf("get hot event back: %w", err)
	}
	ps := rc.PoolStats()
	var solo []time.Duration
	for i := 0; i < 20; i++ {
		t := time.Now()
		if _, err := gate.Gate.State(ctx, id); err != nil {
			return fmt.Errorf("state of hot event: %w", err)
		}
		solo = append(solo, time.Since(t))
	}
	gRate := float64(acked) / gEl.Seconds()
	writes := cal.snapshot()
	rep.of(eng.name).regsPerSec = gRate
	fmt.Printf("#### Grouped (the real path): HTTP API → events service → gate (%s) → conditional PUTs\n\n", eng.name)
	fmt.Printf("| sent | 201 | other answers | seconds | acknowledged/s | p50 | p99 | max | PUTs (Update calls) | 412s | failed PUTs |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %d | %d | %.1f | %.0f | %s | %s | %s | %d | %d | %d |\n\n", gDone, codes[201], others, gEl.Seconds(), gRate,
		ms(pct(gLat, 50)), ms(pct(gLat, 99)), ms(pct(gLat, 100)), cal.updates.Load(), cal.stale.Load(), cal.failed.Load())
	fmt.Printf("- answers: %s\n", strings.Join(codeList, ", "))
	if firstErr != "" {
		fmt.Printf("- first answer other than 201: `%s`\n", firstErr)
	}
	fmt.Printf("- batches (registrations added per successful PUT): %s\n", batchSummary(writes))
	var putTotal time.Duration
	for _, w := range writes {
		putTotal += w.took
	}
	fmt.Printf("- PUT duration by object size: %s; %.1f s of PUTs in the %.1f s run\n", putSummary(writes), putTotal.Seconds(), gEl.Seconds())
	fmt.Printf("- gate calls (count × mean duration, concurrent calls overlap): %s\n", gate)
	fmt.Printf("- the gate's client pool (%d connections open at the end): %d waits for a connection, %.1f s waited in all, %d timeouts; "+
		"one State read of the %d-registration event, alone afterwards: median %s\n",
		ps.TotalConns, ps.WaitCount, float64(ps.WaitDurationNs)/1e9, ps.Timeouts, len(rec.Registrations), ms(pct(solo, 50)))
	fmt.Printf("- on Radicale afterwards: %d attendees, %d confirmed, %d waitlisted, %d duplicate members; object %d KB\n", len(rec.Registrations), conf, wait, dup, len(obj.Data)/1024)
	fmt.Printf("- service log (Warn and above): %s\n\n", tally)
	var problems []string
	if codes[201] != n {
		problems = append(problems, fmt.Sprintf("%d of %d registrations answered 201 (%s)", codes[201], n, strings.Join(codeList, ", ")))
	}
	if len(rec.Registrations) != n || conf != min(capacity, n) || dup != 0 {
		problems = append(problems, fmt.Sprintf("the object on Radicale lists %d attendees (%d confirmed, %d duplicates), want %d with %d confirmed",
			len(rec.Registrations), conf, dup, n, min(capacity, n)))
	}

	// 2. Baseline: one conditional PUT per registration, serialised by an
	// in-process mutex (no 412 wasted), no HTTP.
	ec := caldav.NewEventCalendar(store, evCalendar, nil, log)
	bid, err := evCreateDirect(ctx, ec, capacity, start.Add(2*time.Hour))
	if err != nil {
		return err
	}
	var bmu sync.Mutex
	var bErrs atomic.Int64
	var bFirst atomic.Value
	var bWrites []evWrite
	bLat, bEl, bDone := closedLoop(n, conc, limit, func(i int) bool {
		bmu.Lock()
		defer bmu.Unlock()
		w, err := registerOnePUT(ctx, ec, bid, capacity, evMember(i))
		if err != nil {
			bErrs.Add(1)
			bFirst.CompareAndSwap(nil, err.Error())
			return false
		}
		bWrites = append(bWrites, w)
		return true
	})
	bOK := bDone - int(bErrs.Load())
	bRate := float64(bOK) / bEl.Seconds()
	brec, err := ec.Read(ctx, bid)
	if err != nil {
		return fmt.Errorf("read baseline event back: %w", err)
	}
	bconf, bwait, bdup := tallyRegs(brec.Registrations)
	fmt.Printf("#### Baseline: one conditional PUT per registration (mutex, GET, append, PUT If-Match; %d callers in process, no HTTP)\n\n", conc)
	fmt.Printf("| done | errors | seconds | registrations/s | p50 | p99 | max |\n|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d of %d | %d | %.1f | %.1f | %s | %s | %s |\n\n", bOK, n, bErrs.Load(), bEl.Seconds(), bRate,
		ms(pct(bLat, 50)), ms(pct(bLat, 99)), ms(pct(bLat, 100)))
	fmt.Printf("- GET + PUT duration by object size: %s\n", putSummary(bWrites))
	fmt.Printf("- on Radicale afterwards: %d attendees, %d confirmed, %d waitlisted, %d duplicate members\n", len(brec.Registrations), bconf, bwait, bdup)
	if v := bFirst.Load(); v != nil {
		fmt.Printf("- first error: `%s`\n", v)
	}
	fmt.Println()
	if bDone < n {
		fmt.Printf("The baseline was stopped by the time bound after %d registrations: its rate is that of the smaller objects, so it flatters the baseline.\n\n", bDone)
	}
	if len(brec.Registrations) != bOK {
		problems = append(problems, fmt.Sprintf("baseline object lists %d attendees, %d registrations succeeded", len(brec.Registrations), bOK))
	}

	ratio := 0.0
	if bRate > 0 {
		ratio = gRate / bRate
	}
	fmt.Printf("Ratio of rates (grouped / one PUT each): **%.1f×**.\n\n", ratio)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	fmt.Printf("| target | figure | |\n|---|---|---|\n")
	fmt.Printf("| ≥ 200 acknowledged registrations/s on one event | %.0f/s | %s |\n", gRate, verdict(gRate >= 200 && len(problems) == 0))
	fmt.Printf("| ≥ 10× one PUT per registration | %.1f× | %s |\n\n", ratio, verdict(ratio >= 10 && len(problems) == 0))
	if len(problems) > 0 {
		fmt.Printf("**BENCHMARK FAILED:** %s.\n\n", strings.Join(problems, "; "))
		return fmt.Errorf("events benchmark failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (c *countingCal) snapshot() []evWrite {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]evWrite(nil), c.writes...)
}

// closedLoop runs fn(0..n-1) from conc workers, each taking the next
// index when its previous call returned, until all are done or limit
// passes. It returns the latencies of the calls, the time from the first
// call to the last answer, and how many calls were made.
func closedLoop(n, conc int, limit time.Duration, fn func(i int) bool) ([]time.Duration, time.Duration, int) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(limit)
	var done atomic.Int64
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				fn(i)
				lat[i] = time.Since(t)
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	k := int(done.Load())
	out := lat[:0:0]
	for _, d := range lat {
		if d > 0 {
			out = append(out, d)
		}
	}
	return out, el, k
}

// evCreate creates the hot event through the API as an organiser.
func evCreate(c *http.Client, base string, capacity int, start time.Time) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"title": "Assemblée générale (banc d'essai)", "start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339),
		"location": "Hangar, quai des Antilles", "capacity": capacity, "waitlist": true,
	})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.HeaderUser, "orga")
	req.Header.Set(api.HeaderName, "Odile Organisatrice")
	req.Header.Set(api.HeaderEmail, "odile@example.org")
	req.Header.Set(api.HeaderGroups, booking.GroupOrganisers)
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("create event: %w", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("create event: %s: %s", resp.Status, out)
	}
	var ev struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &ev); err != nil || ev.ID == "" {
		return "", fmt.Errorf("create event: answer %s: %v", out, err)
	}
	return ev.ID, nil
}

// evRegister registers m through the API and returns the status (0 for
// a transport error) and the start of the answer.
func evRegister(c *http.Client, base, id string, m booking.Member) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/events/"+id+"/registrations", nil)
	req.Header.Set(api.HeaderUser, m.ID)
	req.Header.Set(api.HeaderName, m.Name)
	req.Header.Set(api.HeaderEmail, m.Email)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// evCreateDirect writes the baseline's event straight to the calendar.
func evCreateDirect(ctx context.Context, ec *caldav.EventCalendar, capacity int, start time.Time) (string, error) {
	now := time.Now().UTC().Truncate(time.Second)
	ev := events.Event{
		ID: "ev_bench" + randHex(8), Title: "Assemblée générale (une écriture par inscription)",
		Start: start, End: start.Add(2 * time.Hour), Location: "Hangar, quai des Antilles",
		Organizer: booking.Member{ID: "orga", Name: "Odile Organisatrice", Email: "odile@example.org"},
		Settings:  events.Settings{Capacity: capacity, Waitlist: true, Start: start},
		Created:   now,
	}
	if _, err := ec.Create(ctx, events.Record{Event: ev}); err != nil {
		return "", fmt.Errorf("create baseline event: %w", err)
	}
	return ev.ID, nil
}

// registerOnePUT is the baseline's registration: read the object, append
// the member, write it back If-Match. The caller holds the mutex.
func registerOnePUT(ctx context.Context, ec *caldav.EventCalendar, id string, capacity int, m booking.Member) (evWrite, error) {
	t := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rec, err := ec.Read(rctx, id)
	if err != nil {
		return evWrite{}, err
	}
	conf, wait := 0, 0
	var seq int64
	for _, r := range rec.Registrations {
		if r.Status == events.Confirmed {
			conf++
		} else {
			wait++
		}
		seq = max(seq, r.Seq)
	}
	r := events.Registration{Member: m.ID, Name: m.Name, Email: m.Email, Status: events.Confirmed, Seq: seq + 1, At: time.Now().UTC().Truncate(time.Second)}
	if conf >= capacity {
		r.Status, r.Position = events.Waitlisted, wait+1
	}
	rec.Registrations = append(rec.Registrations, r)
	if _, err := ec.Update(rctx, rec); err != nil {
		return evWrite{}, err
	}
	return evWrite{len(rec.Registrations), time.Since(t)}, nil
}

// tallyRegs counts confirmed, waitlisted and duplicate members.
func tallyRegs(regs []events.Registration) (conf, wait, dup int) {
	seen := make(map[string]bool, len(regs))
	for _, r := range regs {
		if seen[r.Member] {
			dup++
		}
		seen[r.Member] = true
		if r.Status == events.Confirmed {
			conf++
		} else {
			wait++
		}
	}
	return conf, wait, dup
}

// batchSummary describes how many registrations each write added.
func batchSummary(ws []evWrite) string {
	if len(ws) == 0 {
		return "no write"
	}
	var sizes []int
	prev := 0
	for _, w := range ws {
		sizes = append(sizes, w.regs-prev)
		prev = w.regs
	}
	s := append([]int(nil), sizes...)
	sort.Ints(s)
	return fmt.Sprintf("%d writes; in order %s; min %d, median %d, max %d",
		len(sizes), intList(sizes, 40), s[0], s[len(s)/2], s[len(s)-1])
}

func intList(v []int, most int) string {
	var b strings.Builder
	for i, x := range v {
		if i == most {
			fmt.Fprintf(&b, " … (%d more)", len(v)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, x)
	}
	return b.String()
}

// putSummary gives the median duration of the writes by the size of the
// object written, in buckets of registrations.
func putSummary(ws []evWrite) string {
	if len(ws) == 0 {
		return "no write"
	}
	bounds := []int{1, 100, 250, 500, 750, 1000, 2000, 5000, 1 << 30}
	var parts []string
	for b := 0; b+1 < len(bounds); b++ {
		var d []time.Duration
		for _, w := range ws {
			if w.regs >= bounds[b] && w.regs < bounds[b+1] {
				d = append(d, w.took)
			}
		}
		if len(d) == 0 {
			continue
		}
		hi := fmt.Sprint(bounds[b+1] - 1)
		if bounds[b+1] == 1<<30 {
			hi = "…"
		}
		parts = append(parts, fmt.Sprintf("%d–%s attendees: median %s (%d)", bounds[b], hi, ms(pct(d, 50)), len(d)))
	}
	return strings.Join(parts, "; ")
}
