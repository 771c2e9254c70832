package main

// What a user meets (-only user): the real roomcal binary, in header
// identity mode behind the trusted loopback, with its sync loop running,
// asked for many different availability windows (several sites, weeks
// and start times) open-loop at several rates, and its resident memory
// afterwards. Run against Radicale and Redis (the ones `make bench`
// starts), and on the embedded store and engine.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/caldav"
)

var (
	userBinary   = flag.String("binary", "", "the roomcal binary of the user section (default: built as make build does, into a temporary folder)")
	userRooms    = flag.Int("user-rooms", 10, "rooms of the user section, over three sites")
	userEvents   = flag.Int("user-events", 300, "events seeded in each room's calendar in the user section")
	userRates    = flag.String("user-rps", "200,500,1000", "request rates of the user section, comma-separated (each run for -user-duration)")
	userDuration = flag.Duration("user-duration", 8*time.Second, "length of each timed load of the user section")
	userSyncs    = flag.String("user-sync", "2s,30s", "sync intervals of the binary in the user section, comma-separated (one binary each)")
	userStores   = flag.String("user-stores", "radicale,embedded", "what the binary runs on, comma-separated: radicale (Radicale and Redis) or embedded (the embedded store and engine)")
	userQuery    = flag.String("user-query", "", "added to every availability request of the user section, e.g. &fields=free (default: the full answer, as the pages ask)")
	userKeep     = flag.Bool("user-keep", false, "keep the user section's folder (configurations, calendars, the binary's logs) and say where it is")
)

// Targets of issue 16 on the 2-core machine, the load generator sharing
// the cores.
const (
	targetRate = 500
	targetP99  = 5 * time.Millisecond
	targetSync = 2 * time.Second
	targetRSS  = 50 << 20
)

// userSites are the user section's sites; rooms are spread over them.
var userSites = []string{"nantes", "rennes", "brest"}

// userRun is one binary's run: its configuration and what was measured.
type userRun struct {
	store string
	sync  time.Duration
	rows  []userRow
	rss   int64 // VmRSS after the last rate, bytes
	hwm   int64 // VmHWM (peak RSS) at the end
}

type userRow struct {
	rate           int
	lat            []time.Duration
	errs           int
	achieved       float64
	rss            int64
	memo           memoDelta
	syncs          syncDelta
	cpu            cpuShares
	answerBytes    int
	answerBytesZip int
}

// runUser runs the user section for each store and sync interval.
func runUser(radicale, redisURL string) error {
	ctx := context.Background()
	rates, err := positiveInts(*userRates)
	if err != nil {
		return fmt.Errorf("-user-rps: %w", err)
	}
	var syncs []time.Duration
	for _, f := range strings.Split(*userSyncs, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < time.Second {
			return fmt.Errorf("-user-sync: %q is not a duration of 1s or more", f)
		}
		syncs = append(syncs, d)
	}
	var stores []string
	for _, f := range strings.Split(*userStores, ",") {
		if f = strings.TrimSpace(f); f != "radicale" && f != "embedded" {
			return fmt.Errorf("-user-stores lists radicale and embedded, not %q", f)
		}
		stores = append(stores, strings.TrimSpace(f))
	}
	if *userRooms < len(userSites) || *userEvents < 1 || *userDuration <= 0 {
		return fmt.Errorf("-user-rooms must be at least %d, -user-events and -user-duration positive", len(userSites))
	}
	dir, err := os.MkdirTemp("", "loadbench-user-")
	if err != nil {
		return err
	}
	if *userKeep {
		fmt.Fprintf(os.Stderr, "loadbench: the user section's folder is %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	radicalePID, redisPID := serverPIDs(radicale, redisURL)
	bin := *userBinary
	if bin == "" {
		bin = filepath.Join(dir, "roomcal")
		gobin := os.Getenv("GO")
		if gobin == "" {
			gobin = "go"
		}
		bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		// Built as the Makefile builds it (BUILD_FLAGS, no cgo).
		build := exec.CommandContext(bctx, gobin, "build", "-trimpath", "-tags", "nomsgpack", "-o", bin, "./cmd/roomcal")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("go build ./cmd/roomcal: %w\n%s", err, out)
		}
	}
	windows := userWindows(time.Now())
	fmt.Printf("### What a user meets: the roomcal binary, its sync loop running\n\n")
	fmt.Printf("`%s serve` in header identity mode (`ROOMCAL_AUTH_MODE=header`, the load generator on the trusted loopback), "+
		"%d rooms over %d sites × %d events each (10%% weekly recurring), rules: 15 min notice, 90 days ahead, open Mon–Fri 08:00–20:00 and Sat 09:00–13:00. "+
		"Each request asks one of %d distinct windows (every site × 4 weeks × 4 start times, and every room × 2 weeks), drawn at random, "+
		"with `Accept-Encoding: gzip` as browsers send it (the load generator reads the bytes without decoding them)%s. "+
		"Open loop, %s per rate, latency from the scheduled send; before the rates, every window is asked once (checked: 200, gzip, JSON). "+
		"RSS is VmRSS from /proc/PID/status; memo and sync figures are read from the binary's /metrics before and after each rate.\n\n",
		filepath.Base(bin), *userRooms, len(userSites), *userEvents, len(windows), queryNote(*userQuery), *userDuration)

	var runs []userRun
	for _, store := range stores {
		prep, err := prepareUserStore(ctx, store, dir, bin, radicale, redisURL)
		if err != nil {
			return fmt.Errorf("user section, %s: %w", store, err)
		}
		for _, sync := range syncs {
			probe := cpuProbe{}
			if store == "radicale" {
				probe.radicalePID, probe.redisPID = radicalePID, redisPID
			}
			r, err := userRunOne(ctx, bin, prep, sync, rates, windows, probe)
			if err != nil {
				return fmt.Errorf("user section, %s, sync %s: %w", store, sync, err)
			}
			runs = append(runs, r)
		}
	}
	printUserRuns(runs)
	return nil
}

func queryNote(q string) string {
	if q == "" {
		return ", for the full answer (busy with titles, and free), as the pages ask"
	}
	return fmt.Sprintf(", each with `%s`", q)
}

// positiveInts reads a comma-separated list of positive whole numbers.
func positiveInts(v string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive whole number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// userWindows lists the distinct availability questions: every site for
// four weeks from this one, each at four start times (Monday 00:00 and
// 08:00, Tuesday 00:00, Wednesday 06:00; seven days each), and every
// room for this week and the next.
func userWindows(now time.Time) []string {
	today := now.In(paris)
	monday := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, paris)
	monday = monday.AddDate(0, 0, -((int(monday.Weekday()) + 6) % 7))
	q := func(kind, id string, from time.Time) string {
		v := url.Values{kind: {id}, "from": {from.Format(time.RFC3339)}, "to": {from.AddDate(0, 0, 7).Format(time.RFC3339)}}
		return "/api/v1/availability?" + v.Encode()
	}
	var out []string
	for _, site := range userSites {
		for w := 0; w < 4; w++ {
			for _, off := range []time.Duration{0, 8 * time.Hour, 24 * time.Hour, 54 * time.Hour} {
				week := monday.AddDate(0, 0, 7*w)
				// Add the offset in wall-clock terms (the weeks may
				// cross a change of the clocks).
				from := time.Date(week.Year(), week.Month(), week.Day(), int(off/time.Hour), 0, 0, 0, paris)
				out = append(out, q("site", site, from))
			}
		}
	}
	for i := 0; i < *userRooms; i++ {
		for w := 0; w < 2; w++ {
			out = append(out, q("room", userRoomID(i), monday.AddDate(0, 0, 7*w)))
		}
	}
	return out
}

func userRoomID(i int) string { return fmt.Sprintf("u%02d", i) }

// userSiteOf is the site of room i: the rooms are spread in runs.
func userSiteOf(i int) string { return userSites[i*len(userSites)/(*userRooms)] }

// userConfig is the roomcal.yaml of the user section.
func userConfig() string {
	var b strings.Builder
	b.WriteString("rules:\n  max_duration: 4h\n  min_notice: 15m\n  max_ahead: 90d\nsites:\n")
	for _, site := range userSites {
		fmt.Fprintf(&b, "  - id: %s\n    name: Site %s\n    timezone: Europe/Paris\n    hours:\n      mon-fri: \"08:00-20:00\"\n      sat: \"09:00-13:00\"\n    rooms:\n", site, site)
		for i := 0; i < *userRooms; i++ {
			if userSiteOf(i) == site {
				fmt.Fprintf(&b, "      - id: %s\n        name: Salle %d\n        capacity: 10\n", userRoomID(i), i)
			}
		}
	}
	return b.String()
}

// userStore is what a binary of the user section runs on.
type userStore struct {
	name string   // "Radicale + Redis" or "embedded"
	key  string   // "radicale" or "embedded"
	env  []string // its ROOMCAL_* settings
	dir  string   // its working folder, holding roomcal.yaml
	// reset, when set, empties the gate before each binary starts.
	reset func(ctx context.Context) error
}

// prepareUserStore writes the configuration and seeds the rooms'
// calendars: on a fresh calendar home of Radicale (made by `roomcal
// rooms sync`, then filled by one PUT per calendar), or in a fresh
// embedded store.
func prepareUserStore(ctx context.Context, key, dir, bin, radicale, redisURL string) (userStore, error) {
	st := userStore{key: key, dir: filepath.Join(dir, key)}
	if err := os.MkdirAll(st.dir, 0o755); err != nil {
		return st, err
	}
	cfgPath := filepath.Join(st.dir, "roomcal.yaml")
	if err := os.WriteFile(cfgPath, []byte(userConfig()), 0o644); err != nil {
		return st, err
	}
	st.env = []string{"ROOMCAL_CONFIG=" + cfgPath}
	t0 := time.Now()
	switch key {
	case "radicale":
		st.name = "Radicale + Redis"
		user := "bench-user-" + randHex(4)
		home := strings.TrimRight(radicale, "/") + "/" + user + "/"
		// A database of its own on the benchmark's Redis, emptied before
		// each binary starts.
		u, err := url.Parse(redisURL)
		if err != nil {
			return st, fmt.Errorf("redis url: %w", err)
		}
		u.Path = "/3"
		st.reset = func(ctx context.Context) error {
			eng, err := openEngine(ctx, "redis", u.String())
			if err != nil {
				return err
			}
			defer eng.close()
			return eng.client.FlushDB(ctx).Err()
		}
		st.env = append(st.env, "ROOMCAL_CALDAV_URL="+home, "ROOMCAL_CALDAV_USER="+user, "ROOMCAL_CALDAV_PASSWORD=x",
			"ROOMCAL_REDIS_URL="+u.String())
		if err := runBinary(ctx, bin, st, "rooms", "sync"); err != nil {
			return st, err
		}
		for i := 0; i < *userRooms; i++ {
			if err := seed(ctx, home+userRoomID(i)+"/", user, userRoomID(i), *userEvents); err != nil {
				return st, fmt.Errorf("seed %s: %w", userRoomID(i), err)
			}
		}
	case "embedded":
		st.name = "embedded store and engine"
		data := filepath.Join(st.dir, "data")
		st.env = append(st.env, "ROOMCAL_DATA_DIR="+data)
		fs, err := caldav.OpenFileStore(data)
		if err != nil {
			return st, err
		}
		err = seedFileStore(ctx, fs, *userEvents)
		if cerr := fs.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return st, err
		}
	}
	fmt.Printf("%s: %d calendars seeded in %s.\n\n", st.name, *userRooms, time.Since(t0).Round(time.Millisecond))
	return st, nil
}

// seedFileStore writes n events in each room's calendar of the embedded
// store, one object each, as seed does on Radicale.
func seedFileStore(ctx context.Context, fs *caldav.FileStore, n int) error {
	first := time.Now().In(paris).AddDate(0, 0, -180)
	for r := 0; r < *userRooms; r++ {
		room := userRoomID(r)
		if err := fs.CreateCalendar(ctx, room, "Salle "+room); err != nil {
			return fmt.Errorf("create calendar %s: %w", room, err)
		}
		for i := 0; i < n; i++ {
			day := first.AddDate(0, 0, i*365/n)
			s := time.Date(day.Year(), day.Month(), day.Day(), 8+(i%5)*2, 0, 0, 0, paris)
			uid := fmt.Sprintf("%s-%05d@bench", room, i)
			var b bytes.Buffer
			fmt.Fprintf(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//roomcal loadbench//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Réunion %d\r\nDTSTART:%s\r\nDTEND:%s\r\n",
				uid, i, s.UTC().Format("20060102T150405Z"), s.Add(90*time.Minute).UTC().Format("20060102T150405Z"))
			if i%10 == 0 {
				b.WriteString("RRULE:FREQ=WEEKLY;COUNT=10\r\n")
			}
			b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
			if _, err := fs.Create(ctx, room, caldav.ObjectName(uid), b.Bytes()); err != nil {
				return fmt.Errorf("create %s in %s: %w", uid, room, err)
			}
		}
	}
	return nil
}

// userEnv is the binary's environment: PATH and HOME, the Go runtime's
// settings given to loadbench (GOGC, GOMEMLIMIT, GODEBUG, GOMAXPROCS),
// and the store's ROOMCAL_* settings over the section's.
func userEnv(st userStore, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"ROOMCAL_AUTH_MODE=header", "ROOMCAL_TRUSTED_PROXIES=127.0.0.1/32,::1/128", "ROOMCAL_LOG_LEVEL=warn",
		"ROOMCAL_PUBLIC_URL=http://127.0.0.1:8080"}
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, st.env...)
	return append(env, extra...)
}

// runBinary runs a short command of the binary (rooms sync) to its end.
func runBinary(ctx context.Context, bin string, st userStore, args ...string) error {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Env, cmd.Dir = userEnv(st), st.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("roomcal %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// server is a running binary.
type server struct {
	cmd  *exec.Cmd
	base string
	log  string // its stderr and stdout
	done chan error
}

// startServer starts `roomcal serve` on a free loopback port and waits,
// at most a minute, until /readyz answers 200.
func startServer(bin string, st userStore, sync time.Duration) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(st.dir, fmt.Sprintf("roomcal-%s.log", sync))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = userEnv(st, "ROOMCAL_ADDR=127.0.0.1:"+strconv.Itoa(port), "ROOMCAL_SYNC_INTERVAL="+sync.String())
	cmd.Dir, cmd.Stdout, cmd.Stderr = st.dir, logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), log: logPath, done: make(chan error, 1)}
	go func() {
		s.done <- cmd.Wait()
		logFile.Close()
	}()
	deadline := time.Now().Add(time.Minute)
	c := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("roomcal exited before it was ready (%v):\n%s", err, tail(logPath))
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := c.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("roomcal not ready within a minute:\n%s", tail(logPath))
}

// stop ends the binary (SIGTERM, then SIGKILL after 30 s) and waits.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// memory reads VmRSS and VmHWM of the binary, in bytes.
func (s *server) memory() (rss, hwm int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[2] != "kB" {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n << 10
		case "VmHWM:":
			hwm = n << 10
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS in /proc/PID/status")
	}
	return rss, hwm, nil
}

// tail returns the last lines of a log file.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// userRunOne starts one binary, asks every window once, runs each rate
// and stops the binary.
func userRunOne(ctx context.Context, bin string, st userStore, sync time.Duration, rates []int, windows []string, probe cpuProbe) (userRun, error) {
	run := userRun{store: st.name, sync: sync}
	if st.reset != nil {
		if err := st.reset(ctx); err != nil {
			return run, fmt.Errorf("empty the gate: %w", err)
		}
	}
	srv, err := startServer(bin, st, sync)
	if err != nil {
		return run, err
	}
	defer srv.stop()
	probe.roomcalPID = srv.cmd.Process.Pid
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, DisableCompression: true}}
	plain, zipped, err := warmUp(client, srv.base, windows)
	if err != nil {
		return run, fmt.Errorf("%w\nroomcal's log:\n%s", err, tail(srv.log))
	}
	rng := rand.New(rand.NewPCG(uint64(sync), 16))
	for _, rate := range rates {
		total := int(*userDuration / (time.Second / time.Duration(rate)))
		order := make([]int, total)
		for i := range order {
			order[i] = rng.IntN(len(windows))
		}
		before, err := scrape(client, srv.base)
		if err != nil {
			return run, err
		}
		cpu0 := probe.read()
		lat, errs, achieved := openLoop(client, func(i int) string { return srv.base + windows[order[i]] + *userQuery }, rate, *userDuration)
		cpu := probe.read().since(cpu0)
		after, err := scrape(client, srv.base)
		if err != nil {
			return run, err
		}
		rss, _, err := srv.memory()
		if err != nil {
			return run, err
		}
		run.rows = append(run.rows, userRow{rate: rate, lat: lat, errs: errs, achieved: achieved, rss: rss,
			memo: memoOf(before, after), syncs: syncOf(before, after), cpu: cpu, answerBytes: plain, answerBytesZip: zipped})
		time.Sleep(2 * time.Second) // let the backlog drain
	}
	if run.rss, run.hwm, err = srv.memory(); err != nil {
		return run, err
	}
	return run, nil
}

// warmUp asks every window once, checking that the answer is a 200,
// gzip-compressed, holding JSON with rooms; it returns the mean sizes of
// the answers, decoded and as sent. Bounded: one request per window,
// each within the client's timeout.
func warmUp(c *http.Client, base string, windows []string) (int, int, error) {
	var plain, zipped int
	for i, w := range windows {
		req, err := http.NewRequest(http.MethodGet, base+w+*userQuery, nil)
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set(api.HeaderUser, "bench-warm")
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := c.Do(req)
		if err != nil {
			return 0, 0, fmt.Errorf("window %d: %w", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("window %d: %w", i, err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
			return 0, 0, fmt.Errorf("GET %s: %s, Content-Encoding %q: %.300s", w, resp.Status, resp.Header.Get("Content-Encoding"), body)
		}
		js, err := gunzip(body)
		if err != nil {
			return 0, 0, fmt.Errorf("GET %s: %w", w, err)
		}
		var a struct {
			Rooms []json.RawMessage `json:"rooms"`
		}
		if err := json.Unmarshal(js, &a); err != nil || len(a.Rooms) == 0 {
			return 0, 0, fmt.Errorf("GET %s: answer %.300s: %v", w, js, err)
		}
		plain += len(js)
		zipped += len(body)
	}
	return plain / len(windows), zipped / len(windows), nil
}

// metricsSample is /metrics read into sample → value.
type metricsSample map[string]float64

func scrape(c *http.Client, base string) (metricsSample, error) {
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("/metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	out := metricsSample{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// memoDelta is how the availability memos were used during a rate.
type memoDelta struct {
	answerHits, answerMisses, answerUncached, encodedHits, encodedMisses, encodes, compressions int
}

func memoOf(before, after metricsSample) memoDelta {
	d := func(k string) int { return int(after[k] - before[k]) }
	return memoDelta{
		answerHits:     d(`roomcal_availability_memo_total{memo="answer",result="hit"}`),
		answerMisses:   d(`roomcal_availability_memo_total{memo="answer",result="miss"}`),
		answerUncached: d(`roomcal_availability_memo_total{memo="answer",result="uncached"}`),
		encodedHits:    d(`roomcal_availability_memo_total{memo="encoded",result="hit"}`),
		encodedMisses:  d(`roomcal_availability_memo_total{memo="encoded",result="miss"}`),
		encodes:        d(`roomcal_availability_encodings_total{step="json"}`),
		compressions:   d(`roomcal_availability_encodings_total{step="gzip"}`),
	}
}

// syncDelta is the sync passes over every room made during a rate.
type syncDelta struct {
	passes     int
	total, max time.Duration // max: the upper bound of the highest bucket a pass fell in
}

func syncOf(before, after metricsSample) syncDelta {
	const name = "roomcal_sync_seconds"
	d := syncDelta{passes: int(after[name+`_count{pass="rooms"}`] - before[name+`_count{pass="rooms"}`])}
	d.total = time.Duration((after[name+`_sum{pass="rooms"}`] - before[name+`_sum{pass="rooms"}`]) * float64(time.Second))
	prev := 0.0
	for _, le := range []string{"0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30"} {
		k := name + `_bucket{pass="rooms",le="` + le + `"}`
		n := after[k] - before[k]
		if n > prev {
			bound, _ := strconv.ParseFloat(le, 64)
			d.max = time.Duration(bound * float64(time.Second))
		}
		prev = n
	}
	if n := after[name+`_count{pass="rooms"}`] - before[name+`_count{pass="rooms"}`]; n > prev {
		d.max = -1 // beyond the last bound
	}
	return d
}

func (d syncDelta) String() string {
	if d.passes == 0 {
		return "none"
	}
	upTo := "≤ " + ms(d.max)
	if d.max < 0 {
		upTo = "> 30 s"
	}
	return fmt.Sprintf("%d, mean %s, longest %s", d.passes, ms(d.total/time.Duration(d.passes)), upTo)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// printUserRuns prints every run and the verdicts.
func printUserRuns(runs []userRun) {
	if len(runs) == 0 {
		return
	}
	r0 := runs[0].rows
	if len(r0) > 0 {
		fmt.Printf("Answers: %d bytes on average, %d bytes as sent (gzip).\n\n", r0[0].answerBytes, r0[0].answerBytesZip)
	}
	fmt.Printf("| runs on | sync | target/s | requests | errors | achieved/s | p50 | p90 | p99 | max | RSS after | answers made / reused | bodies made / reused | sync passes over every room (during the rate) |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		for _, row := range r.rows {
			fmt.Printf("| %s | %s | %d | %d | %d | %.0f | %s | %s | %s | %s | %s | %d / %d | %d / %d | %s |\n",
				r.store, r.sync, row.rate, len(row.lat), row.errs, row.achieved,
				ms(pct(row.lat, 50)), ms(pct(row.lat, 90)), ms(pct(row.lat, 99)), ms(pct(row.lat, 100)), mib(row.rss),
				row.memo.answerMisses+row.memo.answerUncached, row.memo.answerHits,
				row.memo.encodedMisses, row.memo.encodedHits, row.syncs)
		}
	}
	fmt.Println()
	fmt.Printf("CPU during each rate, in cores (CPU seconds per second; 2 cores in all; \"rest\" is everything else the machine ran, other jobs on the shared cores included):\n\n")
	fmt.Printf("| runs on | sync | target/s | CPU |\n|---|---|---|---|\n")
	for _, r := range runs {
		for _, row := range r.rows {
			fmt.Printf("| %s | %s | %d | %s |\n", r.store, r.sync, row.rate, row.cpu)
		}
	}
	fmt.Println()
	fmt.Printf("| runs on | sync | RSS after the run | peak RSS (VmHWM) |\n|---|---|---|---|\n")
	for _, r := range runs {
		fmt.Printf("| %s | %s | %s | %s |\n", r.store, r.sync, mib(r.rss), mib(r.hwm))
	}
	fmt.Println()
	fmt.Printf("| target (issue 16) | runs on | figure | |\n|---|---|---|---|\n")
	for _, r := range runs {
		if r.sync != targetSync {
			continue
		}
		for _, row := range r.rows {
			if row.rate == targetRate {
				p := pct(row.lat, 99)
				fmt.Printf("| p99 ≤ %s at %d req/s, sync every %s | %s | %s (%d errors) | %s |\n", ms(targetP99), targetRate, targetSync, r.store, ms(p), row.errs, verdict(p <= targetP99 && row.errs == 0))
			}
		}
	}
	for _, r := range runs {
		fmt.Printf("| RSS ≤ %s after the run | %s, sync %s | %s | %s |\n", mib(targetRSS), r.store, r.sync, mib(r.rss), verdict(r.rss <= targetRSS))
	}
	fmt.Println()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}
