package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// The former answer types, encoded by reflection: the default answer
// must stay byte for byte what encoding/json made of them.
type refIntervalJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type refRoomJSON struct {
	Room string            `json:"room"`
	Busy []busyJSON        `json:"busy"`
	Free []refIntervalJSON `json:"free"`
}

type refAvailabilityJSON struct {
	Rooms []refRoomJSON `json:"rooms"`
	Stale bool          `json:"stale"`
}

func refEncode(t testing.TB, a booking.Availability) []byte {
	t.Helper()
	out := refAvailabilityJSON{Rooms: []refRoomJSON{}, Stale: a.Stale}
	for _, r := range a.Rooms {
		rj := refRoomJSON{Room: r.Room.ID, Busy: []busyJSON{}, Free: []refIntervalJSON{}}
		for _, b := range r.Busy {
			rj.Busy = append(rj.Busy, busyToJSON(b, true))
		}
		for _, f := range r.Free {
			rj.Free = append(rj.Free, refIntervalJSON{Start: f.Start.Format(time.RFC3339), End: f.End.Format(time.RFC3339)})
		}
		out.Rooms = append(out.Rooms, rj)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleAvailability is an answer with what an encoder can get wrong:
// titles to escape, a hold, an empty title, a room with nothing, times
// in two offsets.
func sampleAvailability(t *testing.T, titles ...string) booking.Availability {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2031, 3, 30, 0, 0, 0, 0, paris) // the clocks change that night
	var busy []booking.Busy
	for i, title := range titles {
		start := day.Add(time.Duration(i) * 90 * time.Minute)
		kind := []booking.Kind{booking.KindBooking, booking.KindEvent, booking.KindExternal, booking.KindHold}[i%4]
		// Every fifth a request waiting for approval ("pending").
		busy = append(busy, booking.Busy{Ref: fmt.Sprint(i), Start: start, End: start.Add(time.Hour), Kind: kind, Title: title, Pending: i%5 == 2})
	}
	return booking.Availability{
		Rooms: []booking.RoomAvailability{
			{Room: booking.Room{ID: "loire"}, Busy: busy, Free: []booking.Interval{
				{Start: day.Add(time.Hour), End: day.Add(2 * time.Hour)},
				{Start: day.Add(20 * time.Hour).UTC(), End: day.Add(21 * time.Hour).UTC()},
			}},
			{Room: booking.Room{ID: "erdre<&>"}},
		},
		Stale: true,
	}
}

var trickyTitles = []string{
	"Réunion d'équipe", "", `Point "hebdo" \ suivi`, "<script>alert(1)</script> & co",
	"tab\tnewline\nreturn\rback\bfeed\fnul\x00esc\x1bdel\x7f", "ligne\u2028paragraphe\u2029fin",
	"bad utf-8 \xff\xfe and a cut rune \xe2\x82", "emoji 🎉 et 中文", "\"", "\\",
}

// TestAvailabilityEncoding: the default answer is byte for byte the
// former reflective encoding, for tricky titles and for random bytes.
func TestAvailabilityEncoding(t *testing.T) {
	tests := []struct {
		name   string
		titles []string
	}{
		{"no busy time", nil},
		{"tricky titles", trickyTitles},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		titles := make([]string, 8)
		for j := range titles {
			b := make([]byte, rng.IntN(40))
			for k := range b {
				b[k] = byte(rng.IntN(256))
			}
			titles[j] = string(b)
		}
		tests = append(tests, struct {
			name   string
			titles []string
		}{fmt.Sprintf("random bytes %d", i), titles})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sampleAvailability(t, tt.titles...)
			got := appendAvailability(nil, a, defaultFields)
			if want := refEncode(t, a); !bytes.Equal(got, want) {
				t.Errorf("encoding differs:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestAvailabilityEncodingFields: each choice of fields gives the parts
// asked for, as the full answer has them, and nothing else.
func TestAvailabilityEncodingFields(t *testing.T) {
	a := sampleAvailability(t, trickyTitles...)
	var full struct {
		Rooms []map[string]json.RawMessage `json:"rooms"`
		Stale bool                         `json:"stale"`
	}
	if err := json.Unmarshal(appendAvailability(nil, a, defaultFields), &full); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		fields availFields
		keys   []string
	}{
		{fieldFree, []string{"room", "free"}},
		{fieldBusy, []string{"room", "busy"}},
		{fieldBusy | fieldFree, []string{"room", "busy", "free"}},
		{fieldBusy | fieldTitles, []string{"room", "busy"}},
		{defaultFields, []string{"room", "busy", "free"}},
	}
	for _, tt := range tests {
		t.Run(fieldsString(tt.fields), func(t *testing.T) {
			raw := appendAvailability(nil, a, tt.fields)
			var got struct {
				Rooms []map[string]json.RawMessage `json:"rooms"`
				Stale bool                         `json:"stale"`
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			if got.Stale != full.Stale || len(got.Rooms) != len(full.Rooms) {
				t.Fatalf("stale %v, %d rooms: %s", got.Stale, len(got.Rooms), raw)
			}
			for i, r := range got.Rooms {
				if keys := sortedKeys(r); !equalSorted(keys, tt.keys) {
					t.Errorf("room %d has %v, want %v", i, keys, tt.keys)
				}
				for k, v := range r {
					want := full.Rooms[i][k]
					if k == "busy" && tt.fields&fieldTitles == 0 {
						want = withoutTitles(t, want)
					}
					if !bytes.Equal(v, want) {
						t.Errorf("room %d %s:\n got %s\nwant %s", i, k, v, want)
					}
				}
			}
		})
	}
}

// withoutTitles re-encodes a busy list with the titles left out.
func withoutTitles(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	var busy []busyJSON
	if err := json.Unmarshal(raw, &busy); err != nil {
		t.Fatal(err)
	}
	for i := range busy {
		busy[i].Title = ""
	}
	b, err := json.Marshal(busy)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fieldsString(f availFields) string {
	var names []string
	for _, n := range availFieldNames {
		if f&n.bit != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ",")
}

func sortedKeys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func equalSorted(a, b []string) bool {
	b = append([]string(nil), b...)
	sort.Strings(b)
	return strings.Join(a, "|") == strings.Join(b, "|")
}

func TestParseFields(t *testing.T) {
	tests := []struct {
		values []string
		want   availFields
		bad    bool
	}{
		{nil, defaultFields, false},
		{[]string{"free"}, fieldFree, false},
		{[]string{"busy,free"}, fieldBusy | fieldFree, false},
		{[]string{"busy", "free"}, fieldBusy | fieldFree, false},
		{[]string{" busy , titles "}, fieldBusy | fieldTitles, false},
		{[]string{"free,busy,titles"}, defaultFields, false},
		{[]string{"titles"}, 0, true},
		{[]string{"free,titles"}, 0, true},
		{[]string{""}, 0, true},
		{[]string{"busy,"}, 0, true},
		{[]string{"Busy"}, 0, true},
		{[]string{"rooms"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.values, "&"), func(t *testing.T) {
			got, err := parseFields(tt.values)
			if tt.bad {
				if err == nil {
					t.Fatalf("accepted, gave %s", fieldsString(got))
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %s, %v; want %s", fieldsString(got), err, fieldsString(tt.want))
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{"gzip"}, true},
		{[]string{"gzip, deflate, br, zstd"}, true},
		{[]string{"GZip"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"br", "gzip;q=0.5"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"gzip;q=nope"}, false},
		{[]string{"identity"}, false},
		{[]string{"br, deflate"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"*;q=0, gzip;q=0.1"}, true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.header, " | "), func(t *testing.T) {
			if got := acceptsGzip(tt.header); got != tt.want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

// availabilityFixture is the policy tests' server with a few bookings in
// its room, whose titles need escaping.
func availabilityFixture(t *testing.T) (*policyFixture, string) {
	t.Helper()
	f := newPolicyFixture(t)
	for _, title := range []string{"Réunion <équipe> & \"co\"", "Point hebdo", "Atelier \\ suivi"} {
		start, end := f.slot()
		if _, err := f.bookings.Book(context.Background(), booking.Member{ID: "amina", Name: "Amina"},
			booking.Request{Room: "loire", Start: start, End: end, Title: title}); err != nil {
			t.Fatalf("book: %v", err)
		}
	}
	q := url.Values{"site": {"nantes"}, "from": {f.base.Format(time.RFC3339)}, "to": {f.base.AddDate(0, 0, 7).Format(time.RFC3339)}}
	return f, "/api/v1/availability?" + q.Encode()
}

// rawClient leaves Content-Encoding to the test (net/http's default
// transport would ask for gzip and decode it unseen).
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// getAvailability asks path with the given Accept-Encoding ("" for none)
// and returns the answer and its body as sent.
func getAvailability(t *testing.T, f *policyFixture, path, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(HeaderUser, "amina")
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	return out
}

// TestAvailabilityAnswers: through the HTTP API, each fields choice gives
// its parts (the titles only when asked), the default answer is the
// full one, and a gzip answer decodes to the same JSON as the plain one.
func TestAvailabilityAnswers(t *testing.T) {
	f, path := availabilityFixture(t)
	tests := []struct {
		query      string
		keys       []string
		wantTitles bool
	}{
		{"", []string{"room", "busy", "free"}, true},
		{"&fields=free", []string{"room", "free"}, false},
		{"&fields=busy", []string{"room", "busy"}, false},
		{"&fields=busy,free", []string{"room", "busy", "free"}, false},
		{"&fields=busy&fields=titles", []string{"room", "busy"}, true},
		{"&fields=busy,titles,free", []string{"room", "busy", "free"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, plain := getAvailability(t, f, path+tt.query, "")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" {
				t.Fatalf("plain: %s, Content-Encoding %q: %s", resp.Status, resp.Header.Get("Content-Encoding"), plain)
			}
			if resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", resp.Header)
			}
			var a struct {
				Rooms []map[string]json.RawMessage `json:"rooms"`
			}
			if err := json.Unmarshal(plain, &a); err != nil || len(a.Rooms) != 1 {
				t.Fatalf("answer %s: %v", plain, err)
			}
			if keys := sortedKeys(a.Rooms[0]); !equalSorted(keys, tt.keys) {
				t.Errorf("room has %v, want %v", keys, tt.keys)
			}
			if got := bytes.Contains(plain, []byte(`"title":`)); got != tt.wantTitles {
				t.Errorf("titles given: %v, want %v: %s", got, tt.wantTitles, plain)
			}
			if tt.wantTitles && !bytes.Contains(plain, []byte(`"title":"Réunion \u003céquipe\u003e \u0026 \"co\""`)) {
				t.Errorf("title not as encoding/json escapes it: %s", plain)
			}
			if busy, ok := a.Rooms[0]["busy"]; ok && !bytes.Contains(busy, []byte(`"kind":"booking"`)) {
				t.Errorf("busy without the bookings: %s", busy)
			}

			resp, zipped := getAvailability(t, f, path+tt.query, "gzip, deflate, br")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("gzip: %s, Content-Encoding %q", resp.Status, resp.Header.Get("Content-Encoding"))
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(zipped)) {
				t.Errorf("Content-Length %s for %d bytes", resp.Header.Get("Content-Length"), len(zipped))
			}
			if got := gunzip(t, zipped); !bytes.Equal(got, plain) {
				t.Errorf("gzip answer decodes to\n%s\nnot\n%s", got, plain)
			}
			if len(zipped) >= len(plain) && len(plain) > 1000 {
				t.Errorf("gzip answer %d bytes, plain %d", len(zipped), len(plain))
			}
		})
	}
	for _, bad := range []string{"&fields=titles", "&fields=nope", "&fields="} {
		if resp, body := getAvailability(t, f, path+bad, ""); resp.StatusCode != 400 || !bytes.Contains(body, []byte(`"code":"invalid"`)) {
			t.Errorf("%s: %s %s", bad, resp.Status, body)
		}
	}
}

// TestAvailabilityDefaultAnswer: without fields, the HTTP answer is the
// former reflective encoding of the service's answer.
func TestAvailabilityDefaultAnswer(t *testing.T) {
	f, path := availabilityFixture(t)
	_, body := getAvailability(t, f, path, "")
	a, err := f.bookings.Availability(context.Background(), "nantes", "", f.base, f.base.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	if want := refEncode(t, a); !bytes.Equal(body, want) {
		t.Errorf("answer\n%s\nwant\n%s", body, want)
	}
}

// TestAvailabilityMemoHit: asking again for an answer already made
// returns the same bytes without encoding or compressing again, for each
// fields choice and encoding; once a booking changes the room, the next
// answer is made again and shows it.
func TestAvailabilityMemoHit(t *testing.T) {
	f, path := availabilityFixture(t)
	m := &f.s.encoded
	queries := []string{"", "&fields=free", "&fields=busy,free"}
	first := map[string][]byte{}
	for _, q := range queries {
		for _, enc := range []string{"", "gzip"} {
			_, first[q+"|"+enc] = getAvailability(t, f, path+q, enc)
		}
	}
	if m.encodes.Load() != int64(len(queries)) || m.compressions.Load() != int64(len(queries)) {
		t.Fatalf("first answers: %d encodes, %d compressions; want %d of each", m.encodes.Load(), m.compressions.Load(), len(queries))
	}
	encodes, compressions, hits := m.encodes.Load(), m.compressions.Load(), m.hits.Load()
	for range 3 {
		for _, q := range queries {
			for _, enc := range []string{"", "gzip"} {
				_, body := getAvailability(t, f, path+q, enc)
				if !bytes.Equal(body, first[q+"|"+enc]) {
					t.Errorf("%q %q: a different answer the second time", q, enc)
				}
			}
		}
	}
	if m.encodes.Load() != encodes || m.compressions.Load() != compressions {
		t.Errorf("hits encoded %d and compressed %d times", m.encodes.Load()-encodes, m.compressions.Load()-compressions)
	}
	if got, want := m.hits.Load()-hits, int64(3*2*len(queries)); got != want {
		t.Errorf("%d memo hits, want %d", got, want)
	}

	start, end := f.slot()
	if _, err := f.bookings.Book(context.Background(), booking.Member{ID: "amina", Name: "Amina"},
		booking.Request{Room: "loire", Start: start, End: end, Title: "Nouvelle réunion"}); err != nil {
		t.Fatal(err)
	}
	_, body := getAvailability(t, f, path, "gzip")
	if !bytes.Contains(gunzip(t, body), []byte("Nouvelle réunion")) {
		t.Errorf("the answer after a booking does not show it: %s", gunzip(t, body))
	}
	if m.encodes.Load() != encodes+1 || m.compressions.Load() != compressions+1 {
		t.Errorf("after a change: %d encodes, %d compressions; want one of each", m.encodes.Load()-encodes, m.compressions.Load()-compressions)
	}
}

// TestOpenAPIAvailabilityFields keeps openapi.json's description of the
// fields parameter in step with the values the handler takes.
func TestOpenAPIAvailabilityFields(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `json:"name"`
				In     string `json:"in"`
				Schema struct {
					Items struct {
						Enum []string `json:"enum"`
					} `json:"items"`
					Default []string `json:"default"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatal(err)
	}
	var names, defaults []string
	for _, n := range availFieldNames {
		names = append(names, n.name)
		if defaultFields&n.bit != 0 {
			defaults = append(defaults, n.name)
		}
	}
	for _, p := range doc.Paths["/api/v1/availability"]["get"].Parameters {
		if p.Name != "fields" {
			continue
		}
		if p.In != "query" || strings.Join(p.Schema.Items.Enum, ",") != strings.Join(names, ",") ||
			strings.Join(p.Schema.Default, ",") != strings.Join(defaults, ",") {
			t.Errorf("openapi.json: fields in %s, values %v, default %v; the handler takes %v, default %v",
				p.In, p.Schema.Items.Enum, p.Schema.Default, names, defaults)
		}
		return
	}
	t.Error("openapi.json does not describe the availability's fields parameter")
}

// metricValues reads /metrics into sample → value.
func metricValues(t *testing.T, f *policyFixture) map[string]float64 {
	t.Helper()
	resp, body := f.call(t, asAnon, http.MethodGet, "/metrics", "", false)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsMemoAndSync: the memo counters and the sync timings in
// /metrics move with what the server does.
func TestMetricsMemoAndSync(t *testing.T) {
	f, path := availabilityFixture(t)
	ctx := context.Background()
	before := metricValues(t, f)
	for range 3 {
		getAvailability(t, f, path, "gzip")
	}
	getAvailability(t, f, path, "")
	if err := f.bookings.SyncRoom(ctx, "loire"); err != nil {
		t.Fatal(err)
	}
	if err := f.events.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// One pass of the sync loop over every room.
	loop, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.bookings.RunSync(loop)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for f.bookings.Stats().SyncPasses.Count == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	after := metricValues(t, f)

	tests := []struct {
		sample string
		atLeast,
		atMost float64
	}{
		// The first request makes the answer, the three others find it.
		{`roomcal_availability_memo_total{memo="answer",result="miss"}`, 1, 1},
		{`roomcal_availability_memo_total{memo="answer",result="hit"}`, 3, 3},
		{`roomcal_availability_memo_total{memo="answer",result="uncached"}`, 0, 0},
		// gzip: encoded and compressed once, then found twice; plain:
		// found too (the encoding the compression was made from).
		{`roomcal_availability_memo_total{memo="encoded",result="miss"}`, 1, 1},
		{`roomcal_availability_memo_total{memo="encoded",result="hit"}`, 3, 3},
		{`roomcal_availability_encodings_total{step="json"}`, 1, 1},
		{`roomcal_availability_encodings_total{step="gzip"}`, 1, 1},
		{`roomcal_sync_seconds_count{pass="room"}`, 2, 2}, // SyncRoom, then RunSync's pass
		{`roomcal_sync_seconds_bucket{pass="room",le="+Inf"}`, 2, 2},
		{`roomcal_sync_seconds_count{pass="rooms"}`, 1, 1},
		{`roomcal_sync_seconds_count{pass="events"}`, 1, 1},
	}
	for _, tt := range tests {
		b, okB := before[tt.sample]
		a, okA := after[tt.sample]
		if !okB || !okA {
			t.Errorf("%s missing from /metrics", tt.sample)
			continue
		}
		if d := a - b; d < tt.atLeast || d > tt.atMost {
			t.Errorf("%s moved by %v, want %v to %v", tt.sample, d, tt.atLeast, tt.atMost)
		}
	}
	if s := after[`roomcal_sync_seconds_sum{pass="room"}`] - before[`roomcal_sync_seconds_sum{pass="room"}`]; s <= 0 {
		t.Errorf("room sync time summed %v s", s)
	}
}

// siteWeek is a site-week answer as the load driver's sees it: ten
// rooms, 110 busy intervals each, with titles, and their free time.
func siteWeek() booking.Availability {
	day := time.Date(2031, 3, 3, 0, 0, 0, 0, time.UTC)
	var a booking.Availability
	for r := range 10 {
		ra := booking.RoomAvailability{Room: booking.Room{ID: fmt.Sprintf("r%02d", r)}}
		for i := range 110 {
			s := day.Add(time.Duration(i) * 90 * time.Minute)
			ra.Busy = append(ra.Busy, booking.Busy{Start: s, End: s.Add(time.Hour), Kind: booking.KindExternal, Title: fmt.Sprintf("Réunion %d", i)})
			ra.Free = append(ra.Free, booking.Interval{Start: s.Add(time.Hour), End: s.Add(90 * time.Minute)})
		}
		a.Rooms = append(a.Rooms, ra)
	}
	a.Key = "bench"
	return a
}

// BenchmarkAvailabilityEncode: a site-week answer encoded by reflection
// (the former way), by appendAvailability, and then compressed.
func BenchmarkAvailabilityEncode(b *testing.B) {
	a := siteWeek()
	b.Run("reflect", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			refEncode(b, a)
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			appendAvailability(make([]byte, 0, encodedSize(a, defaultFields)), a, defaultFields)
		}
	})
	b.Run("append+gzip", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			gzipped(appendAvailability(make([]byte, 0, encodedSize(a, defaultFields)), a, defaultFields))
		}
	})
	b.Run("fields=free", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			appendAvailability(make([]byte, 0, encodedSize(a, fieldFree)), a, fieldFree)
		}
	})
}

// BenchmarkAvailabilityMemoHit: the body of an answer already made.
func BenchmarkAvailabilityMemoHit(b *testing.B) {
	a := siteWeek()
	var m encodedMemo
	plain, zipped := len(m.answer(a, defaultFields, false)), len(m.answer(a, defaultFields, true))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.answer(a, defaultFields, true)
	}
	b.ReportMetric(float64(plain), "plain-bytes")
	b.ReportMetric(float64(zipped), "gzip-bytes")
}

// BenchmarkAvailabilityRequest: one site-week request answered from the
// memos, through the whole handler chain (identity, policy, the booking
// service reading the rooms' versions from the embedded engine), for a
// site of ten rooms on the embedded calendar store.
func BenchmarkAvailabilityRequest(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var rooms []booking.Room
	for i := range 10 {
		rooms = append(rooms, booking.Room{ID: fmt.Sprintf("r%02d", i), SiteID: "bench", Name: fmt.Sprint(i), Capacity: 4, Calendar: fmt.Sprintf("r%02d", i)})
	}
	cat, err := booking.NewCatalog([]booking.Site{{ID: "bench", Name: "Banc", Location: time.UTC}}, rooms)
	if err != nil {
		b.Fatal(err)
	}
	store, err := caldav.OpenFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	for _, r := range rooms {
		if err := store.CreateCalendar(ctx, r.Calendar, r.Name); err != nil {
			b.Fatal(err)
		}
	}
	cals := caldav.NewRoomCalendars(store, log)
	bs, err := booking.NewService(booking.Options{Catalog: cat, Calendar: cals, Gate: redisgate.New(gatetest.Embedded(b).Client()), Recurrence: cals, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	from := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 2)
	for i, r := range rooms {
		for d := range 5 {
			s := from.AddDate(0, 0, d).Add(time.Duration(8+i%4) * time.Hour)
			if _, err := bs.Book(ctx, booking.Member{ID: "amina", Name: "Amina"}, booking.Request{Room: r.ID, Start: s, End: s.Add(time.Hour), Title: "Réunion"}); err != nil {
				b.Fatal(err)
			}
		}
	}
	s := New(Options{Logger: log, Catalog: cat, Bookings: bs, AuthMode: AuthHeader, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	q := url.Values{"site": {"bench"}, "from": {from.Format(time.RFC3339)}, "to": {from.AddDate(0, 0, 7).Format(time.RFC3339)}}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/availability?"+q.Encode(), nil)
	req.Header.Set(HeaderUser, "amina")
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
