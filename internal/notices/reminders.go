package notices

import (
	"context"
	"strconv"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
)

// Day-before reminders (opt-in, KindReminder): at every sweep the worker
// lists the members' bookings and the events that start within the next
// two days, and reminds each member who turned reminders on of those
// whose RemindAt came, once. What was reminded is recorded in the outbox
// as a told object (named by the entry, the member and the start), so
// that a restart or a Redis flush does not remind again; replicas claim
// each reminder in the gate before sending. A reminder is at least once:
// a crash between the send and the record sends it again.

// remindAhead is how far ahead reminders are looked for.
const remindAhead = 48 * time.Hour

// prefRecheck is how long a member who has reminders off is not asked
// again about one entry.
const prefRecheck = 10 * time.Minute

type reminder struct {
	kind                   string // kindReminderB, kindReminderE
	id, room, title, where string
	start, end             time.Time
	member, name, email    string
	confirmed              bool
	// seq is the entry's SEQUENCE (an event's); -1 for a booking.
	seq int
	// series is the booking as its record has it now (a booking's
	// reminder): its invitation is the whole series for a recurring one.
	series *booking.Booking
}

func (r reminder) same() string {
	return KindReminder + "|" + r.id + "|" + r.member + "|" + strconv.FormatInt(r.start.Unix(), 10)
}

// reminders sends the reminders that are due.
func (w *Worker) reminders(ctx context.Context) {
	if w.opt.Outbox == nil || w.opt.Upcoming == nil && w.opt.EventList == nil {
		return
	}
	now := w.opt.Now()
	var due []reminder
	if w.opt.Upcoming != nil {
		bs, err := w.opt.Upcoming.Starting(ctx, now, now.Add(remindAhead))
		if err != nil {
			w.log.WarnContext(ctx, "notices: bookings to remind not listed; next sweep tries again", "err", err)
		}
		for _, b := range bs {
			due = append(due, reminder{kind: kindReminderB, id: b.ID, room: b.Room, title: b.Title, start: b.Start, end: b.End,
				member: b.Organizer.ID, confirmed: true, seq: -1})
		}
	}
	if w.opt.EventList != nil {
		sums, err := w.opt.EventList.List(ctx, now, now.Add(remindAhead))
		if err != nil {
			w.log.WarnContext(ctx, "notices: events to remind not listed; next sweep tries again", "err", err)
		}
		for _, sm := range sums {
			ev := sm.Event
			if ev.Settings.Cancelled || ev.Start.Before(now) || w.opt.RemindAt(ev.Start).After(now) {
				continue
			}
			rec, err := w.opt.Events.Record(ctx, ev.ID)
			if err != nil {
				continue // gone, or unreadable now: next sweep
			}
			for _, r := range rec.Registrations {
				if r.Status != events.Confirmed {
					continue
				}
				due = append(due, reminder{kind: kindReminderE, id: ev.ID, room: ev.Room, title: ev.Title, where: w.where(ev),
					start: ev.Start, end: ev.End, member: r.Member, name: r.Name, email: r.Email, confirmed: true, seq: rec.Sequence})
			}
		}
	}
	for _, r := range due {
		if ctx.Err() != nil {
			return
		}
		if r.start.Before(now) || w.opt.RemindAt(r.start).After(now) {
			continue
		}
		w.remind(ctx, r, now)
	}
	// Forget what is over.
	w.mu.Lock()
	for k, until := range w.reminded {
		if until.Before(now.Add(-remindAhead)) {
			delete(w.reminded, k)
		}
	}
	w.mu.Unlock()
}

func (w *Worker) remind(ctx context.Context, r reminder, now time.Time) {
	key := r.same()
	w.mu.Lock()
	until, settled := w.reminded[key]
	w.mu.Unlock()
	if settled && now.Before(until) {
		return
	}
	settle := func(until time.Time) {
		w.mu.Lock()
		w.reminded[key] = until
		w.mu.Unlock()
	}
	if w.opt.Preferences == nil || len(r.member) > 7 && r.member[:7] == "mailto:" {
		settle(r.start) // reminders are opt-in: nobody chose them
		return
	}
	p, err := w.opt.Preferences.Preferences(ctx, r.member)
	if err != nil {
		w.log.WarnContext(ctx, "notices: preferences not read; tried again", "member", r.member, "err", err)
		return
	}
	if !p.Notice(KindReminder, Default(KindReminder)) {
		settle(now.Add(prefRecheck))
		return
	}
	name, email := r.name, r.email
	if p.Email != "" {
		name, email = p.Name, p.Email
	}
	if email == "" {
		w.skipped.Add(1)
		settle(r.start)
		return
	}
	told, err := w.opt.Outbox.Remembered(ctx, key)
	if err != nil {
		w.log.WarnContext(ctx, "notices: reminders not read; tried again", "err", err)
		return
	}
	if told {
		settle(r.start)
		return
	}
	if r.kind == kindReminderB && w.opt.Bookings != nil {
		b, err := w.opt.Bookings.Lookup(ctx, r.id)
		if err != nil {
			return // gone (nothing to remind), or unreadable now: next sweep
		}
		r.series = &b
	}
	if w.isDeferred(r.member, "reminder|"+key, key) {
		return // waits for the digest
	}
	claim := "notice-reminder:" + key
	ok, err := w.opt.Claims.Claim(ctx, claim, claimTTL)
	if err != nil || !ok {
		return // another replica has it, or the gate fails: next sweep
	}
	// Told by another replica whose claim a flush took away?
	if told, err := w.opt.Outbox.Remembered(ctx, key); err != nil || told {
		w.release(ctx, candidate{claim: claim})
		if told {
			settle(r.start)
		}
		return
	}
	n := BookingNotice{Kind: r.kind, ID: r.id, Room: r.room, Title: r.title, Start: r.start, End: r.end, Owner: r.member,
		By: "roomcal", Same: key, At: now}
	m, body, err := w.reminderMessage(r, p.Lang, name, email)
	if err == nil {
		var ok bool
		if ok, err = w.admit(ctx, r.member, m.MessageID); err == nil && !ok {
			// Past the member's cap: in the digest.
			w.release(ctx, candidate{claim: claim})
			w.hold(r.member, "reminder|"+key, deferredNotice{
				mark: key, file: r.id, body: body, msg: m,
				owed: func(ctx context.Context) (bool, error) {
					told, err := w.opt.Outbox.Remembered(ctx, key)
					return !told, err
				},
				told: func(ctx context.Context) error { return w.opt.Outbox.Remember(ctx, n) },
			})
			return
		}
	}
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = w.opt.Mailer.Send(sctx, m)
		cancel()
	}
	if err != nil {
		w.failed.Add(1)
		w.release(ctx, candidate{claim: claim})
		settle(now.Add(w.opt.Backoff))
		w.log.WarnContext(ctx, "notices: reminder not sent; tried again", "entry", r.id, "member", r.member, "err", err)
		return
	}
	w.sent.Add(1)
	w.log.InfoContext(ctx, "notice sent", "entry", r.id, "member", r.member, "kind", r.kind)
	settle(r.start)
	if err := w.opt.Outbox.Remember(ctx, n); err != nil {
		// The claim stays until it expires; a replica may remind again
		// after that.
		w.log.WarnContext(ctx, "notices: reminder sent but not recorded", "entry", r.id, "member", r.member, "err", err)
	}
}

// reminderMessage builds the message of reminder r, and what a digest
// says of it.
func (w *Worker) reminderMessage(r reminder, lng, name, email string) (Message, Body, error) {
	where := r.where
	if where == "" {
		where = w.place(r.room)
	}
	title := r.title
	if title == "" {
		title = where
	}
	loc := w.zoneOf(r.room)
	if loc == nil {
		loc = w.opt.Zone
	}
	url := w.link("/mes-reservations")
	if r.kind == kindReminderE {
		url = w.link("/evenements/" + r.id)
	}
	b := Body{Kind: r.kind, Lang: lng, Name: name, Title: title, Start: r.start.In(loc), End: r.end.In(loc), Where: where,
		Confirmed: r.confirmed, URL: url, Off: w.opt.Unsubscribe(r.member, KindReminder)}
	// The invitation changes nothing in the member's calendar app: an
	// event's is at its own SEQUENCE (later changes of the event still
	// update it); a booking's is the booking as its record has it, at
	// the SEQUENCE of its last write (bookingSequence). For an
	// occurrence of a recurring booking it is the whole series (its
	// RRULE and EXDATEs from the first occurrence): one entry of the
	// series' UID alone would replace the series in the member's
	// calendar.
	e := Entry{
		UID: r.id, Sequence: r.seq, Title: title, Location: where, Start: b.Start, End: b.End,
		Organizer: Person{Name: "roomcal", Email: addrOf(w.opt.From)}, Attendee: Person{Name: name, Email: email},
		PartStat: "ACCEPTED", URL: url,
	}
	if s := r.series; s != nil {
		e.Sequence = w.bookingSequence(*s)
		e.Description = s.Description
		if s.Recurrence != "" {
			e.Start, e.End, e.RRule = s.Start.In(loc), s.End.In(loc), s.Recurrence
			e.ExDates = s.Skipped
		}
	} else if e.Sequence < 0 {
		e.Sequence = sequenceAt(w.opt.Now())
	}
	ics, err := w.opt.Invitations.Invitation("REQUEST", e)
	if err != nil {
		return Message{}, Body{}, err
	}
	return Message{
		To: address(name, email), Subject: b.Subject(), Text: b.Text(), HTML: b.HTML(), Calendar: ics, Method: "REQUEST",
		MessageID: w.messageID(r.kind, r.id, r.member, r.same()), Date: w.opt.Now(), Unsubscribe: b.Off, Lang: lang(lng),
	}, b, nil
}
