package notices

import (
	"context"
	"time"
)

// Booking removals (Options.Outbox): found by the booking service (an
// admin's cancel, a sync pass finding a deletion straight in the
// calendar) and recorded in the outbox before the removal is forgotten;
// the worker tells each owner once, with a METHOD:CANCEL of the
// booking's UID, then marks it told in the outbox. Replicas claim each
// one as they claim event notices. The owner's address and name are the
// ones recorded in their preferences when they booked.

// HintOutbox says a removal was just recorded: the worker looks at the
// outbox soon.
func (w *Worker) HintOutbox() {
	w.Hint(outboxHint)
}

// cancelSequence is the SEQUENCE of the CANCEL of a removed booking: its
// object is gone, and with it its own SEQUENCE, so the minutes since
// 2020 stand in, higher than any count of edits a booking has had.
func cancelSequence(now time.Time) int {
	return int(now.Sub(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) / time.Minute)
}

const outboxHint = "\x00outbox"

// removals tells the owners of the removals owed.
func (w *Worker) removals(ctx context.Context) {
	if w.opt.Outbox == nil {
		return
	}
	pending, err := w.opt.Outbox.Pending(ctx)
	if err != nil {
		w.log.WarnContext(ctx, "notices: outbox not read; next sweep tries again", "err", err)
		return
	}
	now := w.opt.Now()
	for _, r := range pending {
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		at, waiting := w.retryAt["removal|"+r.Key]
		w.mu.Unlock()
		if waiting && now.Before(at) {
			continue
		}
		w.removal(ctx, r)
	}
}

func (w *Worker) removal(ctx context.Context, r Removal) {
	k := "removal|" + r.Key
	done := func() {
		if err := w.opt.Outbox.Done(ctx, r); err != nil {
			w.log.WarnContext(ctx, "notices: removal not marked told; tried again", "booking", r.ID, "err", err)
			return
		}
		w.clear(k)
	}
	if !r.End.After(w.opt.Now()) {
		done() // over: nothing to tell
		return
	}
	on, lng, name, email := Default(KindBookingRemoved), "fr", "", ""
	if w.opt.Preferences != nil {
		p, err := w.opt.Preferences.Preferences(ctx, r.Owner)
		if err != nil {
			w.log.WarnContext(ctx, "notices: preferences not read; tried again", "member", r.Owner, "err", err)
			return
		}
		on, lng, name, email = p.Notice(KindBookingRemoved, on), p.Lang, p.Name, p.Email
	}
	if !on {
		done()
		return
	}
	if email == "" {
		w.skipped.Add(1)
		done()
		return
	}
	c := candidate{claim: "notice-removal:" + r.Key}
	ok, err := w.opt.Claims.Claim(ctx, c.claim, claimTTL)
	if err != nil || !ok {
		return // another replica has it, or the gate fails: next sweep
	}
	where := ""
	if w.opt.Places != nil {
		if room, site := w.opt.Places.Place(r.Room); room != "" {
			where = room
			if site != "" {
				where += ", " + site
			}
		}
	}
	title := r.Title
	if title == "" {
		title = where
	}
	b := Body{Kind: KindBookingRemoved, Lang: lng, Name: name, Title: title, Start: r.Start, End: r.End, Where: where,
		URL: w.link("/mes-reservations"), Off: w.opt.Unsubscribe(r.Owner, KindBookingRemoved)}
	if loc := w.zoneOf(r.Room); loc != nil {
		b.Start, b.End = r.Start.In(loc), r.End.In(loc)
	}
	ics, err := w.opt.Invitations.Invitation("CANCEL", Entry{
		UID: r.ID, Sequence: cancelSequence(w.opt.Now()), Title: title, Location: where,
		Start: b.Start, End: b.End, Organizer: Person{Name: "roomcal", Email: addrOf(w.opt.From)},
		Attendee: Person{Name: name, Email: email}, PartStat: "ACCEPTED", Cancelled: true, URL: b.URL,
	})
	if err != nil {
		w.release(ctx, c)
		w.log.WarnContext(ctx, "notices: removal invitation not made", "booking", r.ID, "err", err)
		return
	}
	w.mu.Lock()
	retry := w.fails[k] > 0
	w.mu.Unlock()
	if retry {
		w.retried.Add(1)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = w.opt.Mailer.Send(sctx, Message{
		To: address(name, email), Subject: b.Subject(), Text: b.Text(), HTML: b.HTML(), Calendar: ics, Method: "CANCEL",
		MessageID: w.messageID(KindBookingRemoved, r.ID, r.Owner, r.Key), Date: w.opt.Now(), Unsubscribe: b.Off, Lang: lang(lng),
	})
	cancel()
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
		w.log.WarnContext(ctx, "notices: removal not sent; tried again", "booking", r.ID, "retry_in", wait, "err", err)
		return
	}
	w.sent.Add(1)
	w.log.InfoContext(ctx, "notice sent", "booking", r.ID, "member", r.Owner, "kind", KindBookingRemoved)
	done()
}

// zoneOf is the time zone of a room's site (nil when unknown).
func (w *Worker) zoneOf(room string) *time.Location {
	if w.opt.RoomZone == nil {
		return nil
	}
	return w.opt.RoomZone(room)
}
