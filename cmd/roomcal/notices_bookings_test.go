package main

// Notices of what happens to a member's booking without them (issue 14,
// booking.Notifier wired): an approver's answer, a lapse, a no-show
// release, an admin's move, a move or a conflict straight in the
// calendar. Against Radicale, Redis and aiosmtpd, as notices_test.go.

import (
	"context"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/notices"
	"github.com/roomcal/roomcal/internal/testenv"
)

// oneNotice waits for p's one message and checks that no second one
// comes; it returns the subject, the text and the invitation.
func oneNotice(t *testing.T, dir string, p person) (string, string, invitation, bool) {
	t.Helper()
	testenv.AwaitMail(t, dir, p.email, 1, 30*time.Second)
	ms := quiet(t, dir, p.email, 1, 3*time.Second)
	if len(ms) == 0 {
		return "", "", invitation{}, false
	}
	subject, inv := readNotice(t, ms[0])
	return subject, string(ms[0].Raw), inv, true
}

// TestNoticeRequestAnswers: two replicas, Redis flushed along the way;
// an accepted request gets one REQUEST, a refused one one CANCEL with
// the reason in the text, one left unanswered one CANCEL when it lapses;
// the approver gets nothing.
func TestNoticeRequestAnswers(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, r := noticeBackend(t)
	opts := instanceOpts{syncInterval: 300 * time.Millisecond, sweepEvery: 300 * time.Millisecond}
	o1, o2 := opts, opts
	o1.notices, o2.notices = fastNotices(sink), fastNotices(sink)
	a := newInstance(t, b, o1)
	c := newInstance(t, b, o2)
	claire, paul, zoe := mailed(21), mailed(22), mailed(23)
	carla := person{id: "carla", name: "Carla", email: "carla-" + testenv.RandomID() + "@example.coop", groups: "ca"}
	accepted := bookIn(t, a, claire, "cale", "sn", 6, 9)
	refused := bookIn(t, a, paul, "cale", "sn", 6, 11)
	lapsed := bookIn(t, c, zoe, "cale", "sn", 6, 14)
	if x := c.as(t, carla, "POST", "/api/v1/requests/"+accepted+"/accept", nil, ""); x.status != 200 {
		t.Fatalf("accept: %d %s", x.status, x.body)
	}
	r.FlushAll(t)
	if x := a.as(t, carla, "POST", "/api/v1/requests/"+refused+"/refuse", map[string]any{"reason": "Salle prise pour l'assemblée"}, ""); x.status != 200 && x.status != 204 {
		t.Fatalf("refuse: %d %s", x.status, x.body)
	}

	subject, _, inv, ok := oneNotice(t, dir, claire)
	if ok && (!strings.HasPrefix(subject, "Demande acceptée : Réunion de "+claire.name+", ") || inv.Method != "REQUEST" ||
		inv.UID != accepted || inv.Status != "CONFIRMED" || inv.PartStat != "ACCEPTED" || inv.Location != "Cale sèche, Saint-Nazaire" ||
		!strings.EqualFold(inv.Attendee, "mailto:"+claire.email) || !inv.TZIDsHaveVTimezone || inv.Sequence < 1) {
		t.Errorf("accepted: %q %+v", subject, inv)
	}
	subject, raw, inv, ok := oneNotice(t, dir, paul)
	if ok && (!strings.HasPrefix(subject, "Demande refusée : Réunion de "+paul.name+", ") || inv.Method != "CANCEL" ||
		inv.UID != refused || inv.Status != "CANCELLED" || !strings.Contains(decodeQP(raw), "Motif : Salle prise pour l'assemblée")) {
		t.Errorf("refused: %q %+v", subject, inv)
	}
	subject, _, inv, ok = oneNotice(t, dir, zoe)
	if ok && (!strings.HasPrefix(subject, "Demande expirée : Réunion de "+zoe.name+", ") || inv.Method != "CANCEL" || inv.UID != lapsed) {
		t.Errorf("lapsed: %q %+v", subject, inv)
	}
	quiet(t, dir, carla.email, 0, 0)
	if sa, sc := a.notices.Stats(), c.notices.Stats(); sa.Sent+sc.Sent != 3 {
		t.Errorf("sent %d + %d, want 3 in all", sa.Sent, sc.Sent)
	}
}

// decodeQP undoes the quoted-printable soft breaks and escapes of a raw
// message well enough to look for a phrase in it.
func decodeQP(raw string) string {
	raw = strings.ReplaceAll(raw, "=\\r\\n", "")
	raw = strings.ReplaceAll(raw, "=\r\n", "")
	var out strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '=' && i+2 < len(raw) {
			var b byte
			if _, err := fmt.Sscanf(raw[i+1:i+3], "%02X", &b); err == nil {
				out.WriteByte(b)
				i += 2
				continue
			}
		}
		out.WriteByte(raw[i])
	}
	return out.String()
}

// TestNoticeNoShowReleased: a booking never checked in is cut short by
// the sweep; its owner (known by the ORGANIZER line only) gets one
// REQUEST with the new end.
func TestNoticeNoShowReleased(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, _ := noticeBackend(t)
	in := newInstance(t, b, instanceOpts{syncInterval: 300 * time.Millisecond, sweepEvery: 300 * time.Millisecond, notices: fastNotices(sink)})
	bob := mailed(24)
	began := time.Now().Add(-2 * time.Minute).UTC().Truncate(time.Second)
	id := "atelier_noshow" + strings.ToLower(testenv.RandomID())
	ics := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Répétition\r\nSTATUS:CONFIRMED\r\nORGANIZER;CN=Bob:mailto:%s\r\nX-ROOMCAL-KIND:booking\r\nX-ROOMCAL-ORGANIZER-ID:%s\r\nX-ROOMCAL-ORGANIZER-NAME:Bob\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		id, began.Format("20060102T150405Z"), began.Format("20060102T150405Z"), began.Add(2*time.Hour).Format("20060102T150405Z"), bob.email, bob.id)
	if _, err := b.store.Create(context.Background(), "atelier", caldav.ObjectName(id), []byte(ics)); err != nil {
		t.Fatal(err)
	}
	subject, _, inv, ok := oneNotice(t, dir, bob)
	if !ok {
		return
	}
	st, err := time.Parse(time.RFC3339, inv.Start)
	if !strings.HasPrefix(subject, "Réservation raccourcie : Répétition, ") || inv.Method != "REQUEST" || inv.UID != id ||
		err != nil || !st.Equal(began) {
		t.Errorf("released: %q %+v", subject, inv)
	}
	obj, err := b.store.Get(context.Background(), "atelier", caldav.ObjectName(id))
	if err != nil || !strings.Contains(string(obj.Data), "X-ROOMCAL-RELEASED") {
		t.Errorf("not released on the server: %v", err)
	}
	if st := in.notices.Stats(); st.Sent != 1 {
		t.Errorf("stats %+v, want 1 sent", st)
	}
}

// shiftHour moves an iCalendar object's DTSTART and DTEND by d, as a
// calendar app editing it would.
func shiftHour(t *testing.T, data []byte, d time.Duration) []byte {
	t.Helper()
	lines := strings.Split(string(data), "\r\n")
	n, in := 0, false
	for i, l := range lines {
		switch l {
		case "BEGIN:VEVENT":
			in = true
		case "END:VEVENT":
			in = false
		}
		if !in || !strings.HasPrefix(l, "DTSTART") && !strings.HasPrefix(l, "DTEND") {
			continue
		}
		j := strings.LastIndexByte(l, ':')
		v := l[j+1:]
		z := strings.HasSuffix(v, "Z")
		at, err := time.Parse("20060102T150405", strings.TrimSuffix(v, "Z"))
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		v = at.Add(d).Format("20060102T150405")
		if z {
			v += "Z"
		}
		lines[i] = l[:j+1] + v
		n++
	}
	if n != 2 {
		t.Fatalf("%d DTSTART/DTEND lines in\n%s", n, data)
	}
	return []byte(strings.Join(lines, "\r\n"))
}

// TestNoticeBookingMoved: a member's booking moved by an admin, one
// moved straight in the calendar, and one that something put straight
// in the calendar now overlaps: each owner gets exactly one REQUEST of
// their booking's UID with its times now (two replicas); the admin, and
// a member who moves their own booking, get nothing.
func TestNoticeBookingMoved(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, _ := noticeBackend(t)
	o1 := instanceOpts{syncInterval: 300 * time.Millisecond, notices: fastNotices(sink)}
	o2 := o1
	o2.notices = fastNotices(sink)
	a := newInstance(t, b, o1)
	c := newInstance(t, b, o2)
	ctx := context.Background()
	claire, paul, zoe, max := mailed(31), mailed(32), mailed(33), mailed(34)
	admin := person{id: "admin", name: "Ada Admin", email: "ada-" + testenv.RandomID() + "@example.coop", groups: "admins"}
	byAdmin := bookIn(t, a, claire, "loire", "nantes", 30, 10)
	inCalendar := bookIn(t, a, paul, "loire", "nantes", 31, 10)
	clashed := bookIn(t, a, zoe, "loire", "nantes", 32, 10)
	own := bookIn(t, a, max, "loire", "nantes", 33, 10)

	// An admin moves claire's to 14:00.
	s1, e1 := slot(30, 14)
	if x := c.as(t, admin, "PATCH", "/api/v1/bookings/"+byAdmin, map[string]any{
		"start": s1.Format(time.RFC3339), "end": e1.Format(time.RFC3339)}, ""); x.status != 200 {
		t.Fatalf("admin move: %d %s", x.status, x.body)
	}
	// max moves his own.
	s4, e4 := slot(33, 15)
	if x := c.as(t, max, "PATCH", "/api/v1/bookings/"+own, map[string]any{
		"start": s4.Format(time.RFC3339), "end": e4.Format(time.RFC3339)}, ""); x.status != 200 {
		t.Fatalf("own move: %d %s", x.status, x.body)
	}
	// paul's is moved an hour later straight on Radicale.
	obj, err := b.store.Get(ctx, "loire", caldav.ObjectName(inCalendar))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.Update(ctx, "loire", obj.Name, shiftHour(t, obj.Data, time.Hour), obj.ETag); err != nil {
		t.Fatal(err)
	}
	// Something overlapping zoe's is put straight on Radicale.
	s3, _ := slot(32, 10)
	other := "conseil-" + strings.ToLower(testenv.RandomID())
	ics := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Conseil\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		other, s3.Add(30*time.Minute).UTC().Format("20060102T150405Z"), s3.Add(90*time.Minute).UTC().Format("20060102T150405Z"))
	if _, err := b.store.Create(ctx, "loire", other+".ics", []byte(ics)); err != nil {
		t.Fatal(err)
	}

	check := func(p person, id, prefix string, start time.Time) {
		t.Helper()
		subject, _, inv, ok := oneNotice(t, dir, p)
		if !ok {
			return
		}
		st, err := time.Parse(time.RFC3339, inv.Start)
		if !strings.HasPrefix(subject, prefix+"Réunion de "+p.name+", ") || inv.Method != "REQUEST" || inv.ContentMethod != "REQUEST" ||
			inv.UID != id || inv.Status != "CONFIRMED" || err != nil || !st.Equal(start) || inv.Location != "Salle Loire, Nantes" ||
			!strings.EqualFold(inv.Attendee, "mailto:"+p.email) || !inv.TZIDsHaveVTimezone {
			t.Errorf("%s: %q %+v", p.id, subject, inv)
		}
	}
	check(claire, byAdmin, "Réservation modifiée : ", s1)
	s2, _ := slot(31, 11)
	check(paul, inCalendar, "Réservation modifiée : ", s2)
	check(zoe, clashed, "Conflit sur votre réservation : ", s3)
	quiet(t, dir, max.email, 0, 0)
	quiet(t, dir, admin.email, 0, 0)
	if sa, sc := a.notices.Stats(), c.notices.Stats(); sa.Sent+sc.Sent != 3 {
		t.Errorf("sent %d + %d, want 3 in all", sa.Sent, sc.Sent)
	}
}

// TestNoticeEventDeletedInCalendar: an event deleted straight on
// Radicale (not cancelled through roomcal): every registrant, confirmed
// or waiting, gets exactly one METHOD:CANCEL of its UID, from one of two
// replicas; the organiser gets nothing.
func TestNoticeEventDeletedInCalendar(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, _ := noticeBackend(t)
	o1 := instanceOpts{syncInterval: 300 * time.Millisecond, notices: fastNotices(sink)}
	o2 := o1
	o2.notices = fastNotices(sink)
	a := newInstance(t, b, o1)
	c := newInstance(t, b, o2)
	id, ps := fullEvent(t, a)
	ctx := context.Background()
	obj, err := b.store.Get(ctx, eventsCalendar, caldav.ObjectName(id))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Delete(ctx, eventsCalendar, obj.Name, obj.ETag); err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		// The 4th waits: TENTATIVE, as in the event's own invitations.
		partstat := map[bool]string{true: "TENTATIVE", false: "ACCEPTED"}[i == 3]
		subject, _, inv, ok := oneNotice(t, dir, p)
		if ok && (!strings.HasPrefix(subject, "Événement annulé : Assemblée générale, ") || inv.Method != "CANCEL" ||
			inv.ContentMethod != "CANCEL" || inv.UID != id || inv.Status != "CANCELLED" || inv.PartStat != partstat ||
			!strings.EqualFold(inv.Attendee, "mailto:"+p.email) || !inv.TZIDsHaveVTimezone) {
			t.Errorf("%s: %q %+v", p.id, subject, inv)
		}
	}
	quiet(t, dir, organiser.email, 0, 0)
	if sa, sc := a.notices.Stats(), c.notices.Stats(); sa.Sent+sc.Sent != 4 {
		t.Errorf("sent %d + %d, want 4 in all", sa.Sent, sc.Sent)
	}
}

// TestNoticeReminders: a member who turned reminders on gets exactly one
// reminder of her booking, one of the event she is registered for, and
// one of the first date of her weekly series, each with a REQUEST of its
// UID (the series' is the whole series, RRULE and EXDATE, so that it
// cannot replace the series in her calendar app), from two replicas; a
// restart and a Redis flush send none again; a member who did not turn
// them on gets none.
func TestNoticeReminders(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, r := noticeBackend(t)
	due := func(start time.Time) time.Time { return start.Add(-72 * time.Hour) } // due at once
	opts := func() instanceOpts {
		o := fastNotices(sink)
		o.remindAt = due
		return instanceOpts{syncInterval: 300 * time.Millisecond, notices: o}
	}
	a := newInstance(t, b, opts())
	c := newInstance(t, b, opts())
	claire, paul := mailed(41), mailed(42)
	if x := a.as(t, claire, "PATCH", "/api/v1/me/preferences", map[string]any{"notices": map[string]bool{"reminder": true}}, ""); x.status != 200 {
		t.Fatalf("preferences: %d %s", x.status, x.body)
	}
	booked := bookIn(t, a, claire, "loire", "nantes", 1, 10)
	bookIn(t, c, paul, "loire", "nantes", 1, 12)
	start, end := slot(1, 18)
	ev := a.createEvent(t, map[string]any{"start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339)})
	a.register(t, claire, ev)
	c.register(t, paul, ev)
	// A weekly series from tomorrow, its second date skipped: only its
	// first date is within two days.
	s1, e1 := slot(1, 14)
	x := a.as(t, claire, "POST", "/api/v1/bookings", map[string]any{
		"room": "erdre", "start": s1.Format(time.RFC3339), "end": e1.Format(time.RFC3339), "title": "Chorale",
		"recurrence": "FREQ=WEEKLY;COUNT=3", "skip": []string{s1.AddDate(0, 0, 7).Format(time.RFC3339)}}, "")
	if x.status != 201 {
		t.Fatalf("series: %d %s", x.status, x.body)
	}
	series := decode[struct {
		ID string `json:"id"`
	}](t, x).ID

	ms := testenv.AwaitMail(t, dir, claire.email, 3, 30*time.Second)
	r.FlushAll(t)
	a.stopNotices()
	newInstance(t, b, opts())
	ms = quiet(t, dir, claire.email, 3, 4*time.Second)
	seen := map[string]bool{}
	for _, m := range ms {
		subject, inv := readNotice(t, m)
		seen[inv.UID] = true
		want := map[string]string{booked: "Rappel, demain : Réunion de " + claire.name + ", ", ev: "Rappel, demain : Assemblée générale, ",
			series: "Rappel, demain : Chorale, "}[inv.UID]
		if want == "" || !strings.HasPrefix(subject, want) || inv.Method != "REQUEST" || !strings.EqualFold(inv.Attendee, "mailto:"+claire.email) ||
			!inv.TZIDsHaveVTimezone || inv.Sequence < 1 {
			t.Errorf("%q %+v", subject, inv)
		}
		st, err := time.Parse(time.RFC3339, inv.Start)
		switch {
		case inv.UID == series:
			var skipped time.Time
			if len(inv.ExDates) == 1 {
				skipped, _ = time.Parse(time.RFC3339, inv.ExDates[0])
			}
			if inv.RRule != "FREQ=WEEKLY;COUNT=3" || err != nil || !st.Equal(s1) || !skipped.Equal(s1.AddDate(0, 0, 7)) {
				t.Errorf("series reminder: %+v, want the whole series from %v with its EXDATE", inv, s1)
			}
		case inv.RRule != "" || len(inv.ExDates) != 0:
			t.Errorf("%q: a single entry with a recurrence: %+v", subject, inv)
		}
	}
	if len(ms) == 3 && (!seen[booked] || !seen[ev] || !seen[series]) {
		t.Errorf("reminders of %v, want %s, %s and %s", seen, booked, ev, series)
	}
	quiet(t, dir, paul.email, 0, 0)
}

// TestNoticeOutboxPrune, on Radicale: pruning deletes the told notices
// over and told before the limit, and nothing else: a notice not told
// stays (and is still pending) however old its entry; a worker prunes
// on its own.
func TestNoticeOutboxPrune(t *testing.T) {
	b, _ := noticeBackend(t)
	ctx := context.Background()
	out := caldav.NewNoticeOutbox(b.store, tokensCalendar)
	past, future := time.Now().Add(-48*time.Hour), time.Now().Add(48*time.Hour)
	mk := func(id string, end time.Time) notices.BookingNotice {
		return notices.BookingNotice{Kind: notices.KindBookingRemoved, ID: id, Room: "loire", Start: end.Add(-time.Hour), End: end,
			Owner: "membre-051", By: "admin", Same: id, At: end.Add(-2 * time.Hour)}
	}
	for _, n := range []notices.BookingNotice{mk("loire_untoldpast", past), mk("loire_untoldfuture", future)} {
		if err := out.Put(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []notices.BookingNotice{mk("loire_toldpast", past), mk("loire_toldfuture", future)} {
		if err := out.Remember(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	n, err := out.Prune(ctx, time.Now().Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	for same, want := range map[string]bool{"loire_toldpast": false, "loire_toldfuture": true} {
		if got, err := out.Remembered(ctx, same); err != nil || got != want {
			t.Errorf("%s remembered: %v (%v), want %v", same, got, err, want)
		}
	}
	pending, err := out.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, p := range pending {
		ids[p.ID] = true
	}
	if len(pending) != 2 || !ids["loire_untoldpast"] || !ids["loire_untoldfuture"] {
		t.Errorf("pending after pruning: %+v", pending)
	}
	if n, err := out.Prune(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("pruned again %d (%v), want 0", n, err)
	}

	// A worker marks the untold notice that is over as told (nothing to
	// tell), then prunes it with the other one over.
	sink, _ := testenv.SMTPSink(t)
	o := fastNotices(sink)
	o.retention, o.pruneEvery = time.Millisecond, 500*time.Millisecond
	in := newInstance(t, b, instanceOpts{notices: o})
	deadline := time.Now().Add(20 * time.Second)
	for in.notices.Stats().Pruned < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: nothing pruned", in.notices.Stats())
		}
		time.Sleep(100 * time.Millisecond)
	}
	pending, err = out.Pending(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != "loire_untoldfuture" {
		t.Errorf("pending after the worker: %+v (%v), want the future one only", pending, err)
	}
}

// TestNoticeMovedInCalendarAcrossFlush: a booking moved straight on
// Radicale while Redis loses everything before any sync pass saw the
// move: the gate's old copy is gone, but the booking's record still
// says which times its owner knows (X-ROOMCAL-TOLD), so the rebuild
// finds the move and the owner gets exactly one message.
func TestNoticeMovedInCalendarAcrossFlush(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, r := noticeBackend(t)
	in := newInstance(t, b, instanceOpts{syncInterval: time.Hour, notices: fastNotices(sink)})
	ctx := context.Background()
	paul := mailed(61)
	id := bookIn(t, in, paul, "erdre", "nantes", 35, 10)
	obj, err := b.store.Get(ctx, "erdre", caldav.ObjectName(id))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(obj.Data), "X-ROOMCAL-TOLD:") {
		t.Fatalf("no told mark on the booking:\n%s", obj.Data)
	}
	if _, err := b.store.Update(ctx, "erdre", obj.Name, shiftHour(t, obj.Data, 2*time.Hour), obj.ETag); err != nil {
		t.Fatal(err)
	}
	r.FlushAll(t)
	// A request rebuilds the room's state from its calendar.
	from, to := slot(35, 8)
	if x := in.as(t, paul, "GET", "/api/v1/availability?room=erdre&from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+
		url.QueryEscape(to.Add(10*time.Hour).Format(time.RFC3339)), nil, ""); x.status != 200 {
		t.Fatalf("availability: %d %s", x.status, x.body)
	}
	subject, _, inv, ok := oneNotice(t, dir, paul)
	if !ok {
		return
	}
	want, _ := slot(35, 12)
	st, err := time.Parse(time.RFC3339, inv.Start)
	if !strings.HasPrefix(subject, "Réservation modifiée : Réunion de "+paul.name+", ") || inv.Method != "REQUEST" || inv.UID != id ||
		err != nil || !st.Equal(want) || inv.Location != "Salle Erdre, Nantes" {
		t.Errorf("%q %+v", subject, inv)
	}
	// Rebuilt again: the same move is not told twice.
	r.FlushAll(t)
	if x := in.as(t, paul, "GET", "/api/v1/availability?room=erdre&from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+
		url.QueryEscape(to.Add(10*time.Hour).Format(time.RFC3339)), nil, ""); x.status != 200 {
		t.Fatalf("availability: %d %s", x.status, x.body)
	}
	quiet(t, dir, paul.email, 1, 3*time.Second)
}

// TestNoticeDailyCapAllKinds: the daily cap counts every kind of notice
// together, for one member, across a Redis flush. Cap 2: four of her
// bookings cancelled by an admin make two messages and one digest naming
// the other two; then Redis is flushed and an event she registered for
// is cancelled and a reminder falls due: both go into a second digest
// (the day's count is rebuilt from what the calendar store recorded as
// sent), none comes alone.
func TestNoticeDailyCapAllKinds(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, r := noticeBackend(t)
	o := fastNotices(sink)
	o.cap = 2
	o.digestAt = func(t time.Time) time.Time { return t.Add(6 * time.Second) }
	o.remindAt = func(start time.Time) time.Time { return start.Add(-72 * time.Hour) } // due at once
	in := newInstance(t, b, instanceOpts{syncInterval: 300 * time.Millisecond, notices: o})
	claire := mailed(71)
	admin := person{id: "admin", name: "Ada Admin", groups: "admins"}
	if x := in.as(t, claire, "PATCH", "/api/v1/me/preferences", map[string]any{"notices": map[string]bool{"reminder": true}}, ""); x.status != 200 {
		t.Fatalf("preferences: %d %s", x.status, x.body)
	}
	var ids []string
	for i := 1; i <= 4; i++ {
		ids = append(ids, bookTitled(t, in, claire, "loire", "nantes", 40, 8+2*i, fmt.Sprintf("Atelier %d", i)))
	}
	for _, id := range ids {
		if x := in.as(t, admin, "DELETE", "/api/v1/bookings/"+id, nil, ""); x.status != 204 {
			t.Fatalf("admin cancel: %d %s", x.status, x.body)
		}
	}
	testenv.AwaitMail(t, dir, claire.email, 3, 30*time.Second)
	ms := quiet(t, dir, claire.email, 3, 3*time.Second)
	var digests []testenv.Mail
	alone := map[string]bool{}
	for _, m := range ms {
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		switch {
		case subject == "Vos avis du jour (2)":
			digests = append(digests, m)
		case strings.HasPrefix(subject, "Réservation supprimée : Atelier "):
			alone[strings.TrimPrefix(subject, "Réservation supprimée : ")[:9]] = true
		default:
			t.Errorf("unexpected message %q", subject)
		}
	}
	if len(digests) != 1 || len(alone) != 2 {
		t.Fatalf("%d digests and %v alone, want one digest and two alone", len(digests), alone)
	}
	text := decodeQP(string(digests[0].Raw))
	for i := 1; i <= 4; i++ {
		title := fmt.Sprintf("Atelier %d", i)
		if inDigest := strings.Contains(text, "Réservation supprimée : "+title); inDigest == alone[title] {
			t.Errorf("%s: in the digest %v, alone %v; want exactly one", title, inDigest, alone[title])
		}
	}
	if n := strings.Count(string(digests[0].Raw), "application/ics"); n != 2 {
		t.Errorf("digest has %d invitations attached, want 2", n)
	}
	// A digest mixes kinds: its List-Unsubscribe is the member's notice
	// settings, a page to choose on (no one-click POST).
	if h := digests[0].Header; !strings.HasSuffix(h.Get("List-Unsubscribe"), "/mes-reservations#notices>") || h.Get("List-Unsubscribe-Post") != "" ||
		!strings.Contains(text, "Choisir les avis que je reçois") {
		t.Errorf("digest's unsubscribe: List-Unsubscribe %q, Post %q", h.Get("List-Unsubscribe"), h.Get("List-Unsubscribe-Post"))
	}

	// Redis loses everything; two more notices of other kinds the same
	// day go to a second digest.
	r.FlushAll(t)
	ev := in.createEvent(t, map[string]any{"title": "Conseil"})
	in.register(t, claire, ev)
	bookTitled(t, in, claire, "erdre", "nantes", 1, 10, "Répétition")
	if x := in.as(t, organiser, "DELETE", "/api/v1/events/"+ev, nil, ""); x.status != 204 {
		t.Fatalf("cancel: %d %s", x.status, x.body)
	}
	ms = testenv.AwaitMail(t, dir, claire.email, 4, 30*time.Second)
	ms = quiet(t, dir, claire.email, 4, 4*time.Second)
	if len(ms) == 4 {
		last := ms[3]
		subject, _ := new(mime.WordDecoder).DecodeHeader(last.Header.Get("Subject"))
		text := decodeQP(string(last.Raw))
		if subject != "Vos avis du jour (2)" || !strings.Contains(text, "Événement annulé : Conseil") ||
			!strings.Contains(text, "Rappel, demain : Répétition") || strings.Count(string(last.Raw), "application/ics") != 2 {
			t.Errorf("second digest %q:\n%s", subject, text)
		}
	}
	if st := in.notices.Stats(); st.Sent != 4 || st.Digests != 2 || st.Deferred != 4 {
		t.Errorf("stats %+v, want 4 sent (2 digests), 4 deferred", st)
	}
}

// TestNoticeOwnConfirmation: confirmations of one's own booking, series
// or registration are opt-in. A member who turned them on (and then
// Redis lost everything: the choice is in the calendar store) gets one
// message for her booking and one for her weekly series, each with a
// REQUEST of its UID (the series whole, with its RRULE), and one for her
// registration (ACCEPTED); another, waitlisted, gets "Sur liste
// d'attente" (TENTATIVE); a member who did not turn them on gets none.
func TestNoticeOwnConfirmation(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, r := noticeBackend(t)
	in := newInstance(t, b, instanceOpts{syncInterval: 300 * time.Millisecond, notices: fastNotices(sink)})
	claire, zoe, paul := mailed(81), mailed(82), mailed(83)
	for _, p := range []person{claire, zoe} {
		if x := in.as(t, p, "PATCH", "/api/v1/me/preferences", map[string]any{"notices": map[string]bool{"confirmation": true}}, ""); x.status != 200 {
			t.Fatalf("preferences: %d %s", x.status, x.body)
		}
	}
	r.FlushAll(t)
	single := bookTitled(t, in, claire, "loire", "nantes", 12, 10, "Bureau")
	s1, e1 := slot(13, 10)
	x := in.as(t, claire, "POST", "/api/v1/bookings", map[string]any{
		"room": "loire", "start": s1.Format(time.RFC3339), "end": e1.Format(time.RFC3339), "title": "Chorale",
		"recurrence": "FREQ=WEEKLY;COUNT=3"}, "")
	if x.status != 201 {
		t.Fatalf("series: %d %s", x.status, x.body)
	}
	series := decode[struct {
		ID string `json:"id"`
	}](t, x).ID
	bookTitled(t, in, paul, "loire", "nantes", 12, 14, "Réunion")
	ev := in.createEvent(t, map[string]any{"capacity": 1, "waitlist": true})
	in.register(t, claire, ev)
	in.register(t, zoe, ev)
	in.register(t, paul, ev)

	ms := testenv.AwaitMail(t, dir, claire.email, 3, 30*time.Second)
	ms = quiet(t, dir, claire.email, 3, 3*time.Second)
	seen := map[string]bool{}
	for _, m := range ms {
		subject, inv := readNotice(t, m)
		seen[inv.UID] = true
		st, err := time.Parse(time.RFC3339, inv.Start)
		bad := inv.Method != "REQUEST" || inv.ContentMethod != "REQUEST" || !strings.EqualFold(inv.Attendee, "mailto:"+claire.email) ||
			inv.PartStat != "ACCEPTED" || !inv.TZIDsHaveVTimezone || err != nil
		switch inv.UID {
		case single:
			bad = bad || !strings.HasPrefix(subject, "Réservation confirmée : Bureau, ") || inv.RRule != "" || inv.Location != "Salle Loire, Nantes"
		case series:
			bad = bad || !strings.HasPrefix(subject, "Réservation confirmée : Chorale, ") || inv.RRule != "FREQ=WEEKLY;COUNT=3" || !st.Equal(s1)
		case ev:
			bad = bad || !strings.HasPrefix(subject, "Inscription confirmée : Assemblée générale, ")
		default:
			bad = true
		}
		if bad {
			t.Errorf("%q %+v", subject, inv)
		}
	}
	if len(ms) == 3 && len(seen) != 3 {
		t.Errorf("confirmations of %v, want %s, %s and %s once each", seen, single, series, ev)
	}
	subject, _, inv, ok := oneNotice(t, dir, zoe)
	if ok && (!strings.HasPrefix(subject, "Sur liste d'attente : Assemblée générale, ") || inv.UID != ev || inv.Method != "REQUEST" ||
		inv.PartStat != "TENTATIVE") {
		t.Errorf("waitlisted: %q %+v", subject, inv)
	}
	quiet(t, dir, paul.email, 0, 0)
}

// TestNoticeDeletedInCalendarAcrossFlush: a booking deleted straight on
// Radicale, then Redis flushed before any sync pass saw the deletion,
// and the replica restarted: the gate's copy is gone, but the room's
// index of bookings to come (kept in the calendar store by the sync
// loop) still lists it, so the rebuild tells its owner, exactly once
// (a second flush and rebuild do not tell again); a booking its owner
// cancelled just before leaves the index at once and is not told.
func TestNoticeDeletedInCalendarAcrossFlush(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, r := noticeBackend(t)
	ctx := context.Background()
	a := newInstance(t, b, instanceOpts{syncInterval: time.Hour, notices: fastNotices(sink)})
	claire, paul := mailed(91), mailed(92)
	gone := bookIn(t, a, claire, "loire", "nantes", 36, 10)
	own := bookIn(t, a, paul, "loire", "nantes", 36, 14)
	// A sync pass (the loop's next one) writes the index.
	if err := a.svc.SyncRoom(ctx, "loire"); err != nil {
		t.Fatal(err)
	}
	index := caldav.NewBookingIndex(b.store, tokensCalendar)
	listed := func(id string) bool {
		es, _, err := index.ReadIndex(ctx, "loire")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.ID == id {
				return true
			}
		}
		return false
	}
	if !listed(gone) || !listed(own) {
		t.Fatalf("the index does not list %s and %s", gone, own)
	}
	// paul cancels his own: the index forgets it at once (no sync pass
	// runs in this hour), so the flush below does not tell him.
	if x := a.as(t, paul, "DELETE", "/api/v1/bookings/"+own, nil, ""); x.status != 204 {
		t.Fatalf("own cancel: %d %s", x.status, x.body)
	}
	for deadline := time.Now().Add(10 * time.Second); listed(own); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the index still lists %s, cancelled by its owner", own)
		}
	}
	obj, err := b.store.Get(ctx, "loire", caldav.ObjectName(gone))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Delete(ctx, "loire", obj.Name, obj.ETag); err != nil {
		t.Fatal(err)
	}
	r.FlushAll(t)
	a.stopNotices()
	c := newInstance(t, b, instanceOpts{syncInterval: 300 * time.Millisecond, notices: fastNotices(sink)})
	checkRemoval(t, dir, claire, gone)
	deadline := time.Now().Add(10 * time.Second)
	for listed(gone) {
		if time.Now().After(deadline) {
			t.Fatalf("the index still lists %s", gone)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.FlushAll(t)
	if err := c.svc.SyncRoom(ctx, "loire"); err != nil {
		t.Fatal(err)
	}
	quiet(t, dir, claire.email, 1, 3*time.Second)
	quiet(t, dir, paul.email, 0, 0)
	if st := c.notices.Stats(); st.Sent != 1 {
		t.Errorf("stats %+v, want 1 sent", st)
	}
}

// TestNoticeEventDeletedAcrossFlush: an event deleted straight on
// Radicale, then Redis flushed before any sync pass saw it, and the
// replica restarted: the roster of events to come (kept in the calendar
// store by the sync loop) still lists it with its registrants, so the
// rebuild tells each one, exactly once, with a METHOD:CANCEL (the one on
// the waiting list TENTATIVE); the organiser gets nothing; the room of
// another deleted event is freed.
func TestNoticeEventDeletedAcrossFlush(t *testing.T) {
	sink, dir := testenv.SMTPSink(t)
	b, r := noticeBackend(t)
	ctx := context.Background()
	a := newInstance(t, b, instanceOpts{syncInterval: time.Hour, notices: fastNotices(sink)})
	id, ps := fullEvent(t, a)
	// Another, in a room, nobody registered: its room is freed.
	rs, re := slot(26, 10)
	inRoom := a.createEvent(t, map[string]any{"room": "erdre", "title": "Atelier", "start": rs.Format(time.RFC3339), "end": re.Format(time.RFC3339)})
	if n := len(bookingsOnServer(t, b, "erdre", rs, re)); n != 1 {
		t.Fatalf("%d room bookings for the event in erdre, want 1", n)
	}
	roster := caldav.NewEventRoster(b.store, tokensCalendar)
	listed := func() bool {
		es, _, err := roster.ReadRoster(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.ID == id && len(e.Regs) == 4 || e.ID == inRoom && e.RoomBooking != "" {
				n++
			}
		}
		return n == 2
	}
	// The sync loop's next passes write the roster.
	for deadline := time.Now().Add(30 * time.Second); !listed(); time.Sleep(200 * time.Millisecond) {
		if err := a.ev.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the roster never listed the event with its four registrants")
		}
	}
	obj, err := b.store.Get(ctx, eventsCalendar, caldav.ObjectName(id))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Delete(ctx, eventsCalendar, obj.Name, obj.ETag); err != nil {
		t.Fatal(err)
	}
	obj, err = b.store.Get(ctx, eventsCalendar, caldav.ObjectName(inRoom))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Delete(ctx, eventsCalendar, obj.Name, obj.ETag); err != nil {
		t.Fatal(err)
	}
	r.FlushAll(t)
	a.stopNotices()
	c := newInstance(t, b, instanceOpts{syncInterval: 300 * time.Millisecond, notices: fastNotices(sink)})
	for i, p := range ps {
		partstat := map[bool]string{true: "TENTATIVE", false: "ACCEPTED"}[i == 3]
		subject, _, inv, ok := oneNotice(t, dir, p)
		if ok && (!strings.HasPrefix(subject, "Événement annulé : Assemblée générale, ") || inv.Method != "CANCEL" ||
			inv.UID != id || inv.Status != "CANCELLED" || inv.PartStat != partstat || !strings.EqualFold(inv.Attendee, "mailto:"+p.email)) {
			t.Errorf("%s: %q %+v", p.id, subject, inv)
		}
	}
	quiet(t, dir, organiser.email, 0, 0)
	if st := c.notices.Stats(); st.Sent != 4 {
		t.Errorf("stats %+v, want 4 sent", st)
	}
	if n := len(bookingsOnServer(t, b, "erdre", rs, re)); n != 0 {
		t.Errorf("%d room bookings left in erdre for the deleted event, want none", n)
	}
}
