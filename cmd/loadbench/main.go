// Command loadbench measures roomcal against a real Radicale and Redis
// (the ones `make bench` starts). It prints a Markdown report for
// BENCHMARKS.md. Its sections (-only):
//
//   - rooms: seeds room calendars with thousands of events, then, with
//     the gate on each engine (-engines: Redis, and the embedded engine
//     roomcal uses without ROOMCAL_REDIS_URL), times cache rebuilds,
//     site-week availability from the cache (and once straight from
//     CalDAV) and over HTTP, claims per second on the gate alone,
//     booking throughput, and 200 contenders on one slot;
//   - events: registrations on one hot event, on each engine (events.go);
//   - user: what a user meets (user.go): the real roomcal binary, its
//     sync loop running, asked for many different windows at 200, 500
//     and 1,000 requests/s, with its memory afterwards.
//
// For example:
//
//	ROOMCAL_TEST_RADICALE_URL=http://127.0.0.1:P/ ROOMCAL_TEST_REDIS_URL=redis://127.0.0.1:Q/0 \
//	  go run ./cmd/loadbench -rooms 10 -events 2000 -rps 500 -duration 10s
//
// Every request loop is bounded in count and time and targets loopback
// only.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// report collects the figures compared across engines at the end.
type report struct {
	mu   sync.Mutex
	rows map[string]*engineFigures // by engine name
}

// engineFigures are the figures of one engine that the closing table
// puts side by side.
type engineFigures struct {
	claimsPerSec, regsPerSec, bookingsPerSec float64
	siteWeekP99                              time.Duration // over HTTP at the highest rate asked
	siteWeekRate                             int
}

func (r *report) of(engine string) *engineFigures {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rows == nil {
		r.rows = map[string]*engineFigures{}
	}
	if r.rows[engine] == nil {
		r.rows[engine] = &engineFigures{}
	}
	return r.rows[engine]
}

func main() {
	rooms := flag.Int("rooms", 10, "rooms in the benchmark site")
	events := flag.Int("events", 2000, "events seeded in each room's calendar")
	rps := flag.String("rps", "500", "request rates of the availability load, comma-separated (each run for -duration)")
	duration := flag.Duration("duration", 10*time.Second, "length of each timed load")
	claimWorkers := flag.Int("claim-workers", 32, "goroutines claiming at once in the claims benchmark")
	only := flag.String("only", "all", "what to run, comma-separated: rooms (the room benchmarks), events (registrations on one hot event, see events.go), user (the real binary, see user.go), or all")
	engines := flag.String("engines", "redis,embedded", "gate engines to run the rooms and events sections on, comma-separated: redis, embedded")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (the in-process sections' server included) to this file")
	flag.Parse()
	sections := map[string]bool{}
	for _, f := range strings.Split(*only, ",") {
		switch f = strings.TrimSpace(f); f {
		case "all":
			sections["rooms"], sections["events"], sections["user"] = true, true, true
		case "rooms", "events", "user":
			sections[f] = true
		default:
			fmt.Fprintf(os.Stderr, "loadbench: -only lists rooms, events, user or all, not %q\n", f)
			os.Exit(2)
		}
	}
	engs, err := parseEngines(*engines)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(2)
	}
	radicale, redisURL := os.Getenv("ROOMCAL_TEST_RADICALE_URL"), os.Getenv("ROOMCAL_TEST_REDIS_URL")
	if radicale == "" || redisURL == "" {
		fmt.Fprintln(os.Stderr, "loadbench: ROOMCAL_TEST_RADICALE_URL and ROOMCAL_TEST_REDIS_URL must point at a Radicale and a Redis (make bench starts them)")
		os.Exit(2)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(2)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	if err := runAll(sections, engs, benchOptions{
		rooms: *rooms, events: *events, rates: *rps, dur: *duration, claimWorkers: *claimWorkers,
		radicale: radicale, redisURL: redisURL,
	}); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// benchOptions are the rooms section's settings.
type benchOptions struct {
	rooms, events, claimWorkers int
	rates                       string
	dur                         time.Duration
	radicale, redisURL          string
}

func runAll(sections map[string]bool, engs []string, o benchOptions) error {
	fmt.Printf("## loadbench — %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("- machine: %s, %d cores (GOMAXPROCS %d), %s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Printf("- load average at the start: %s\n", loadAvg())
	fmt.Printf("- servers: Radicale and Redis on loopback, as started by `make bench`; engines: %s\n\n", strings.Join(engs, ", "))
	rep := &report{}
	if sections["rooms"] {
		if err := runRooms(o, engs, rep); err != nil {
			return err
		}
	}
	if sections["events"] {
		for _, name := range engs {
			if err := runEvents(o.radicale, o.redisURL, name, rep); err != nil {
				return err
			}
		}
	}
	if sections["rooms"] || sections["events"] {
		printEngines(engs, rep, sections)
	}
	if sections["user"] {
		if err := runUser(o.radicale, o.redisURL); err != nil {
			return err
		}
	}
	fmt.Printf("Load average at the end: %s.\n", loadAvg())
	return nil
}

// printEngines puts the engines side by side.
func printEngines(engs []string, rep *report, sections map[string]bool) {
	fmt.Printf("### The engines side by side\n\n")
	fmt.Printf("| engine | claims/s (claim + release, %s) | site-week availability p99 over HTTP | booking throughput (Radicale) | registrations acknowledged/s (one hot event) |\n|---|---|---|---|---|\n", "gate alone")
	for _, name := range engs {
		f := rep.of(engineLabel(name))
		cell := func(ok bool, s string) string {
			if !ok {
				return "not run"
			}
			return s
		}
		fmt.Printf("| %s | %s | %s | %s | %s |\n", engineLabel(name),
			cell(sections["rooms"], fmt.Sprintf("%.0f", f.claimsPerSec)),
			cell(sections["rooms"], fmt.Sprintf("%s at %d req/s", ms(f.siteWeekP99), f.siteWeekRate)),
			cell(sections["rooms"], fmt.Sprintf("%.0f bookings/s", f.bookingsPerSec)),
			cell(sections["events"], fmt.Sprintf("%.0f", f.regsPerSec)))
	}
	fmt.Println()
}

func engineLabel(name string) string {
	if name == "redis" {
		return "Redis"
	}
	return name
}

var paris, _ = time.LoadLocation("Europe/Paris")

// runRooms seeds the room calendars on Radicale once, then runs the room
// benchmarks on each engine.
func runRooms(o benchOptions, engs []string, rep *report) error {
	ctx := context.Background()
	user := "bench-" + randHex(4)
	home := strings.TrimRight(o.radicale, "/") + "/" + user + "/"
	store, err := caldav.NewClient(home, caldav.ClientOptions{Username: user, Password: "x", Timeout: 60 * time.Second})
	if err != nil {
		return err
	}
	sites := []booking.Site{{ID: "bench", Name: "Banc d'essai", Location: paris}}
	var rooms []booking.Room
	for i := 0; i < o.rooms; i++ {
		rooms = append(rooms, booking.Room{ID: fmt.Sprintf("r%02d", i), SiteID: "bench", Name: fmt.Sprintf("Salle %d", i), Capacity: 10, Calendar: fmt.Sprintf("r%02d", i)})
	}
	cat, err := booking.NewCatalog(sites, rooms)
	if err != nil {
		return err
	}
	fmt.Printf("### Rooms: %d rooms × %d events (10%% weekly recurring), one site, on Radicale\n\n", o.rooms, o.events)
	t0 := time.Now()
	for _, r := range rooms {
		if err := store.CreateCalendar(ctx, r.Calendar, r.Name); err != nil {
			return fmt.Errorf("mkcalendar %s: %w", r.Calendar, err)
		}
		if err := seed(ctx, home+r.Calendar+"/", user, r.ID, o.events); err != nil {
			return fmt.Errorf("seed %s: %w", r.ID, err)
		}
	}
	ch, err := store.Changes(ctx, rooms[0].Calendar, "")
	if err != nil {
		return err
	}
	if len(ch.Changed) != o.events {
		return fmt.Errorf("seeded %d events in %s, the server lists %d", o.events, rooms[0].ID, len(ch.Changed))
	}
	fmt.Printf("Seeding took %s.\n\n", time.Since(t0).Round(time.Millisecond))
	for i, name := range engs {
		if err := roomsOnEngine(ctx, o, name, i, store, cat, rooms, rep); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// roomsOnEngine runs the room benchmarks with the gate on one engine;
// nth is the engine's rank (the first one also times Radicale's first
// listing and the availability read straight from CalDAV, and each
// engine books its own days).
func roomsOnEngine(ctx context.Context, o benchOptions, name string, nth int, store *caldav.Client, cat *booking.Catalog, rooms []booking.Room, rep *report) error {
	eng, err := openEngine(ctx, name, o.redisURL)
	if err != nil {
		return err
	}
	defer eng.close()
	if err := eng.flush(ctx); err != nil {
		return err
	}
	figures := rep.of(eng.name)
	fmt.Printf("#### Gate on %s\n\n", engineTitle(eng.name))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rcal := caldav.NewRoomCalendars(store, log)
	svc, err := booking.NewService(booking.Options{Catalog: cat, Calendar: rcal, Gate: redisgate.New(eng.client), Recurrence: rcal, Logger: log, SyncInterval: time.Hour})
	if err != nil {
		return err
	}

	// 1. Rebuild of one room's cache after a flush. Radicale builds its
	// own item cache (kept on disk) on the first listing of a calendar
	// imported in one PUT; a server in service has it. The first reading
	// of each room, made with the first engine, is timed apart.
	var cold []time.Duration
	if nth == 0 {
		for _, r := range rooms {
			if err := eng.flush(ctx); err != nil {
				return err
			}
			start := time.Now()
			if err := svc.SyncRoom(ctx, r.ID); err != nil {
				return fmt.Errorf("first rebuild %s: %w", r.ID, err)
			}
			cold = append(cold, time.Since(start))
		}
	}
	var rebuilds []time.Duration
	for _, r := range rooms {
		if err := eng.flush(ctx); err != nil {
			return err
		}
		start := time.Now()
		if err := svc.SyncRoom(ctx, r.ID); err != nil {
			return fmt.Errorf("rebuild %s: %w", r.ID, err)
		}
		rebuilds = append(rebuilds, time.Since(start))
	}
	fmt.Printf("Rebuild of one room's cache after a flush (%d events, read from Radicale, expanded, loaded into the gate):\n\n", o.events)
	fmt.Printf("| reading | rooms | min | median | max |\n|---|---|---|---|---|\n")
	if len(cold) > 0 {
		fmt.Printf("| first after the import (Radicale builds its item cache) | %d | %s | %s | %s |\n", len(cold), ms(pct(cold, 0)), ms(pct(cold, 50)), ms(pct(cold, 100)))
	}
	fmt.Printf("| server in service (its cache built) | %d | %s | %s | %s |\n\n", len(rebuilds), ms(pct(rebuilds, 0)), ms(pct(rebuilds, 50)), ms(pct(rebuilds, 100)))
	for _, r := range rooms { // every room cached again
		if err := svc.SyncRoom(ctx, r.ID); err != nil {
			return err
		}
	}

	// 2. Site-week availability from the cache, in process (and, with
	// the first engine, straight from CalDAV).
	week := time.Now().In(paris).AddDate(0, 0, 7)
	from := time.Date(week.Year(), week.Month(), week.Day(), 0, 0, 0, 0, paris)
	to := from.AddDate(0, 0, 7)
	var cached, direct []time.Duration
	for i := 0; i < 200; i++ {
		s := time.Now()
		if _, err := svc.Availability(ctx, "bench", "", from, to); err != nil {
			return err
		}
		cached = append(cached, time.Since(s))
	}
	fmt.Printf("Site-week availability (%d rooms), one caller, in process:\n\n", len(rooms))
	fmt.Printf("| source | runs | median | p99 |\n|---|---|---|---|\n")
	fmt.Printf("| the gate's cache (%s) | %d | %s | %s |\n", eng.name, len(cached), ms(pct(cached, 50)), ms(pct(cached, 99)))
	if nth == 0 {
		for i := 0; i < 3; i++ {
			s := time.Now()
			for _, r := range rooms {
				if _, _, err := rcal.Busy(ctx, r, paris, from, to); err != nil {
					return err
				}
			}
			direct = append(direct, time.Since(s))
		}
		fmt.Printf("| straight from CalDAV (calendar-query per room, parse, expand) | %d | %s | %s |\n\n", len(direct), ms(pct(direct, 50)), ms(pct(direct, 99)))
		fmt.Printf("Ratio of medians (CalDAV / cache): **%.0f×**.\n\n", float64(pct(direct, 50))/float64(pct(cached, 50)))
	} else {
		fmt.Println()
	}

	// 3. The same over HTTP at a fixed rate. The client asks for gzip,
	// as browsers do, and reads the bytes without decoding them (a
	// browser would decode them on its own machine).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.New(api.Options{Logger: log, Catalog: cat, Bookings: svc, AuthMode: api.AuthDev}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, DisableCompression: true}}
	path := fmt.Sprintf("/api/v1/availability?site=bench&from=%s&to=%s", url.QueryEscape(from.Format(time.RFC3339)), url.QueryEscape(to.Format(time.RFC3339)))
	plain, zipped, err := answerSizes(client, base+path)
	if err != nil {
		return err
	}
	fmt.Printf("Site-week availability over HTTP (the same week on every request; answer %d bytes, %d bytes gzip-compressed as sent; open loop, %s per rate, latency from the scheduled send):\n\n", plain, zipped, o.dur)
	fmt.Printf("| target/s | requests | errors | achieved/s | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range strings.Split(o.rates, ",") {
		var rps int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &rps); err != nil || rps <= 0 {
			return fmt.Errorf("bad -rps value %q", f)
		}
		lat, errs, achieved := openLoop(client, func(int) string { return base + path }, rps, o.dur)
		fmt.Printf("| %d | %d | %d | %.0f | %s | %s | %s | %s |\n", rps, len(lat), errs, achieved, ms(pct(lat, 50)), ms(pct(lat, 90)), ms(pct(lat, 99)), ms(pct(lat, 100)))
		figures.siteWeekP99, figures.siteWeekRate = pct(lat, 99), rps
		time.Sleep(2 * time.Second) // let the backlog drain
	}
	fmt.Println()

	// 4. Claims per second: the gate's decision alone.
	cr := benchClaims(ctx, redisgate.New(eng.client), rooms, o.claimWorkers, o.dur)
	figures.claimsPerSec = float64(cr.claims+cr.conflicts) / cr.took.Seconds()
	fmt.Printf("Claims on the gate alone (%d goroutines for %s, each claim of a free half-hour released at once; no calendar):\n\n", o.claimWorkers, o.dur)
	fmt.Printf("| claims | conflicts | errors | seconds | claims/s | Claim p50 | Claim p99 |\n|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %d | %d | %.1f | %.0f | %s | %s |\n\n", cr.claims, cr.conflicts, cr.errs, cr.took.Seconds(), figures.claimsPerSec, ms(pct(cr.lat, 50)), ms(pct(cr.lat, 99)))
	if cr.firstErr != "" {
		return fmt.Errorf("claims: %d errors, first: %s", cr.errs, cr.firstErr)
	}

	// 5. Booking throughput on distinct rooms: one booker per room, each
	// taking consecutive evening slots (the seeded events are in the
	// day), on days of the engine's own.
	var ok, refused atomic.Int64
	var blat []time.Duration
	var mu sync.Mutex
	deadline := time.Now().Add(o.dur)
	var wg sync.WaitGroup
	start := time.Now()
	for i, r := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline) && n < 2000; n++ {
				day := time.Now().In(paris).AddDate(0, 0, 2+100*nth+n/4)
				s := time.Date(day.Year(), day.Month(), day.Day(), 19+n%4, 0, 0, 0, paris)
				t := time.Now()
				code := post(client, base, fmt.Sprintf("booker-%d", i), r.ID, s, s.Add(time.Hour))
				mu.Lock()
				blat = append(blat, time.Since(t))
				mu.Unlock()
				if code == 201 {
					ok.Add(1)
				} else {
					refused.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	figures.bookingsPerSec = float64(ok.Load()) / el.Seconds()
	fmt.Printf("Booking throughput, %d rooms, one booker each (claim in the gate, PUT If-None-Match to Radicale, commit):\n\n", len(rooms))
	fmt.Printf("| acknowledged | refused | seconds | bookings/s | p50 | p99 |\n|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %d | %.1f | %.0f | %s | %s |\n\n", ok.Load(), refused.Load(), el.Seconds(), figures.bookingsPerSec, ms(pct(blat, 50)), ms(pct(blat, 99)))

	// 6. 200 contenders on one slot.
	day := time.Now().In(paris).AddDate(0, 0, 1+nth)
	s := time.Date(day.Year(), day.Month(), day.Day(), 23, 0, 0, 0, paris)
	codes := make([]int, 200)
	gate := make(chan struct{})
	var cw sync.WaitGroup
	for i := range codes {
		cw.Add(1)
		go func() {
			defer cw.Done()
			<-gate
			codes[i] = post(client, base, fmt.Sprintf("contender-%d", i), rooms[0].ID, s, s.Add(30*time.Minute))
		}()
	}
	cs := time.Now()
	close(gate)
	cw.Wait()
	settle := time.Since(cs)
	n := map[int]int{}
	for _, c := range codes {
		n[c]++
	}
	fmt.Printf("200 contenders on one slot:\n\n| settled in | 201 | 409 | other |\n|---|---|---|---|\n| %s | %d | %d | %d |\n\n", ms(settle), n[201], n[409], 200-n[201]-n[409])
	if n[201] != 1 {
		return fmt.Errorf("200 contenders on one slot: %d bookings acknowledged, want exactly 1", n[201])
	}
	return nil
}

// engineTitle names an engine in headings.
func engineTitle(name string) string {
	if name == "Redis" {
		return "Redis (redis-server on loopback)"
	}
	return "the embedded engine (miniredis in process)"
}

// answerSizes fetches u once plain and once gzip-compressed and returns
// the sizes of the bodies as sent, checking that both hold the same JSON.
func answerSizes(c *http.Client, u string) (int, int, error) {
	var bodies [2][]byte
	for i, enc := range []string{"", "gzip"} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set(api.HeaderUser, "bench")
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, 0, err
		}
		bodies[i], err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, 0, fmt.Errorf("GET %s: %s: %.300s", u, resp.Status, bodies[i])
		}
	}
	plain, err := gunzip(bodies[1])
	if err != nil {
		return 0, 0, fmt.Errorf("GET %s with gzip: %w", u, err)
	}
	if !bytes.Equal(plain, bodies[0]) {
		return 0, 0, fmt.Errorf("GET %s: the gzip answer decodes to other JSON than the plain one", u)
	}
	return len(bodies[0]), len(bodies[1]), nil
}

func gunzip(b []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// seed replaces a calendar's content with n events in one PUT of the
// collection (Radicale stores each UID as one object), which is how a
// Nextcloud export is imported and far faster than n PUTs.
func seed(ctx context.Context, calURL, user, room string, n int) error {
	var b bytes.Buffer
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//roomcal loadbench//EN\r\n")
	first := time.Now().In(paris).AddDate(0, 0, -180)
	for i := 0; i < n; i++ {
		day := first.AddDate(0, 0, i*365/n)
		s := time.Date(day.Year(), day.Month(), day.Day(), 8+(i%5)*2, 0, 0, 0, paris)
		// UTC times: Radicale adds a VTIMEZONE to every object whose TZID
		// has none, which makes seeding 20,000 events take many minutes.
		fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:%s-%05d@bench\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Réunion %d\r\nDTSTART:%s\r\nDTEND:%s\r\n",
			room, i, i, s.UTC().Format("20060102T150405Z"), s.Add(90*time.Minute).UTC().Format("20060102T150405Z"))
		if i%10 == 0 {
			b.WriteString("RRULE:FREQ=WEEKLY;COUNT=10\r\n")
		}
		b.WriteString("END:VEVENT\r\n")
	}
	b.WriteString("END:VCALENDAR\r\n")
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, calURL, &b)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user, "x")
	req.Header.Set("Content-Type", "text/calendar; charset=utf-8")
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("PUT collection: %s: %s", resp.Status, body)
	}
	return nil
}

func post(c *http.Client, base, user, room string, s, e time.Time) int {
	body, _ := json.Marshal(map[string]string{"room": room, "start": s.Format(time.RFC3339), "end": e.Format(time.RFC3339), "title": "Banc d'essai"})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/bookings", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.HeaderUser, user)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// openLoop sends GETs at a fixed rate for dur, whatever the answers'
// speed, and measures each from its scheduled send time. target gives
// the URL of the i-th request. Each request asks for gzip and reads the
// body as sent. It returns the latencies, the requests that failed
// (transport error or a status other than 200) and the rate achieved.
func openLoop(c *http.Client, target func(i int) string, rps int, dur time.Duration) ([]time.Duration, int, float64) {
	interval := time.Second / time.Duration(rps)
	total := int(dur / interval)
	lat := make([]time.Duration, total)
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < total; i++ {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, target(i), nil)
			req.Header.Set(api.HeaderUser, fmt.Sprintf("bench-%d", i%50))
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := c.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if err != nil || resp.StatusCode != 200 {
				errs.Add(1)
			}
			lat[i] = time.Since(at)
		}()
	}
	wg.Wait()
	return lat, int(errs.Load()), float64(total) / time.Since(start).Seconds()
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "model name") {
			if i := strings.IndexByte(line, ':'); i > 0 {
				return strings.TrimSpace(line[i+1:])
			}
		}
	}
	return runtime.GOARCH
}

// loadAvg is /proc/loadavg's three load averages.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
