package notices

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// Booking notices (Options.Outbox): decided by the booking service
// before it writes the change (an admin's cancel or move, an approver's
// answer, a lapse, a no-show release) or found by a sync pass before the
// gate forgets the old state (a deletion, a move or a conflict straight
// in the calendar), and recorded in the outbox first. The worker tells
// the owner once Window has passed since the last change to the booking
// (changes within it make one message), after checking the notice
// against the booking's record: a removal is told once the booking is
// gone, a move once the record has the new times, an acceptance once it
// is no longer a request. A notice the record contradicts (its change
// failed, or was undone) is dropped, silently, Settle after it was
// recorded. Replicas claim each one as they claim event notices; the
// told mark is written in the outbox.
//
// Invitations: METHOD:CANCEL of the booking's UID for a removal, a
// refusal or a lapse; METHOD:REQUEST with the booking as it is now for
// the others. A booking's SEQUENCE is not kept where a message can read
// it (the object of a removed booking is gone), so the seconds since
// 2020 at the change stand in: later changes have higher ones.

// Settle is how long a notice the record contradicts is kept before it
// is dropped (a write slower than Window is then still told).
const Settle = 10 * time.Minute

// HintOutbox says a notice was just recorded: the worker looks at the
// outbox once its window passed (and at once for a due one).
func (w *Worker) HintOutbox() {
	w.Hint(outboxHint)
}

// sequenceAt is the SEQUENCE of a booking's invitation for a change at t.
func sequenceAt(t time.Time) int {
	return int(t.Sub(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) / time.Second)
}

// bookingSequence is the SEQUENCE of an invitation of booking b as its
// record has it: that of its last write (LAST-MODIFIED), at least that
// of any notice of a change to it, recorded before the change was
// written; now when the record does not say.
func (w *Worker) bookingSequence(b booking.Booking) int {
	if !b.Modified.IsZero() {
		return sequenceAt(b.Modified)
	}
	return sequenceAt(w.opt.Now())
}

const outboxHint = "\x00outbox"

// bookingNotices tells the owners of the booking notices owed, one
// message per booking.
func (w *Worker) bookingNotices(ctx context.Context) {
	if w.opt.Outbox == nil {
		return
	}
	pending, err := w.opt.Outbox.Pending(ctx)
	if err != nil {
		w.log.WarnContext(ctx, "notices: outbox not read; next sweep tries again", "err", err)
		return
	}
	byBooking := map[string][]BookingNotice{}
	for _, n := range pending {
		k := n.ID + "|" + n.Owner
		byBooking[k] = append(byBooking[k], n)
	}
	ids := make([]string, 0, len(byBooking))
	for id := range byBooking {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		g := byBooking[id]
		sort.SliceStable(g, func(i, j int) bool { return g[i].At.Before(g[j].At) })
		w.bookingGroup(ctx, g)
	}
}

// consistent says whether the record (found, or gone) bears n out.
func consistent(n BookingNotice, b booking.Booking, found bool) bool {
	switch {
	case n.removes():
		return !found
	case !found:
		return false
	case n.Kind == string(booking.NoticeAccepted):
		return !b.Pending
	case n.Kind == string(booking.NoticeConflict), n.Kind == KindBooked:
		return true // told as the record is now
	}
	return b.Start.Equal(n.Start) && b.End.Equal(n.End)
}

// bookingGroup tells the owner of one booking its notices owed (g,
// oldest first) in one message: the latest one the record bears out.
func (w *Worker) bookingGroup(ctx context.Context, g []BookingNotice) {
	now := w.opt.Now()
	latest := g[len(g)-1]
	k := "booking|" + latest.ID + "|" + latest.Owner
	w.mu.Lock()
	at, waiting := w.retryAt[k]
	w.mu.Unlock()
	if waiting && now.Before(at) {
		w.schedule(outboxHint, at)
		return
	}
	if ready := latest.At.Add(w.opt.Window); now.Before(ready) {
		w.schedule(outboxHint, ready)
		return
	}
	var rec booking.Booking
	found := false
	if w.opt.Bookings != nil && !latest.isEvent() {
		b, err := w.opt.Bookings.Lookup(ctx, latest.ID)
		switch {
		case err == nil:
			rec, found = b, true
		case !errors.Is(err, booking.ErrNotFound):
			w.log.WarnContext(ctx, "notices: booking not read; next sweep tries again", "booking", latest.ID, "err", err)
			return
		}
	}
	pick := -1
	for i := len(g) - 1; i >= 0; i-- {
		if consistent(g[i], rec, found) {
			pick = i
			break
		}
	}
	done := func(upTo int) {
		for _, n := range g[:upTo+1] {
			if err := w.opt.Outbox.Done(ctx, n); err != nil {
				w.log.WarnContext(ctx, "notices: booking notice not marked told; tried again", "booking", n.ID, "err", err)
				return
			}
		}
		w.clear(k)
	}
	if pick < 0 {
		// Not borne out (yet): a change that failed is dropped once it
		// settled.
		for _, n := range g {
			if now.Sub(n.At) >= Settle {
				if err := w.opt.Outbox.Done(ctx, n); err != nil {
					w.log.WarnContext(ctx, "notices: booking notice not dropped; tried again", "booking", n.ID, "err", err)
				}
				w.log.InfoContext(ctx, "notices: booking notice dropped, its change is not in the record", "booking", n.ID, "kind", n.Kind)
			}
		}
		return
	}
	n := g[pick]
	if !n.removes() {
		n.Start, n.End, n.Title = rec.Start, rec.End, rec.Title
	}
	if !n.End.After(now) {
		done(pick) // over: nothing to tell
		return
	}
	setting := n.Setting()
	on, lng, name, email := Default(setting), "fr", n.Name, n.Email
	if w.opt.Preferences != nil {
		p, err := w.opt.Preferences.Preferences(ctx, n.Owner)
		if err != nil {
			w.log.WarnContext(ctx, "notices: preferences not read; tried again", "member", n.Owner, "err", err)
			return
		}
		on, lng = p.Notice(setting, on), p.Lang
		if p.Email != "" {
			name, email = p.Name, p.Email
		}
	}
	if !on {
		done(pick)
		return
	}
	if strings.HasPrefix(n.Owner, "mailto:") {
		email = strings.TrimPrefix(n.Owner, "mailto:") // an attendee added straight in the calendar
	}
	if email == "" {
		w.skipped.Add(1)
		done(pick)
		return
	}
	if w.isDeferred(n.Owner, k, latest.Key+"|"+latest.ETag) {
		return // waits for the digest
	}
	c := candidate{claim: "notice-booking:" + n.Key}
	ok, err := w.opt.Claims.Claim(ctx, c.claim, claimTTL)
	if err != nil || !ok {
		return // another replica has it, or the gate fails: next sweep
	}
	// Read again after claiming: another replica may have told it and
	// marked it meanwhile (its claim since gone with a flush).
	if owed, err := w.opt.Outbox.Owed(ctx, g[pick]); err != nil || !owed {
		w.release(ctx, c)
		return
	}
	m, body, err := w.bookingMessage(n, found, rec, lng, name, email)
	if err == nil {
		var ok bool
		if ok, err = w.admit(ctx, n.Owner, m.MessageID); err == nil && !ok {
			// Past the member's cap: in the digest.
			w.release(ctx, c)
			told := g[:pick+1]
			w.hold(n.Owner, k, deferredNotice{
				mark: latest.Key + "|" + latest.ETag, file: n.ID, body: body, msg: m,
				owed: func(ctx context.Context) (bool, error) { return w.opt.Outbox.Owed(ctx, told[len(told)-1]) },
				told: func(ctx context.Context) error {
					for _, x := range told {
						if err := w.opt.Outbox.Done(ctx, x); err != nil {
							return err
						}
					}
					return nil
				},
			})
			return
		}
	}
	if err == nil {
		err = w.sendBooking(ctx, m, k)
	}
	if err != nil {
		w.failed.Add(1)
		w.release(ctx, c)
		w.mu.Lock()
		w.fails[k]++
		wait := w.opt.Backoff << min(w.fails[k]-1, 20)
		if wait > w.opt.MaxBackoff || wait <= 0 {
			wait = w.opt.MaxBackoff
		}
		w.retryAt[k] = w.opt.Now().Add(wait)
		w.mu.Unlock()
		w.schedule(outboxHint, w.opt.Now().Add(wait))
		w.log.WarnContext(ctx, "notices: booking notice not sent; tried again", "booking", n.ID, "retry_in", wait, "err", err)
		return
	}
	w.grouped.Add(int64(pick))
	w.sent.Add(1)
	w.log.InfoContext(ctx, "notice sent", "booking", n.ID, "member", n.Owner, "kind", n.Kind)
	done(pick)
}

// sendBooking sends the message of a booking notice (k names the
// booking and its owner, for the retries).
func (w *Worker) sendBooking(ctx context.Context, m Message, k string) error {
	w.mu.Lock()
	retry := w.fails[k] > 0
	w.mu.Unlock()
	if retry {
		w.retried.Add(1)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return w.opt.Mailer.Send(sctx, m)
}

// bookingMessage builds the message of booking notice n, and what a
// digest says of it.
func (w *Worker) bookingMessage(n BookingNotice, found bool, rec booking.Booking, lng, name, email string) (Message, Body, error) {
	where := w.place(n.Room)
	if where == "" {
		where = n.Where
	}
	title := n.Title
	if title == "" {
		title = where
	}
	kind, url := n.Kind, w.link("/mes-reservations")
	switch kind {
	case "":
		kind = KindBookingRemoved
	case KindEventDeleted:
		kind, url = KindEventCancelled, w.link("/evenements")
	case KindBooked:
		if found && rec.Pending {
			kind = kindBookedPending
		}
	}
	b := Body{Kind: kind, Lang: lng, Name: name, Title: title, Start: n.Start, End: n.End, Where: where,
		URL: url, Off: w.opt.Unsubscribe(n.Owner, n.Setting()), Note: n.Reason}
	if kind == string(booking.NoticeReleased) {
		b.Note = "" // the note is the lead's
	}
	loc := w.zoneOf(n.Room)
	if loc == nil {
		loc = w.opt.Zone // an event not in a room: the organisation's
	}
	b.Start, b.End = n.Start.In(loc), n.End.In(loc)
	method := "REQUEST"
	if n.removes() {
		method = "CANCEL"
	}
	// A request not answered yet, or a registrant who was waiting for a
	// seat: TENTATIVE (they asked to come, nothing is asked of them), as
	// the events' own invitations say of waiting registrants.
	ps := "ACCEPTED"
	if found && rec.Pending || n.Waiting {
		ps = "TENTATIVE"
	}
	e := Entry{
		UID: n.ID, Sequence: sequenceAt(n.At), Title: title, Location: where, Description: rec.Description,
		Start: b.Start, End: b.End, Organizer: Person{Name: "roomcal", Email: addrOf(w.opt.From)},
		Attendee: Person{Name: name, Email: email}, PartStat: ps, Cancelled: method == "CANCEL", URL: b.URL,
	}
	if found && method == "REQUEST" && rec.Recurrence != "" {
		// A series: the whole of it (a lone entry of its UID would
		// replace the series in the member's calendar).
		e.RRule, e.ExDates = rec.Recurrence, rec.Skipped
	}
	ics, err := w.opt.Invitations.Invitation(method, e)
	if err != nil {
		return Message{}, Body{}, err
	}
	return Message{
		To: address(name, email), Subject: b.Subject(), Text: b.Text(), HTML: b.HTML(), Calendar: ics, Method: method,
		MessageID: w.messageID(kind, n.ID, n.Owner, n.Key), Date: w.opt.Now(), Unsubscribe: b.Off, Lang: lang(lng),
	}, b, nil
}

// place is "Salle Loire, Nantes" for a room ("" when unknown).
func (w *Worker) place(room string) string {
	if w.opt.Places == nil {
		return ""
	}
	r, site := w.opt.Places.Place(room)
	if r != "" && site != "" {
		return r + ", " + site
	}
	return r
}

// zoneOf is the time zone of a room's site (nil when unknown).
func (w *Worker) zoneOf(room string) *time.Location {
	if w.opt.RoomZone == nil {
		return nil
	}
	return w.opt.RoomZone(room)
}

// prune deletes the told notices of the outbox kept past Retention, at
// most once per PruneEvery across replicas (a claim left to expire).
func (w *Worker) prune(ctx context.Context) {
	if w.opt.Outbox == nil {
		return
	}
	ok, err := w.opt.Claims.Claim(ctx, "notice-prune", w.opt.PruneEvery)
	if err != nil || !ok {
		return
	}
	n, err := w.opt.Outbox.Prune(ctx, w.opt.Now().Add(-w.opt.Retention))
	w.pruned.Add(int64(n))
	if err != nil {
		w.log.WarnContext(ctx, "notices: outbox not pruned; tried again later", "pruned", n, "err", err)
		return
	}
	if n > 0 {
		w.log.InfoContext(ctx, "notices: told notices pruned from the outbox", "pruned", n)
	}
}
