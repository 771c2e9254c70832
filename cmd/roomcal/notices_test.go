package main

// Notices end to end (issue 14): the API, a real Radicale, a real Redis,
// the notices worker as serve wires it, and a real SMTP server (Debian's
// aiosmtpd, keeping every message in a maildir). Invitations are read
// with python3-icalendar, a parser roomcal does not use.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/mail"
	"github.com/roomcal/roomcal/internal/notices"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// noticeOpts run a notices worker in an instance, with short waits.
type noticeOpts struct {
	smtpURL                string
	window, sweep, backoff time.Duration
	cap                    int
	digestAt               func(time.Time) time.Time
	remindAt               func(time.Time) time.Time
	retention, pruneEvery  time.Duration
	links                  *api.NoticeLinks
}

func (o *noticeOpts) start(t *testing.T, store caldav.Store, rc redis.UniversalClient, gopts []redisgate.Option,
	evs *events.Service, svc *booking.Service, cat *booking.Catalog, outbox notices.Outbox, log *slog.Logger) (*notices.Worker, func()) {
	t.Helper()
	u, err := url.Parse(o.smtpURL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	sender, err := mail.New(config.SMTP{Host: u.Hostname(), Port: port}, "Salles <salles@example.coop>")
	if err != nil {
		t.Fatal(err)
	}
	if o.links == nil {
		o.links = api.NewNoticeLinks("https://salles.example.coop", []byte("notice test key"))
	}
	w, err := newNoticeWorker(noticeSetup{
		mailer: sender, outbox: outbox, bookings: svc, upcoming: svc, eventList: evs, claims: redisgate.NewNoticeClaims(rc, gopts...), events: evs,
		prefs: caldav.NewMemberPreferences(store, tokensCalendar), cat: cat, links: o.links,
		publicURL: "https://salles.example.coop", from: "Salles <salles@example.coop>", dailyCap: o.cap, log: log,
		window: o.window, sweep: o.sweep, backoff: o.backoff, digestAt: o.digestAt, remindAt: o.remindAt,
		retention: o.retention, pruneEvery: o.pruneEvery,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stopped := false
	return w, func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
}

// noticeBackend is a fresh Radicale home with the preferences calendar,
// and a Redis of the test's own (it may be flushed).
func noticeBackend(t *testing.T) (*backend, *testenv.Server) {
	t.Helper()
	r := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), r.URL())
	if err := b.store.CreateCalendar(context.Background(), tokensCalendar, "Jetons"); err != nil {
		t.Fatal(err)
	}
	return b, r
}

// fastNotices are the waits of most tests: a 1 s window, sweeps every
// second.
func fastNotices(smtpURL string) *noticeOpts {
	return &noticeOpts{smtpURL: smtpURL, window: time.Second, sweep: time.Second, backoff: 300 * time.Millisecond}
}

// mailed is a member with an address of their own, unique to the test.
func mailed(i int) person {
	p := memberNo(i)
	p.email = p.id + "-" + testenv.RandomID() + "@example.coop"
	return p
}

// invitation is an iMIP part as python3-icalendar reads it.
type invitation struct {
	Method, UID, Status, Attendee, PartStat, Organizer, Summary, Location string
	Sequence                                                              int
	Start                                                                 string // ISO 8601 with offset
	TZIDsHaveVTimezone                                                    bool
	ContentMethod                                                         string // method= of the MIME part
	// RRule is the RRULE as written ("" for none); ExDates the EXDATEs
	// (ISO 8601 with offset).
	RRule   string
	ExDates []string
}

// readNotice decodes a message: its subject and its text/calendar part,
// read by python3-icalendar.
func readNotice(t *testing.T, m testenv.Mail) (subject string, inv invitation) {
	t.Helper()
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %q", m.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	var ics []byte
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if ct == "text/calendar" {
			inv.ContentMethod = cp["method"]
			ics, _ = io.ReadAll(p) // multipart decodes quoted-printable
		}
	}
	if ics == nil {
		t.Fatalf("no text/calendar part in %q", subject)
	}
	const script = `
import sys, json, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
tzs = {str(c['TZID']) for c in cal.walk('VTIMEZONE')}
evs = cal.walk('VEVENT')
assert len(evs) == 1, len(evs)
ev = evs[0]
used = {str(ev[p].params['TZID']) for p in ('DTSTART', 'DTEND') if p in ev and 'TZID' in ev[p].params}
att = ev['ATTENDEE']
print(json.dumps({'Method': str(cal['METHOD']), 'UID': str(ev['UID']), 'Status': str(ev.get('STATUS', '')),
  'Attendee': str(att), 'PartStat': str(att.params.get('PARTSTAT', '')), 'Organizer': str(ev['ORGANIZER']),
  'Summary': str(ev['SUMMARY']), 'Location': str(ev.get('LOCATION', '')), 'Sequence': int(ev.get('SEQUENCE', 0)),
  'Start': ev.decoded('DTSTART').isoformat(), 'TZIDsHaveVTimezone': used <= tzs and len(used) > 0,
  'RRule': ev['RRULE'].to_ical().decode() if 'RRULE' in ev else '',
  'ExDates': [d.dt.isoformat() for x in (ev.get('EXDATE') if isinstance(ev.get('EXDATE'), list) else [ev['EXDATE']] if 'EXDATE' in ev else []) for d in x.dts]}))
`
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Stdin = strings.NewReader(string(ics))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3-icalendar cannot read the invitation: %v\n%s\n%s", err, out, ics)
	}
	if err := json.Unmarshal(out, &inv); err != nil {
		t.Fatalf("python says %s", out)
	}
	return subject, inv
}

// quiet checks that no more than want messages reach to within d.
func quiet(t *testing.T, dir, to string, want int, d time.Duration) []testenv.Mail {
	t.Helper()
	time.Sleep(d)
	ms := testenv.ReadMaildir(t, dir, to)
	if len(ms) != want {
		var subjects []string
		for _, m := range ms {
			s, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			subjects = append(subjects, s)
		}
		t.Errorf("%s got %d messages, want %d: %q", to, len(ms), want, subjects)
	}
	return ms
}

func (in *instance) register(t *testing.T, p person, id string) regAnswer {
	t.Helper()
	a := in.as(t, p, "POST", "/api/v1/events/"+id+"/registrations", nil, "")
	if a.status != 201 && a.status != 200 {
		t.Fatalf("register %s: %d %s", p.id, a.status, a.body)
	}
	return decode[regAnswer](t, a)
}

func (in *instance) leave(t *testing.T, p person, id string) time.Duration {
	t.Helper()
	start := time.Now()
	a := in.as(t, p, "DELETE", "/api/v1/events/"+id+"/registrations/me", nil, "")
	if a.status != 204 {
		t.Fatalf("unregister %s: %d %s", p.id, a.status, a.body)
	}
	return time.Since(start)
}

// fullEvent makes a 3-seat event with a waiting list and registers four
// members: the 4th waits.
func fullEvent(t *testing.T, in *instance) (string, []person) {
	t.Helper()
	id := in.createEvent(t, map[string]any{"capacity": 3, "waitlist": true})
	ps := []person{mailed(1), mailed(2), mailed(3), mailed(4)}
	for i, p := range ps {
		r := in.register(t, p, id)
		if want := map[bool]string{true: "waitlisted", false: "confirmed"}[i == 3]; r.Status != want {
			t.Fatalf("%s is %s, want %s", p.id, r.Status, want)
		}
	}
	return id, ps
}

// checkPromotion: the head of the list got one message saying a seat is
// hers, with a REQUEST invitation of the event; nobody else got any.
func checkPromotion(t *testing.T, dir, id string, ps []person) {
	t.Helper()
	ms := testenv.AwaitMail(t, dir, ps[3].email, 1, 20*time.Second)
	ms = quiet(t, dir, ps[3].email, 1, 3*time.Second)
	if len(ms) == 0 {
		return
	}
	subject, inv := readNotice(t, ms[0])
	if !strings.HasPrefix(subject, "Une place s'est libérée : Assemblée générale, ") {
		t.Errorf("subject %q", subject)
	}
	if inv.Method != "REQUEST" || inv.ContentMethod != "REQUEST" || inv.UID != id || inv.Status != "CONFIRMED" ||
		!strings.EqualFold(inv.Attendee, "mailto:"+ps[3].email) || inv.PartStat != "ACCEPTED" ||
		inv.Organizer != "mailto:"+organiser.email || inv.Sequence < 1 || !inv.TZIDsHaveVTimezone {
		t.Errorf("invitation %+v", inv)
	}
	if h := ms[0].Header; h.Get("Message-Id") == "" || h.Get("Date") == "" || !strings.Contains(h.Get("List-Unsubscribe"), "https://salles.example.coop/desabonnement?t=") {
		t.Errorf("headers %v", h)
	}
	for _, p := range ps[:3] {
		if n := len(testenv.ReadMaildir(t, dir, p.email)); n != 0 {
			t.Errorf("%s got %d messages, want none", p.id, n)
		}
	}
}

// TestNoticePromotion: a confirmed member leaves, the head of the
// waiting list gets exactly one message with a parseable invitation, the
// leaver none.
func TestNoticePromotion(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, _ := noticeBackend(t)
	in := newInstance(t, b, instanceOpts{notices: fastNotices(sink)})
	id, ps := fullEvent(t, in)
	in.leave(t, ps[0], id)
	checkPromotion(t, dir, id, ps)
	if st := in.notices.Stats(); st.Sent != 1 {
		t.Errorf("stats %+v, want 1 sent", st)
	}
}

// TestNoticeFlushAllAndRestart: Redis is flushed between the change and
// the send, and the replica that saw the change dies; another one,
// started afterwards, still sends exactly one message.
func TestNoticeFlushAllAndRestart(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, r := noticeBackend(t)
	slow := fastNotices(sink)
	slow.window = time.Hour // this replica never gets to send
	a := newInstance(t, b, instanceOpts{notices: slow})
	id, ps := fullEvent(t, a)
	a.leave(t, ps[0], id)
	r.FlushAll(t)
	a.stopNotices()
	newInstance(t, b, instanceOpts{notices: fastNotices(sink)})
	checkPromotion(t, dir, id, ps)
}

// TestNoticeTwoReplicas: two replicas with their workers, one change:
// exactly one message.
func TestNoticeTwoReplicas(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, _ := noticeBackend(t)
	a := newInstance(t, b, instanceOpts{notices: fastNotices(sink)})
	c := newInstance(t, b, instanceOpts{notices: fastNotices(sink)})
	id, ps := fullEvent(t, a)
	c.leave(t, ps[0], id)
	checkPromotion(t, dir, id, ps)
	if sa, sc := a.notices.Stats(), c.notices.Stats(); sa.Sent+sc.Sent != 1 {
		t.Errorf("sent %d + %d, want 1 in all", sa.Sent, sc.Sent)
	}
}

// TestNoticeSMTPDown: the SMTP server is down when the seat frees; the
// answer comes at once all the same, the send is retried with backoff,
// and the message arrives once the server is back.
func TestNoticeSMTPDown(t *testing.T) {
	smtp := testenv.NewSMTP(t) // down
	b, _ := noticeBackend(t)
	o := fastNotices(smtp.URL())
	in := newInstance(t, b, instanceOpts{notices: o})
	id, ps := fullEvent(t, in)
	if took := in.leave(t, ps[0], id); took > 3*time.Second {
		t.Errorf("unregister took %s with the SMTP server down", took)
	}
	deadline := time.Now().Add(20 * time.Second)
	for in.notices.Stats().Failed < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: no failed sends", in.notices.Stats())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Other requests are answered meanwhile.
	if a := in.as(t, ps[1], "GET", "/api/v1/events/"+id, nil, ""); a.status != 200 {
		t.Errorf("get event while SMTP is down: %d", a.status)
	}
	smtp.Start()
	checkPromotion(t, smtp.Maildir(), id, ps)
	if st := in.notices.Stats(); st.Sent != 1 || st.Failed < 2 || st.Retried < 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestNoticeEventCancelled: every registrant, confirmed or waiting, gets
// one METHOD:CANCEL; the organiser gets nothing.
func TestNoticeEventCancelled(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, _ := noticeBackend(t)
	in := newInstance(t, b, instanceOpts{notices: fastNotices(sink)})
	id, ps := fullEvent(t, in)
	if a := in.as(t, organiser, "DELETE", "/api/v1/events/"+id, nil, ""); a.status != 204 {
		t.Fatalf("cancel: %d %s", a.status, a.body)
	}
	for _, p := range ps {
		testenv.AwaitMail(t, dir, p.email, 1, 20*time.Second)
	}
	for i, p := range ps {
		ms := quiet(t, dir, p.email, 1, 0)
		if len(ms) == 0 {
			continue
		}
		subject, inv := readNotice(t, ms[0])
		if want := map[bool]string{true: "TENTATIVE", false: "ACCEPTED"}[i == 3]; inv.PartStat != want {
			t.Errorf("%s: PARTSTAT %s, want %s", p.id, inv.PartStat, want)
		}
		if !strings.HasPrefix(subject, "Événement annulé : Assemblée générale, ") || inv.Method != "CANCEL" ||
			inv.ContentMethod != "CANCEL" || inv.UID != id || inv.Status != "CANCELLED" || !strings.EqualFold(inv.Attendee, "mailto:"+p.email) {
			t.Errorf("%s: %q %+v", p.id, subject, inv)
		}
	}
	quiet(t, dir, ps[0].email, 1, 3*time.Second)
}

// TestNoticeEventMovedGrouped: an event moved twice within the window
// makes one message per registrant, with the last time and a higher
// SEQUENCE, in English for the member who chose it; a member who turned
// event_changed off gets none.
func TestNoticeEventMovedGrouped(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, _ := noticeBackend(t)
	o := fastNotices(sink)
	o.window = 4 * time.Second
	in := newInstance(t, b, instanceOpts{notices: o})
	id, ps := fullEvent(t, in)
	if a := in.as(t, ps[1], "PATCH", "/api/v1/me/preferences", map[string]any{"lang": "en"}, ""); a.status != 200 {
		t.Fatalf("preferences: %d %s", a.status, a.body)
	}
	if a := in.as(t, ps[2], "PATCH", "/api/v1/me/preferences", map[string]any{"notices": map[string]bool{"event_changed": false}}, ""); a.status != 200 {
		t.Fatalf("preferences: %d %s", a.status, a.body)
	}
	start, end := slot(21, 18)
	for _, h := range []int{1, 2} {
		if h == 2 {
			// The second move well within the window, after the worker
			// saw the first (its hint comes at once; on a loaded machine
			// it may take a moment): one message, counted as grouped.
			time.Sleep(1500 * time.Millisecond)
		}
		a := in.as(t, organiser, "PATCH", "/api/v1/events/"+id, map[string]any{
			"start": start.Add(time.Duration(h) * time.Hour).Format(time.RFC3339), "end": end.Add(time.Duration(h) * time.Hour).Format(time.RFC3339)}, "")
		if a.status != 200 {
			t.Fatalf("move: %d %s", a.status, a.body)
		}
	}
	want := start.Add(2 * time.Hour)
	for i, p := range []person{ps[0], ps[1], ps[3]} {
		testenv.AwaitMail(t, dir, p.email, 1, 20*time.Second)
		ms := quiet(t, dir, p.email, 1, 0)
		if len(ms) == 0 {
			continue
		}
		subject, inv := readNotice(t, ms[0])
		prefix := "Événement modifié : Assemblée générale, "
		if i == 1 {
			prefix = "Event changed: Assemblée générale, "
		}
		st, err := time.Parse(time.RFC3339, inv.Start)
		if !strings.HasPrefix(subject, prefix) || inv.Method != "REQUEST" || err != nil || !st.Equal(want) || inv.Sequence < 2 {
			t.Errorf("%s: %q %+v (%v)", p.id, subject, inv, err)
		}
	}
	quiet(t, dir, ps[2].email, 0, 2*time.Second)
	if st := in.notices.Stats(); st.Grouped < 1 {
		t.Errorf("stats %+v: the second move was not grouped", st)
	}
}

// TestNoticeNoAddressAndDailyCap: a member without an address is
// skipped and counted; past the daily cap the rest waits for one digest.
func TestNoticeNoAddressAndDailyCap(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, _ := noticeBackend(t)
	o := fastNotices(sink)
	o.cap = 1
	o.digestAt = func(t time.Time) time.Time { return t.Add(3 * time.Second) }
	in := newInstance(t, b, instanceOpts{notices: o})
	claire := mailed(7)
	nobody := memberNo(8) // no address
	var ids []string
	for i := 0; i < 3; i++ {
		id := in.createEvent(t, map[string]any{"capacity": 5, "title": "Atelier " + strconv.Itoa(i+1)})
		in.register(t, claire, id)
		in.register(t, nobody, id)
		ids = append(ids, id)
	}
	for _, id := range ids {
		if a := in.as(t, organiser, "DELETE", "/api/v1/events/"+id, nil, ""); a.status != 204 {
			t.Fatalf("cancel: %d %s", a.status, a.body)
		}
	}
	ms := testenv.AwaitMail(t, dir, claire.email, 2, 30*time.Second)
	ms = quiet(t, dir, claire.email, 2, 3*time.Second)
	if len(ms) == 2 {
		s1, _ := new(mime.WordDecoder).DecodeHeader(ms[0].Header.Get("Subject"))
		s2, _ := new(mime.WordDecoder).DecodeHeader(ms[1].Header.Get("Subject"))
		if !strings.HasPrefix(s1, "Événement annulé : Atelier") && !strings.HasPrefix(s2, "Événement annulé : Atelier") {
			t.Errorf("subjects %q %q: no single notice", s1, s2)
		}
		digest := ms[1]
		if strings.HasPrefix(s1, "Vos avis du jour") {
			digest = ms[0]
		}
		if s, _ := new(mime.WordDecoder).DecodeHeader(digest.Header.Get("Subject")); s != "Vos avis du jour (2)" {
			t.Errorf("digest subject %q", s)
		}
		if n := strings.Count(string(digest.Raw), "application/ics"); n != 2 {
			t.Errorf("digest has %d invitations attached, want 2", n)
		}
	}
	st := in.notices.Stats()
	if st.SkippedNoAddress != 3 || st.Deferred != 2 || st.Digests != 1 || st.Sent != 2 {
		t.Errorf("stats %+v", st)
	}
}

// bookAs books a slot days ahead for p and returns the booking's id,
// once p's address is in their preferences (recorded after the answer).
func bookAs(t *testing.T, in *instance, p person, days int) string {
	t.Helper()
	return bookIn(t, in, p, "loire", "nantes", days, 10)
}

// bookIn books room (of site) days ahead at hour for p, as bookAs.
func bookIn(t *testing.T, in *instance, p person, room, site string, days, hour int) string {
	t.Helper()
	return bookTitled(t, in, p, room, site, days, hour, "Réunion de "+p.name)
}

// bookTitled is bookIn with a title.
func bookTitled(t *testing.T, in *instance, p person, room, site string, days, hour int, title string) string {
	t.Helper()
	start, end := slot(days, hour)
	a := in.as(t, p, "POST", "/api/v1/bookings", map[string]any{
		"room": room, "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339), "title": title}, "")
	if a.status != 201 {
		t.Fatalf("book: %d %s", a.status, a.body)
	}
	id := decode[struct {
		ID string `json:"id"`
	}](t, a).ID
	deadline := time.Now().Add(10 * time.Second)
	for {
		var prefs struct {
			Site string `json:"site"`
		}
		if a := in.as(t, p, "GET", "/api/v1/me/preferences", nil, ""); a.status == 200 {
			prefs = decode[struct {
				Site string `json:"site"`
			}](t, a)
		}
		if prefs.Site == site {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's preferences never recorded the booking", p.id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRemoval: the owner got exactly one message saying the booking is
// removed, with a METHOD:CANCEL of the booking's UID.
func checkRemoval(t *testing.T, dir string, p person, id string) {
	t.Helper()
	testenv.AwaitMail(t, dir, p.email, 1, 20*time.Second)
	ms := quiet(t, dir, p.email, 1, 3*time.Second)
	if len(ms) == 0 {
		return
	}
	subject, inv := readNotice(t, ms[0])
	if !strings.HasPrefix(subject, "Réservation supprimée : Réunion de "+p.name+", ") || inv.Method != "CANCEL" ||
		inv.ContentMethod != "CANCEL" || inv.UID != id || inv.Status != "CANCELLED" || !strings.EqualFold(inv.Attendee, "mailto:"+p.email) ||
		inv.Location != "Salle Loire, Nantes" || !inv.TZIDsHaveVTimezone {
		t.Errorf("%q %+v", subject, inv)
	}
}

// TestNoticeBookingRemoved: a booking deleted straight on Radicale is
// told to its owner once, by one of two replicas, even with Redis
// flushed between the deletion's discovery and the send; a booking an
// admin cancels is told to its owner; the owner's own cancel is not.
func TestNoticeBookingRemoved(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, r := noticeBackend(t)
	slow := fastNotices(sink)
	slow.sweep = time.Hour // sends only what it is hinted of
	a := newInstance(t, b, instanceOpts{syncInterval: time.Second, notices: slow})
	c := newInstance(t, b, instanceOpts{syncInterval: time.Second, notices: fastNotices(sink)})
	claire, paul, zoe := mailed(11), mailed(12), mailed(13)
	gone := bookAs(t, a, claire, 30)
	byAdmin := bookAs(t, a, paul, 31)
	own := bookAs(t, a, zoe, 32)
	ctx := context.Background()

	// Deleted straight in the calendar.
	a.stopNotices() // a records the removal, c sends it
	obj, err := b.store.Get(ctx, "loire", caldav.ObjectName(gone))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Delete(ctx, "loire", obj.Name, obj.ETag); err != nil {
		t.Fatal(err)
	}
	checkRemoval(t, dir, claire, gone)
	r.FlushAll(t)
	quiet(t, dir, claire.email, 1, 3*time.Second)

	// Cancelled by an admin; cancelled by its owner.
	admin := person{id: "admin", name: "Ada Admin", groups: "admins"}
	if a := c.as(t, admin, "DELETE", "/api/v1/bookings/"+byAdmin, nil, ""); a.status != 204 {
		t.Fatalf("admin cancel: %d %s", a.status, a.body)
	}
	checkRemoval(t, dir, paul, byAdmin)
	if a := c.as(t, zoe, "DELETE", "/api/v1/bookings/"+own, nil, ""); a.status != 204 {
		t.Fatalf("own cancel: %d %s", a.status, a.body)
	}
	quiet(t, dir, zoe.email, 0, 3*time.Second)
	if st := c.notices.Stats(); st.Sent != 2 {
		t.Errorf("stats %+v, want 2 sent", st)
	}
}
