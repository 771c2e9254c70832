package main

// The event promises of DESIGN.md (no overbooking, the waiting list
// served in order, acknowledged means durable), each checked end to end
// through the HTTP API against a real Radicale and a real Redis.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/testenv"
)

// person is who a request comes from.
type person struct {
	id, name, email, groups string
}

func memberNo(i int) person {
	return person{id: fmt.Sprintf("membre-%03d", i), name: fmt.Sprintf("Membre %03d", i), groups: "salaries"}
}

var organiser = person{id: "orga", name: "Odile Organisatrice", email: "odile@example.org", groups: "organisers"}

// as sends a request from p (identity headers, believed from loopback in
// dev mode) and reads the answer.
func (in *instance) as(t testing.TB, p person, method, path string, body any, accept string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, in.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(api.HeaderUser, p.id)
	if p.name != "" {
		req.Header.Set(api.HeaderName, p.name)
	}
	if p.email != "" {
		req.Header.Set(api.HeaderEmail, p.email)
	}
	req.Header.Set(api.HeaderGroups, p.groups)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return answer{}
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, out}
}

type eventAnswer struct {
	ID             string `json:"id"`
	Capacity       int    `json:"capacity"`
	Status         string `json:"status"`
	ConfirmedCount int    `json:"confirmed_count"`
	WaitlistCount  int    `json:"waitlist_count"`
	MyRegistration *struct {
		Status   string `json:"status"`
		Position int    `json:"position"`
	} `json:"my_registration"`
}

type regAnswer struct {
	Member   string `json:"member"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	Position int    `json:"position"`
}

func decode[T any](t testing.TB, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("decode %d %s: %v", a.status, a.body, err)
	}
	return v
}

// createEvent makes an event days ahead and returns its id.
func (in *instance) createEvent(t *testing.T, fields map[string]any) string {
	t.Helper()
	start, end := slot(20, 18)
	body := map[string]any{
		"title": "Assemblée générale", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339),
		"location": "Hangar, quai des Antilles", "capacity": 50, "waitlist": true,
	}
	for k, v := range fields {
		body[k] = v
	}
	a := in.as(t, organiser, "POST", "/api/v1/events", body, "")
	if a.status != 201 {
		t.Fatalf("create event: %d %s", a.status, a.body)
	}
	return decode[eventAnswer](t, a).ID
}

// registerAll registers members from..to-1 at once, spread over the
// instances.
func registerAll(t *testing.T, ins []*instance, id string, from, to int) map[string]answer {
	t.Helper()
	out := make([]answer, to-from)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := from; i < to; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			out[i-from] = ins[i%len(ins)].as(t, memberNo(i), "POST", "/api/v1/events/"+id+"/registrations", nil, "")
		}()
	}
	close(gate)
	wg.Wait()
	m := make(map[string]answer, len(out))
	for i, a := range out {
		m[memberNo(from+i).id] = a
	}
	return m
}

// assertCapHeld checks the answers to a burst of first registrations for
// seats seats: every one 201, exactly seats confirmed, and the others
// waitlisted at positions 1, 2, … each given once.
func assertCapHeld(t *testing.T, answers map[string]answer, seats int) {
	t.Helper()
	confirmed, positions := 0, map[int]int{}
	for who, a := range answers {
		if a.status != 201 {
			t.Fatalf("%s: %d %s", who, a.status, a.body)
		}
		switch r := decode[regAnswer](t, a); r.Status {
		case "confirmed":
			confirmed++
		case "waitlisted":
			positions[r.Position]++
		default:
			t.Fatalf("%s: status %q", who, r.Status)
		}
	}
	waiting := len(answers) - seats
	if confirmed != seats || len(positions) != waiting {
		t.Fatalf("%d registrations for %d seats: %d confirmed, %d distinct waiting positions; want %d and %d",
			len(answers), seats, confirmed, len(positions), seats, waiting)
	}
	for p := 1; p <= waiting; p++ {
		if positions[p] != 1 {
			t.Fatalf("waiting position %d given %d times", p, positions[p])
		}
	}
}

// assertToldAsListed checks that each member was answered the status and
// position the attendee list now gives them.
func assertToldAsListed(t *testing.T, answers map[string]answer, regs []regAnswer) {
	t.Helper()
	for _, r := range regs {
		got := decode[regAnswer](t, answers[r.Member])
		if got.Status != r.Status || got.Position != r.Position {
			t.Fatalf("%s was told %s/%d, the list says %s/%d", r.Member, got.Status, got.Position, r.Status, r.Position)
		}
	}
}

// attendees lists the registrations as the organiser sees them.
func (in *instance) attendees(t *testing.T, id string) []regAnswer {
	t.Helper()
	a := in.as(t, organiser, "GET", "/api/v1/events/"+id+"/registrations", nil, "")
	if a.status != 200 {
		t.Fatalf("attendee list: %d %s", a.status, a.body)
	}
	return decode[[]regAnswer](t, a)
}

// onServer reads the event straight from Radicale.
func onServer(t *testing.T, b *backend, id string) events.Record {
	t.Helper()
	rec, err := caldav.NewEventCalendar(b.store, eventsCalendar, nil, nil).Read(context.Background(), id)
	if err != nil {
		t.Fatalf("read event %s from the server: %v", id, err)
	}
	return rec
}

// assertServerAgrees checks that the object on Radicale lists exactly the
// registrations the API gives, with the same statuses, and the waiting
// list in the same order.
func assertServerAgrees(t *testing.T, b *backend, id string, regs []regAnswer) {
	t.Helper()
	rec := onServer(t, b, id)
	type entry struct{ member, status string }
	var api, server []entry
	for _, r := range regs {
		api = append(api, entry{r.Member, r.Status})
	}
	// The object's order: confirmed by arrival, then the waiting list by
	// arrival, like the API's.
	sorted := append([]events.Registration(nil), rec.Registrations...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Status != sorted[j].Status {
			return sorted[i].Status == events.Confirmed
		}
		return sorted[i].Seq < sorted[j].Seq
	})
	for _, r := range sorted {
		server = append(server, entry{r.Member, string(r.Status)})
	}
	if !reflect.DeepEqual(api, server) {
		t.Fatalf("the object on Radicale disagrees with the API:\n api    %d %v\n server %d %v", len(api), head(api), len(server), head(server))
	}
}

func head[T any](s []T) []T {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func counts(regs []regAnswer) (confirmed, waitlisted int) {
	for _, r := range regs {
		if r.Status == "confirmed" {
			confirmed++
		} else {
			waitlisted++
		}
	}
	return confirmed, waitlisted
}

// assertPositions checks that the waiting list is numbered 1..n in order.
func assertPositions(t *testing.T, regs []regAnswer) {
	t.Helper()
	pos := 0
	for _, r := range regs {
		if r.Status != "waitlisted" {
			if pos > 0 {
				t.Fatalf("a confirmed registration after the waiting list began: %+v", r)
			}
			continue
		}
		pos++
		if r.Position != pos {
			t.Fatalf("waiting list position %d where %d was expected: %+v", r.Position, pos, r)
		}
	}
}

// TestPromiseEventCapHeld: 500 members register at once for 50 seats
// through two instances; then 20 confirmed leave at once; then the cap is
// raised and lowered; then Redis is flushed. At each step the answers,
// the attendee list and the object on Radicale agree, and the cap holds.
func TestPromiseEventCapHeld(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	ins := []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}
	id := ins[0].createEvent(t, map[string]any{"capacity": 50, "waitlist": true})

	answers := registerAll(t, ins, id, 0, 500)
	assertCapHeld(t, answers, 50)
	// Grouped: far fewer writes than registrations.
	if w := ins[0].ev.Stats().Writes + ins[1].ev.Stats().Writes; w >= 250 {
		t.Fatalf("500 registrations took %d writes of the event", w)
	} else {
		t.Logf("500 registrations written in %d PUTs", w)
	}
	regs := ins[1].attendees(t, id)
	if c, w := counts(regs); c != 50 || w != 450 {
		t.Fatalf("attendee list: %d confirmed, %d waiting", c, w)
	}
	assertPositions(t, regs)
	assertToldAsListed(t, answers, regs)
	assertServerAgrees(t, b, id, regs)

	// Again: the same answer, 200.
	if a := ins[0].as(t, memberNo(7), "POST", "/api/v1/events/"+id+"/registrations", nil, ""); a.status != 200 ||
		decode[regAnswer](t, a) != decode[regAnswer](t, answers[memberNo(7).id]) {
		t.Fatalf("registering again: %d %s, first answer %s", a.status, a.body, answers[memberNo(7).id].body)
	}

	t.Run("20 confirmed leave at once", func(t *testing.T) {
		var leaving []string
		for _, r := range regs[:20] {
			leaving = append(leaving, r.Member)
		}
		head := regs[50:70] // the first 20 of the waiting list
		var wg sync.WaitGroup
		for i, m := range leaving {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if a := ins[i%2].as(t, person{id: m, groups: "salaries"}, "DELETE", "/api/v1/events/"+id+"/registrations/me", nil, ""); a.status != 204 {
					t.Errorf("unregister %s: %d %s", m, a.status, a.body)
				}
			}()
		}
		wg.Wait()
		after := ins[0].attendees(t, id)
		if c, w := counts(after); c != 50 || w != 430 {
			t.Fatalf("after 20 left: %d confirmed, %d waiting; want 50 and 430", c, w)
		}
		// Confirmed by arrival: the 30 who stayed, then the 20 promoted,
		// in their waiting-list order.
		for i, r := range head {
			if got := after[30+i]; got.Member != r.Member || got.Status != "confirmed" {
				t.Fatalf("promoted #%d: %+v, want %s confirmed", i+1, got, r.Member)
			}
		}
		if after[50].Member != regs[70].Member || after[50].Position != 1 {
			t.Fatalf("head of the waiting list after promotions: %+v, want %s at 1", after[50], regs[70].Member)
		}
		assertPositions(t, after)
		assertServerAgrees(t, b, id, after)
		regs = after
	})

	t.Run("cap raised by 10 then lowered by 30", func(t *testing.T) {
		if a := ins[1].as(t, organiser, "PATCH", "/api/v1/events/"+id, map[string]any{"capacity": 60}, ""); a.status != 200 {
			t.Fatalf("raise the cap: %d %s", a.status, a.body)
		} else if ev := decode[eventAnswer](t, a); ev.ConfirmedCount != 60 || ev.WaitlistCount != 420 {
			t.Fatalf("after raising to 60: %+v", ev)
		}
		raised := ins[0].attendees(t, id)
		for i := 0; i < 10; i++ {
			if raised[50+i].Member != regs[50+i].Member || raised[50+i].Status != "confirmed" {
				t.Fatalf("raising the cap did not promote the head in order: %+v", raised[50+i])
			}
		}
		assertServerAgrees(t, b, id, raised)

		if a := ins[0].as(t, organiser, "PATCH", "/api/v1/events/"+id, map[string]any{"capacity": 30}, ""); a.status != 200 {
			t.Fatalf("lower the cap: %d %s", a.status, a.body)
		}
		lowered := ins[1].attendees(t, id)
		if !reflect.DeepEqual(lowered, raised) {
			t.Fatalf("lowering the cap changed the registrations")
		}
		// A newcomer waits; a confirmed member leaving frees no seat
		// while 59 remain for 30.
		a := ins[0].as(t, memberNo(900), "POST", "/api/v1/events/"+id+"/registrations", nil, "")
		if r := decode[regAnswer](t, a); a.status != 201 || r.Status != "waitlisted" || r.Position != 421 {
			t.Fatalf("newcomer over a lowered cap: %d %s", a.status, a.body)
		}
		if a := ins[1].as(t, person{id: raised[0].Member, groups: "salaries"}, "DELETE", "/api/v1/events/"+id+"/registrations/me", nil, ""); a.status != 204 {
			t.Fatalf("unregister: %d %s", a.status, a.body)
		}
		ev := decode[eventAnswer](t, ins[0].as(t, memberNo(900), "GET", "/api/v1/events/"+id, nil, ""))
		if ev.Capacity != 30 || ev.ConfirmedCount != 59 || ev.WaitlistCount != 421 || ev.MyRegistration == nil || ev.MyRegistration.Position != 421 {
			t.Fatalf("after lowering to 30 and one leaving: %+v", ev)
		}
		regs = ins[0].attendees(t, id)
		assertServerAgrees(t, b, id, regs)
		if rec := onServer(t, b, id); rec.Event.Settings.Capacity != 30 {
			t.Fatalf("capacity on the server: %d", rec.Event.Settings.Capacity)
		}
	})

	t.Run("FLUSHALL then read back", func(t *testing.T) {
		before := ins[0].as(t, memberNo(120), "GET", "/api/v1/events/"+id, nil, "")
		redis.FlushAll(t)
		after := ins[1].as(t, memberNo(120), "GET", "/api/v1/events/"+id, nil, "")
		if after.status != 200 || !bytes.Equal(before.body, after.body) {
			t.Fatalf("event after FLUSHALL:\n before %s\n after  %d %s", before.body, after.status, after.body)
		}
		if got := ins[1].attendees(t, id); !reflect.DeepEqual(got, regs) {
			t.Fatalf("attendee list after FLUSHALL differs (%d vs %d)", len(got), len(regs))
		}
		list := ins[0].as(t, memberNo(1), "GET", "/api/v1/events", nil, "")
		if evs := decode[[]eventAnswer](t, list); len(evs) != 1 || evs[0].ID != id || evs[0].ConfirmedCount != 59 {
			t.Fatalf("event list after FLUSHALL: %s", list.body)
		}
	})
}

// TestPromiseEventServerDown stops Radicale in the middle of a burst:
// failures are 503 unavailable, everyone acknowledged is on the server
// after the restart, and the counts agree.
func TestPromiseEventServerDown(t *testing.T) {
	rad := testenv.StartRadicale(t)
	b := newBackend(t, rad.Home(), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{})
	id := in.createEvent(t, map[string]any{"capacity": 100, "waitlist": true})

	// A stream of registrations over ~1.5 s; Radicale is stopped once 20
	// have been acknowledged, whatever the machine's speed.
	answers := make([]answer, 300)
	var ok atomic.Int32
	stopped := make(chan struct{})
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 5 * time.Millisecond)
			answers[i] = in.as(t, memberNo(i), "POST", "/api/v1/events/"+id+"/registrations", nil, "")
			if answers[i].status == 201 && ok.Add(1) == 20 {
				rad.Stop()
				close(stopped)
			}
		}()
	}
	wg.Wait()
	select {
	case <-stopped:
	default:
		t.Fatalf("fewer than 20 registrations acknowledged before the stop")
	}
	acked := map[string]bool{}
	n := map[int]int{}
	for i, a := range answers {
		n[a.status]++
		switch a.status {
		case 201:
			acked[memberNo(i).id] = true
		case 503:
			if p := decode[api.Problem](t, a); p.Code != api.CodeUnavailable {
				t.Fatalf("503 with code %q", p.Code)
			}
		default:
			t.Fatalf("answer %d: %s", a.status, a.body)
		}
	}
	if n[201] == 0 || n[503] == 0 {
		t.Fatalf("the stop did not fall in the middle of the burst: %v", n)
	}
	if st := in.ev.Stats(); st.Rollbacks == 0 && st.Unknown == 0 {
		t.Fatalf("503s without a rollback of the pending registrations or a write whose outcome is unknown")
	}
	rad.Start()
	// One more registration: it writes whatever the gate holds.
	if a := in.as(t, memberNo(999), "POST", "/api/v1/events/"+id+"/registrations", nil, ""); a.status != 201 {
		t.Fatalf("after the restart: %d %s", a.status, a.body)
	}
	rec := onServer(t, b, id)
	onSrv := map[string]bool{}
	for _, r := range rec.Registrations {
		onSrv[r.Member] = true
	}
	for m := range acked {
		if !onSrv[m] {
			t.Fatalf("%s was acknowledged but is not on the server", m)
		}
	}
	regs := in.attendees(t, id)
	assertServerAgrees(t, b, id, regs)
	if c, _ := counts(regs); c > 100 {
		t.Fatalf("%d confirmed for 100 seats", c)
	}
	t.Logf("burst with the server stopped: %v; %d on the server after restart", n, len(rec.Registrations))
}

// TestEventInTakenRoom: an event in a room whose slot is taken gets 409
// and no event is created; one in a free slot books the room, and
// cancelling it frees the room.
func TestEventInTakenRoom(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{})
	start, end := slot(20, 18)
	if a := in.book(t, "amina", "loire", start, end); a.status != 201 {
		t.Fatalf("booking: %d %s", a.status, a.body)
	}
	a := in.as(t, organiser, "POST", "/api/v1/events", map[string]any{
		"title": "Atelier", "start": start.Add(30 * time.Minute).Format(time.RFC3339), "end": end.Add(time.Hour).Format(time.RFC3339),
		"room": "loire", "capacity": 10,
	}, "")
	if p := decode[api.Problem](t, a); a.status != 409 || p.Code != api.CodeConflict || len(p.Conflicts) == 0 {
		t.Fatalf("event over a taken slot: %d %s", a.status, a.body)
	}
	ch, err := caldav.NewEventCalendar(b.store, eventsCalendar, nil, nil).Changes(context.Background(), "")
	if err != nil || len(ch.Changed) != 0 {
		t.Fatalf("events calendar after a refused event: %+v %v", ch.Changed, err)
	}

	s2, e2 := slot(21, 18)
	id := in.createEvent(t, map[string]any{"room": "loire", "start": s2.Format(time.RFC3339), "end": e2.Format(time.RFC3339)})
	busy := bookingsOnServer(t, b, "loire", s2, e2)
	if len(busy) != 1 || busy[0].Kind != "event" {
		t.Fatalf("the event's room booking on the server: %+v", busy)
	}
	if a := in.book(t, "amina", "loire", s2, e2); a.status != 409 {
		t.Fatalf("booking over an event: %d %s", a.status, a.body)
	}
	if a := in.as(t, organiser, "DELETE", "/api/v1/events/"+id, nil, ""); a.status != 204 {
		t.Fatalf("cancel: %d %s", a.status, a.body)
	}
	if got := bookingsOnServer(t, b, "loire", s2, e2); len(got) != 0 {
		t.Fatalf("room still held after the event was cancelled: %+v", got)
	}
	if rec := onServer(t, b, id); !rec.Event.Settings.Cancelled {
		t.Fatalf("cancelled event not STATUS:CANCELLED on the server")
	}
	if a := in.as(t, memberNo(1), "POST", "/api/v1/events/"+id+"/registrations", nil, ""); a.status != 422 || decode[api.Problem](t, a).Code != api.CodeRegistrationClosed {
		t.Fatalf("registering for a cancelled event: %d %s", a.status, a.body)
	}
}

// TestEventDeletedOutside: an event in a room deleted straight from the
// events calendar on Radicale (as from Nextcloud) frees its room within
// the sync interval: its booking leaves the room's calendar, the slot can
// be booked, and the event is no longer found.
func TestEventDeletedOutside(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{syncInterval: 200 * time.Millisecond})
	start, end := slot(22, 18)
	id := in.createEvent(t, map[string]any{"room": "loire", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339)})
	if busy := bookingsOnServer(t, b, "loire", start, end); len(busy) != 1 || busy[0].Kind != "event" {
		t.Fatalf("the event's room booking on the server: %+v", busy)
	}
	time.Sleep(500 * time.Millisecond) // a sync pass or two has seen the event

	if err := b.store.Delete(context.Background(), eventsCalendar, caldav.ObjectName(id), ""); err != nil {
		t.Fatalf("outside delete: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(bookingsOnServer(t, b, "loire", start, end)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the room of the deleted event is still held after 10 s: %+v", bookingsOnServer(t, b, "loire", start, end))
		}
		time.Sleep(100 * time.Millisecond)
	}
	a := in.book(t, "amina", "loire", start, end)
	if a.status != 201 {
		t.Fatalf("booking the freed slot: %d %s", a.status, a.body)
	}
	if a := in.as(t, memberNo(1), "GET", "/api/v1/events/"+id, nil, ""); a.status != 404 {
		t.Fatalf("the deleted event: %d %s", a.status, a.body)
	}
	// Releasing, which no member asks for, touches only events' room
	// bookings: a member's own booking stays.
	mine := decode[struct{ ID string }](t, a).ID
	if err := in.svc.ReleaseForEvent(context.Background(), mine); !errors.Is(err, booking.ErrNotFound) {
		t.Fatalf("releasing a member's booking: %v, want not found", err)
	}
	if busy := bookingsOnServer(t, b, "loire", start, end); len(busy) != 1 || busy[0].Ref != mine {
		t.Fatalf("the member's booking after a refused release: %+v", busy)
	}
}

// TestEventRules: full without a waiting list, a window not open yet,
// who sees the attendee list, and the CSV export.
func TestEventRules(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{})

	small := in.createEvent(t, map[string]any{"capacity": 2, "waitlist": false})
	for i := 0; i < 2; i++ {
		if a := in.as(t, memberNo(i), "POST", "/api/v1/events/"+small+"/registrations", nil, ""); a.status != 201 {
			t.Fatalf("register: %d %s", a.status, a.body)
		}
	}
	if a := in.as(t, memberNo(2), "POST", "/api/v1/events/"+small+"/registrations", nil, ""); a.status != 409 || decode[api.Problem](t, a).Code != api.CodeFull {
		t.Fatalf("third of two seats: %d %s", a.status, a.body)
	}

	opens := time.Now().Add(24 * time.Hour).Format(time.RFC3339)
	later := in.createEvent(t, map[string]any{"registration_opens_at": opens})
	if a := in.as(t, memberNo(1), "POST", "/api/v1/events/"+later+"/registrations", nil, ""); a.status != 422 || decode[api.Problem](t, a).Code != api.CodeRegistrationClosed {
		t.Fatalf("before the window: %d %s", a.status, a.body)
	}

	if a := in.as(t, memberNo(1), "POST", "/api/v1/events", map[string]any{"title": "x", "start": opens, "end": opens, "capacity": 1}, ""); a.status != 403 {
		t.Fatalf("a member creating an event: %d %s", a.status, a.body)
	}
	if a := in.as(t, memberNo(1), "GET", "/api/v1/events/"+small+"/registrations", nil, ""); a.status != 403 {
		t.Fatalf("a member reading the attendee list: %d %s", a.status, a.body)
	}
	other := person{id: "autre-orga", groups: "organisers"}
	if a := in.as(t, other, "GET", "/api/v1/events/"+small+"/registrations", nil, ""); a.status != 403 {
		t.Fatalf("another organiser reading the attendee list: %d %s", a.status, a.body)
	}
	if a := in.as(t, other, "PATCH", "/api/v1/events/"+small, map[string]any{"capacity": 10}, ""); a.status != 403 {
		t.Fatalf("another organiser changing the cap: %d %s", a.status, a.body)
	}

	names := []person{
		{id: "jn", name: "Dupont, Jean-Noël", email: "jn@example.org", groups: "salaries"},
		{id: "zoe", name: `Zoë "la" Grande; Saint-Nazaire`, email: "zoe@example.org", groups: "salaries"},
	}
	csvEvent := in.createEvent(t, map[string]any{"capacity": 1, "waitlist": true})
	for _, p := range names {
		if a := in.as(t, p, "POST", "/api/v1/events/"+csvEvent+"/registrations", nil, ""); a.status != 201 {
			t.Fatalf("register %s: %d %s", p.name, a.status, a.body)
		}
	}
	a := in.as(t, organiser, "GET", "/api/v1/events/"+csvEvent+"/registrations", nil, "text/csv")
	if a.status != 200 {
		t.Fatalf("csv: %d %s", a.status, a.body)
	}
	body := strings.TrimPrefix(string(a.body), "\ufeff")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v\n%s", err, a.body)
	}
	want := [][]string{
		{"nom", "email", "statut", "position", "inscrit_le"},
		{names[0].name, names[0].email, "confirmed", ""},
		{names[1].name, names[1].email, "waitlisted", "1"},
	}
	if len(rows) != 3 {
		t.Fatalf("csv rows: %q", rows)
	}
	for i, w := range want {
		if !reflect.DeepEqual(rows[i][:len(w)], w) {
			t.Fatalf("csv row %d: %q, want %q", i, rows[i], w)
		}
	}
}

// TestEventOutsideEdits: an attendee added straight in the calendar (as
// Nextcloud does) and one removed there are picked up by the sync loop:
// the added one is counted, the removed one's seat goes to the head of
// the waiting list, and the object is written back to agree.
func TestEventOutsideEdits(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{syncInterval: 200 * time.Millisecond})
	id := in.createEvent(t, map[string]any{"capacity": 3, "waitlist": true})
	for i := 0; i < 5; i++ {
		if a := in.as(t, memberNo(i), "POST", "/api/v1/events/"+id+"/registrations", nil, ""); a.status != 201 {
			t.Fatalf("register: %d %s", a.status, a.body)
		}
	}

	ctx := context.Background()
	obj, err := b.store.Get(ctx, eventsCalendar, caldav.ObjectName(id))
	if err != nil {
		t.Fatal(err)
	}
	cal, err := ical.NewDecoder(bytes.NewReader(obj.Data)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		var kept []ical.Prop
		for _, p := range c.Props[ical.PropAttendee] {
			if p.Params.Get("X-ROOMCAL-MEMBER") != memberNo(0).id {
				kept = append(kept, p)
			}
		}
		marie := ical.NewProp(ical.PropAttendee)
		marie.Value = "mailto:marie@example.org"
		marie.Params.Set("CN", "Marie Curie")
		marie.Params.Set("PARTSTAT", "NEEDS-ACTION")
		marie.Params.Set("RSVP", "TRUE")
		c.Props[ical.PropAttendee] = append(kept, *marie)
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.Update(ctx, eventsCalendar, obj.Name, buf.Bytes(), obj.ETag); err != nil {
		t.Fatalf("outside edit: %v", err)
	}

	var regs []regAnswer
	deadline := time.Now().Add(10 * time.Second)
	for {
		regs = in.attendees(t, id)
		if len(regs) == 5 && regs[0].Member != memberNo(0).id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outside edit not picked up within 10 s: %+v", regs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := []regAnswer{
		{Member: memberNo(1).id, Status: "confirmed"},
		{Member: memberNo(2).id, Status: "confirmed"},
		{Member: memberNo(3).id, Status: "confirmed"},
		{Member: memberNo(4).id, Status: "waitlisted", Position: 1},
		{Member: "mailto:marie@example.org", Status: "waitlisted", Position: 2},
	}
	for i, w := range want {
		if regs[i].Member != w.Member || regs[i].Status != w.Status || regs[i].Position != w.Position {
			t.Fatalf("after the outside edit #%d: %+v, want %+v", i, regs[i], w)
		}
	}
	if regs[4].Name != "Marie Curie" {
		t.Fatalf("outside attendee's name: %q", regs[4].Name)
	}
	// The promotion is written back.
	deadline = time.Now().Add(10 * time.Second)
	for {
		rec := onServer(t, b, id)
		promoted := false
		for _, r := range rec.Registrations {
			promoted = promoted || (r.Member == memberNo(3).id && r.Status == events.Confirmed)
		}
		if promoted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the promotion after the outside removal is not on the server")
		}
		time.Sleep(100 * time.Millisecond)
	}
	assertServerAgrees(t, b, id, regs)
}

// TestEventInRestrictedRoom: an organiser who may book a room kept for
// some groups holds an event there and moves it; the room booking follows
// the event. (The room's rules are checked for the organiser as they
// are, groups included.)
func TestEventInRestrictedRoom(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{})
	orga := person{id: "orga-salariee", name: "Sam", groups: "organisers,salaries"}
	day := time.Now().In(paris).AddDate(0, 0, 10)
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	start := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, paris)
	a := in.as(t, orga, "POST", "/api/v1/events", map[string]any{
		"title": "Formation", "start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339),
		"room": "sevre", "capacity": 8,
	}, "")
	if a.status != 201 {
		t.Fatalf("event in a room kept for salaries, by an organiser who is one: %d %s", a.status, a.body)
	}
	id := decode[eventAnswer](t, a).ID
	later := start.Add(3 * time.Hour)
	if a := in.as(t, orga, "PATCH", "/api/v1/events/"+id, map[string]any{
		"start": later.Format(time.RFC3339), "end": later.Add(2 * time.Hour).Format(time.RFC3339),
	}, ""); a.status != 200 {
		t.Fatalf("moving it: %d %s", a.status, a.body)
	}
	busy := bookingsOnServer(t, b, "sevre", start, later.Add(2*time.Hour))
	if len(busy) != 1 || !busy[0].Start.Equal(later) || busy[0].Kind != "event" {
		t.Fatalf("the room booking did not follow the event: %+v", busy)
	}
	// Someone outside the group may not hold an event there.
	if a := in.as(t, organiser, "POST", "/api/v1/events", map[string]any{
		"title": "Autre", "start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339),
		"room": "sevre", "capacity": 8,
	}, ""); a.status != 422 || decode[api.Problem](t, a).Rule != "allowed_groups" {
		t.Fatalf("an organiser outside the room's groups: %d %s", a.status, a.body)
	}
}
