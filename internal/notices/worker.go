package notices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
)

// Options configure a Worker.
type Options struct {
	Events      Events
	Mailer      Mailer
	Claims      Claims
	Invitations Invitations
	Preferences Preferences // nil: every kind at its default, French
	Places      Places      // nil: an event's location text only
	// PublicURL is where members reach roomcal (links in messages).
	PublicURL string
	// From is the sender's address, the ORGANIZER of invitations for an
	// event whose organiser has no address, and the Message-ID domain.
	From string
	// Unsubscribe returns the link that turns kind off for member ("" for
	// none).
	Unsubscribe func(member, kind string) string
	// Window groups the changes to one event for one member (default
	// 60s); Sweep is how often the events calendar is checked (default
	// 1m); Backoff and MaxBackoff bound the waits after a failed send
	// (default 5s doubling up to 10m).
	Window, Sweep, Backoff, MaxBackoff time.Duration
	// DailyCap is how many messages one member gets a day, every kind
	// together (default 10).
	DailyCap int
	// Sent records the messages each member is sent a day, so that the
	// gate's daily count, lost in a flush, is rebuilt (nil: counted in
	// the gate only).
	Sent SentLog
	// Zone is the organisation's time zone: days (for DailyCap) and the
	// digest's hour are counted in it (default UTC).
	Zone *time.Location
	// DigestAt says when notices held back at t by DailyCap go out in
	// one digest (default: 07:00 the next day in Zone).
	DigestAt func(t time.Time) time.Time
	// Outbox keeps the booking notices owed (nil: bookings are not
	// told); Bookings reads a booking as it is now, to check a notice
	// against its record; RoomZone gives a room's time zone for their
	// times.
	Outbox   Outbox
	Bookings Bookings
	RoomZone func(room string) *time.Location
	// Upcoming and EventList list what starts soon, for the day-before
	// reminders (opt-in; nil: none); RemindAt says when the reminder of
	// something starting at start goes out (default: 17:00 the day
	// before, in Zone).
	Upcoming  Upcoming
	EventList EventList
	RemindAt  func(start time.Time) time.Time
	// Retention is how long told notices are kept in the outbox after
	// they were told and their entry ended (default 7 days); PruneEvery
	// how often, across replicas, they are pruned (default 6h).
	Retention, PruneEvery time.Duration
	Logger                *slog.Logger
	Now                   func() time.Time
}

// Stats count what the Worker did since it started (metrics).
type Stats struct {
	Sent             int64 // messages the SMTP server accepted (digests included)
	Failed           int64 // sends that failed (each is tried again)
	Retried          int64 // sends that were a retry after a failure
	Grouped          int64 // changes folded into a notice already waiting
	SkippedNoAddress int64 // notices not sent: the member has no address
	Pruned           int64 // told notices deleted from the outbox
	Deferred         int64 // notices held back for the daily digest
	Digests          int64 // digests sent
}

// Worker sends the notices of one replica (see the package doc).
type Worker struct {
	opt   Options
	log   *slog.Logger
	hints chan string

	mu sync.Mutex
	// due: when to look at an event next.
	due map[string]time.Time
	// first and firstMark: when a difference for event|member was first
	// seen and what it was (grouping).
	first     map[string]time.Time
	firstMark map[string]string
	// fails and retryAt: consecutive failed sends of event|member and
	// when to try again.
	fails   map[string]int
	retryAt map[string]time.Time
	// owed: Told values sent but not written yet, by event then member.
	owed map[string]map[string]string
	// deferred: notices held back for the digest, by member then what
	// they are about (deferKey).
	deferred map[string]map[string]deferredNotice
	digestAt time.Time
	token    string
	// reminded: reminders settled by this process (told, or turned off
	// until the time given), by key.
	reminded map[string]time.Time

	sent, failed, retried, grouped, skipped, deferredN, digests, pruned atomic.Int64
}

// deferredNotice is a notice held back by the daily cap: what the
// digest says of it, and how it is checked and marked told.
type deferredNotice struct {
	// mark names the state deferred: the same notice, owed again, is not
	// counted again while it waits.
	mark string
	// file names its invitation in the digest (the entry's UID).
	file string
	body Body
	msg  Message
	// owed reports whether it is still owed as deferred; told marks it
	// told once the digest is sent; again (nil: nothing) looks at it
	// anew when it is not in a digest after all.
	owed  func(context.Context) (bool, error)
	told  func(context.Context) error
	again func()
}

// New checks opts and returns a Worker; Run starts it.
func New(opts Options) (*Worker, error) {
	if opts.Events == nil || opts.Mailer == nil || opts.Claims == nil || opts.Invitations == nil {
		return nil, errors.New("notices: events, mailer, claims and invitations are required")
	}
	if opts.Window <= 0 {
		opts.Window = time.Minute
	}
	if opts.Sweep <= 0 {
		opts.Sweep = time.Minute
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 5 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Minute
	}
	if opts.DailyCap <= 0 {
		opts.DailyCap = 10
	}
	if opts.Zone == nil {
		opts.Zone = time.UTC
	}
	if opts.DigestAt == nil {
		zone := opts.Zone
		opts.DigestAt = func(t time.Time) time.Time {
			d := t.In(zone).AddDate(0, 0, 1)
			return time.Date(d.Year(), d.Month(), d.Day(), 7, 0, 0, 0, zone)
		}
	}
	if opts.RemindAt == nil {
		zone := opts.Zone
		opts.RemindAt = func(start time.Time) time.Time {
			d := start.In(zone).AddDate(0, 0, -1)
			return time.Date(d.Year(), d.Month(), d.Day(), 17, 0, 0, 0, zone)
		}
	}
	if opts.Retention <= 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	if opts.PruneEvery <= 0 {
		opts.PruneEvery = 6 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Unsubscribe == nil {
		opts.Unsubscribe = func(string, string) string { return "" }
	}
	return &Worker{
		opt: opts, log: opts.Logger, hints: make(chan string, 1024),
		due: map[string]time.Time{}, first: map[string]time.Time{}, firstMark: map[string]string{},
		fails: map[string]int{}, retryAt: map[string]time.Time{}, owed: map[string]map[string]string{},
		deferred: map[string]map[string]deferredNotice{}, reminded: map[string]time.Time{},
	}, nil
}

// Stats returns the counters.
func (w *Worker) Stats() Stats {
	return Stats{Sent: w.sent.Load(), Failed: w.failed.Load(), Retried: w.retried.Load(), Grouped: w.grouped.Load(),
		SkippedNoAddress: w.skipped.Load(), Deferred: w.deferredN.Load(), Digests: w.digests.Load(), Pruned: w.pruned.Load()}
}

// NoticeCounts gives the counters by outcome, as /metrics shows them.
func (w *Worker) NoticeCounts() map[string]int64 {
	st := w.Stats()
	return map[string]int64{"sent": st.Sent, "failed": st.Failed, "retried": st.Retried, "grouped": st.Grouped,
		"skipped_no_address": st.SkippedNoAddress, "deferred": st.Deferred, "digests": st.Digests, "pruned": st.Pruned}
}

// Hint says that event id was just written: the Worker looks at it soon.
// It never blocks (a hint dropped is found by the next sweep).
func (w *Worker) Hint(id string) {
	select {
	case w.hints <- id:
	default:
	}
}

// Run sends notices until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	sweep := time.NewTicker(w.opt.Sweep)
	defer sweep.Stop()
	w.sweep(ctx)
	for {
		wait := w.nextWait()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case id := <-w.hints:
			w.schedule(id, w.opt.Now())
		case <-sweep.C:
			w.sweep(ctx)
		case <-t.C:
		}
		t.Stop()
		w.runDue(ctx)
	}
}

// nextWait is how long until the next event to look at (or the digest).
func (w *Worker) nextWait() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.opt.Now()
	next := now.Add(w.opt.Sweep)
	for _, at := range w.due {
		if at.Before(next) {
			next = at
		}
	}
	if !w.digestAt.IsZero() && w.digestAt.Before(next) {
		next = w.digestAt
	}
	if d := next.Sub(now); d > 0 {
		return d
	}
	return 0
}

func (w *Worker) schedule(id string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur, ok := w.due[id]; !ok || at.Before(cur) {
		w.due[id] = at
	}
}

// runDue looks at every event whose time came, then sends the digest if
// its time came.
func (w *Worker) runDue(ctx context.Context) {
	now := w.opt.Now()
	w.mu.Lock()
	var ids []string
	for id, at := range w.due {
		if !at.After(now) {
			ids = append(ids, id)
			delete(w.due, id)
		}
	}
	digest := !w.digestAt.IsZero() && !w.digestAt.After(now)
	w.mu.Unlock()
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		if id == outboxHint {
			w.bookingNotices(ctx)
			continue
		}
		w.process(ctx, id)
	}
	if digest && ctx.Err() == nil {
		w.sendDigests(ctx)
	}
}

// sweep lists the events changed since the last sweep (all of them the
// first time) and looks at each soon.
func (w *Worker) sweep(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ch, err := w.opt.Events.Changes(sctx, w.token)
	if err != nil {
		if ctx.Err() == nil {
			w.log.WarnContext(ctx, "notices: events calendar not listed; next sweep tries again", "err", err)
		}
		w.bookingNotices(ctx)
		return
	}
	now := w.opt.Now()
	for _, ref := range ch.Changed {
		w.schedule(ref.ID, now)
	}
	w.token = ch.Token
	w.bookingNotices(ctx)
	w.reminders(ctx)
	w.prune(ctx)
}

// key names one member's notices about one event.
func key(event, member string) string { return event + "|" + member }

// classify says what a registrant is owed: a kind to send, or a
// baseline to write silently (baseline true, kind ""), or nothing.
func classify(told, cur string) (kind string, baseline bool) {
	if told == cur {
		return "", false
	}
	isNew, tStatus, tCancelled, tPlace, ok := events.MarkParts(told)
	if !ok {
		return "", true // predates notices, added outside, or unreadable
	}
	_, cStatus, cCancelled, cPlace, _ := events.MarkParts(cur)
	switch {
	case cCancelled && !tCancelled:
		return KindEventCancelled, false
	case cCancelled:
		return "", true // was told of the cancellation already
	case tStatus == events.Waitlisted && cStatus == events.Confirmed:
		return KindPromoted, false
	case tPlace != cPlace || tCancelled:
		return KindEventChanged, false
	case isNew:
		return KindConfirmation, false
	}
	return "", true // confirmed back to waiting: never told (roomcal never does it)
}

// candidate is a notice owed to one registrant.
type candidate struct {
	reg    events.Registration
	kind   string
	mark   string
	claim  string
	lang   string
	retry  bool
	before string // Told when decided
}

// process looks at one event: what each registrant is owed, sent once
// its window passed, then the Told marks written.
func (w *Worker) process(ctx context.Context, id string) {
	rec, err := w.opt.Events.Record(ctx, id)
	if errors.Is(err, booking.ErrNotFound) {
		w.forget(id)
		return
	}
	if err != nil {
		w.log.WarnContext(ctx, "notices: event not read; tried again", "event", id, "err", err)
		w.schedule(id, w.opt.Now().Add(w.opt.Backoff))
		return
	}
	now := w.opt.Now()
	if !rec.Event.End.After(now) {
		w.forget(id) // over: nothing to tell any more
		return
	}
	w.mu.Lock()
	told := map[string]string{}
	for m, t := range w.owed[id] {
		told[m] = t
	}
	w.mu.Unlock()

	var cands []candidate
	for _, r := range rec.Registrations {
		cur := events.Mark(r, rec.Event)
		k := key(id, r.Member)
		if t, ok := told[r.Member]; ok {
			r.Told = t // sent already, not written yet
		}
		kind, baseline := classify(r.Told, cur)
		if kind == "" {
			if baseline {
				told[r.Member] = cur
			}
			w.clear(k)
			continue
		}
		c, ready := w.ready(k, cur, now)
		if !ready {
			w.schedule(id, c)
			continue
		}
		if w.isDeferred(r.Member, id, cur) {
			continue // waits for the digest
		}
		cands = append(cands, candidate{reg: r, kind: kind, mark: cur, before: r.Told})
	}

	cands = w.filterByPreferences(ctx, id, cands, told)
	if len(cands) > 0 {
		cands = w.claim(ctx, id, cands)
	}
	if len(cands) > 0 {
		// Read again after claiming: another replica may have sent and
		// marked meanwhile (its claim since expired), or the event moved
		// on (then the next look sends the newer state).
		again, err := w.opt.Events.Record(ctx, id)
		if err != nil {
			w.releaseAll(ctx, cands)
			w.schedule(id, now.Add(w.opt.Backoff))
			return
		}
		cands = w.stillOwed(ctx, id, cands, again)
		rec = again
	}
	for _, c := range cands {
		if held, err := w.capped(ctx, id, rec, c); err != nil {
			w.failedSend(ctx, id, c, err)
			continue
		} else if held {
			continue
		}
		if err := w.send(ctx, rec, c); err != nil {
			w.failedSend(ctx, id, c, err)
			continue
		}
		told[c.reg.Member] = c.mark
		w.clear(key(id, c.reg.Member))
	}
	w.writeTold(ctx, id, told)
}

// ready says whether the notice of k (now about mark) has waited its
// window; it counts a change folded into a waiting notice.
func (w *Worker) ready(k, mark string, now time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.first[k]
	if !ok {
		w.first[k], w.firstMark[k] = now, mark
		return now.Add(w.opt.Window), false
	}
	if w.firstMark[k] != mark {
		w.firstMark[k] = mark
		w.grouped.Add(1)
	}
	if at := f.Add(w.opt.Window); now.Before(at) {
		return at, false
	}
	if at, ok := w.retryAt[k]; ok && now.Before(at) {
		return at, false
	}
	return now, true
}

func (w *Worker) clear(k string) {
	w.mu.Lock()
	delete(w.first, k)
	delete(w.firstMark, k)
	delete(w.fails, k)
	delete(w.retryAt, k)
	w.mu.Unlock()
}

func (w *Worker) forget(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	prefix := id + "|"
	for k := range w.first {
		if strings.HasPrefix(k, prefix) {
			delete(w.first, k)
			delete(w.firstMark, k)
			delete(w.fails, k)
			delete(w.retryAt, k)
		}
	}
	delete(w.owed, id)
	delete(w.due, id)
}

// filterByPreferences drops the notices a member turned off (their Told
// is then written without a message) and those to members without an
// address (counted), and notes each member's language.
func (w *Worker) filterByPreferences(ctx context.Context, id string, cands []candidate, told map[string]string) []candidate {
	out := cands[:0]
	for _, c := range cands {
		on, lng := Default(c.kind), "fr"
		if w.opt.Preferences != nil && !strings.HasPrefix(c.reg.Member, "mailto:") {
			p, err := w.opt.Preferences.Preferences(ctx, c.reg.Member)
			if err != nil {
				w.log.WarnContext(ctx, "notices: preferences not read; tried again", "member", c.reg.Member, "err", err)
				w.schedule(id, w.opt.Now().Add(w.opt.Backoff))
				continue
			}
			on, lng = p.Notice(c.kind, on), p.Lang
		}
		if !on {
			told[c.reg.Member] = c.mark
			w.clear(key(id, c.reg.Member))
			continue
		}
		if c.reg.Email == "" {
			w.skipped.Add(1)
			told[c.reg.Member] = c.mark
			w.clear(key(id, c.reg.Member))
			continue
		}
		c.lang = lng
		out = append(out, c)
	}
	return out
}

// claimTTL bounds how long a claimed notice waits for its sender.
const claimTTL = 10 * time.Minute

// claim takes each notice in the gate; one another replica holds is
// left to it (looked at again later, in case it gives up).
func (w *Worker) claim(ctx context.Context, id string, cands []candidate) []candidate {
	out := cands[:0]
	for _, c := range cands {
		c.claim = "notice:" + id + ":" + c.reg.Member + ":" + c.mark
		ok, err := w.opt.Claims.Claim(ctx, c.claim, claimTTL)
		if err != nil {
			w.log.WarnContext(ctx, "notices: claim failed; tried again", "event", id, "err", err)
			w.schedule(id, w.opt.Now().Add(w.opt.Backoff))
			continue
		}
		if !ok {
			w.schedule(id, w.opt.Now().Add(w.opt.Sweep))
			continue
		}
		out = append(out, c)
	}
	return out
}

func (w *Worker) releaseAll(ctx context.Context, cands []candidate) {
	for _, c := range cands {
		w.release(ctx, c)
	}
}

func (w *Worker) release(ctx context.Context, c candidate) {
	if err := w.opt.Claims.Release(context.WithoutCancel(ctx), c.claim); err != nil {
		w.log.WarnContext(ctx, "notices: claim not released; it expires", "claim", c.claim, "err", err)
	}
}

// stillOwed keeps the claimed notices that the record read again still
// owes, unchanged.
func (w *Worker) stillOwed(ctx context.Context, id string, cands []candidate, rec events.Record) []candidate {
	now := map[string]events.Registration{}
	for _, r := range rec.Registrations {
		now[r.Member] = r
	}
	out := cands[:0]
	for _, c := range cands {
		r, ok := now[c.reg.Member]
		if !ok || r.Told != c.reg.Told && r.Told != c.before || events.Mark(r, rec.Event) != c.mark {
			w.release(ctx, c)
			w.schedule(id, w.opt.Now())
			continue
		}
		c.reg = r
		out = append(out, c)
	}
	return out
}

// admit counts message msgID to member against their day, every kind
// of notice together (Claims.Count, decided in the gate): false when the
// cap is reached. A message admitted is recorded in the Sent log before
// it is sent, so that a flush of the gate rebuilds the day's count from
// it; a message admitted again (a retry) is not counted twice.
func (w *Worker) admit(ctx context.Context, member, msgID string) (bool, error) {
	day := w.opt.Now().In(w.opt.Zone).Format("2006-01-02")
	tok := msgToken(msgID)
	var seed func(context.Context) ([]string, error)
	if w.opt.Sent != nil {
		seed = func(ctx context.Context) ([]string, error) { return w.opt.Sent.Sent(ctx, member, day) }
	}
	_, ok, err := w.opt.Claims.Count(ctx, "notices-day:"+member+":"+day, tok, w.opt.DailyCap, 48*time.Hour, seed)
	if err != nil || !ok {
		return false, err
	}
	if w.opt.Sent != nil {
		if err := w.opt.Sent.Record(ctx, member, day, tok); err != nil {
			return false, err
		}
	}
	return true, nil
}

// msgToken is the short name of a message in the day's count and log.
func msgToken(msgID string) string {
	sum := sha256.Sum256([]byte(msgID))
	return hex.EncodeToString(sum[:8])
}

// hold keeps a notice the cap held back for member's digest (at
// DigestAt of now, unless one is due earlier).
func (w *Worker) hold(member, key string, d deferredNotice) {
	w.mu.Lock()
	if w.deferred[member] == nil {
		w.deferred[member] = map[string]deferredNotice{}
	}
	w.deferred[member][key] = d
	if w.digestAt.IsZero() {
		w.digestAt = w.opt.DigestAt(w.opt.Now())
	}
	w.mu.Unlock()
	w.deferredN.Add(1)
}

// capped counts an event's notice against the member's day; past the
// cap the notice waits for the digest (its claim is given back).
func (w *Worker) capped(ctx context.Context, id string, rec events.Record, c candidate) (bool, error) {
	m, err := w.message(rec, c)
	if err != nil {
		return false, err
	}
	ok, err := w.admit(ctx, c.reg.Member, m.MessageID)
	if err != nil || ok {
		return false, err
	}
	w.release(ctx, c)
	member, before, mark := c.reg.Member, c.before, c.mark
	w.hold(member, id, deferredNotice{
		mark: mark, file: id, body: w.body(rec, c), msg: m,
		owed: func(ctx context.Context) (bool, error) {
			rec, err := w.opt.Events.Record(ctx, id)
			if err != nil {
				return false, nil // gone or unreadable: the event's next look decides
			}
			for _, r := range rec.Registrations {
				if r.Member == member {
					return r.Told == before && events.Mark(r, rec.Event) == mark, nil
				}
			}
			return false, nil
		},
		told:  func(ctx context.Context) error { w.writeTold(ctx, id, map[string]string{member: mark}); return nil },
		again: func() { w.schedule(id, w.opt.Now()) },
	})
	return true, nil
}

func (w *Worker) isDeferred(member, key, mark string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.deferred[member][key]
	return ok && d.mark == mark
}

// failedSend gives the claim back and schedules a retry with backoff.
func (w *Worker) failedSend(ctx context.Context, id string, c candidate, err error) {
	w.failed.Add(1)
	w.release(ctx, c)
	k := key(id, c.reg.Member)
	w.mu.Lock()
	w.fails[k]++
	n := w.fails[k]
	wait := w.opt.Backoff << min(n-1, 20)
	if wait > w.opt.MaxBackoff || wait <= 0 {
		wait = w.opt.MaxBackoff
	}
	at := w.opt.Now().Add(wait)
	w.retryAt[k] = at
	w.mu.Unlock()
	w.schedule(id, at)
	w.log.WarnContext(ctx, "notices: message not sent; tried again", "event", id, "member", c.reg.Member,
		"kind", c.kind, "attempt", n, "retry_in", wait, "err", err)
}

// writeTold writes the Told marks; what cannot be written now is kept
// (the messages went out) and written at the next look.
func (w *Worker) writeTold(ctx context.Context, id string, told map[string]string) {
	if len(told) == 0 {
		return
	}
	err := w.opt.Events.MarkTold(ctx, id, told)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.owed[id] == nil {
			w.owed[id] = map[string]string{}
		}
		for m, t := range told {
			w.owed[id][m] = t
		}
		w.due[id] = w.opt.Now().Add(w.opt.Backoff)
		w.log.WarnContext(ctx, "notices: told marks not written; tried again", "event", id, "err", err)
		return
	}
	delete(w.owed, id)
}

// send builds and sends one notice.
func (w *Worker) send(ctx context.Context, rec events.Record, c candidate) error {
	w.mu.Lock()
	retry := w.fails[key(rec.Event.ID, c.reg.Member)] > 0
	w.mu.Unlock()
	if retry {
		w.retried.Add(1)
	}
	m, err := w.message(rec, c)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := w.opt.Mailer.Send(sctx, m); err != nil {
		return err
	}
	w.sent.Add(1)
	w.log.InfoContext(ctx, "notice sent", "event", rec.Event.ID, "member", c.reg.Member, "kind", c.kind)
	return nil
}

// body is what the member reads of notice c.
func (w *Worker) body(rec events.Record, c candidate) Body {
	ev := rec.Event
	return Body{
		Kind: c.kind, Lang: c.lang, Name: c.reg.Name, Title: ev.Title, Start: ev.Start, End: ev.End,
		Where: w.where(ev), Confirmed: c.reg.Status == events.Confirmed,
		URL: w.link("/evenements/" + ev.ID), Off: w.opt.Unsubscribe(c.reg.Member, c.kind),
	}
}

func (w *Worker) link(path string) string {
	if w.opt.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(w.opt.PublicURL, "/") + path
}

// where is the event's place: "Salle Loire, Nantes", or its location.
func (w *Worker) where(ev events.Event) string {
	if ev.Room != "" && w.opt.Places != nil {
		if room, site := w.opt.Places.Place(ev.Room); room != "" {
			if site != "" {
				return room + ", " + site
			}
			return room
		}
	}
	return ev.Location
}

// entry is the invitation of notice c.
func (w *Worker) entry(rec events.Record, c candidate) Entry {
	ev := rec.Event
	org := Person{Name: ev.Organizer.Name, Email: ev.Organizer.Email}
	if org.Email == "" {
		org = Person{Name: "roomcal", Email: addrOf(w.opt.From)}
	}
	ps := "TENTATIVE"
	if c.reg.Status == events.Confirmed {
		ps = "ACCEPTED"
	}
	return Entry{
		UID: ev.ID, Sequence: rec.Sequence, Title: ev.Title, Description: ev.Description, Location: w.where(ev),
		Start: ev.Start, End: ev.End, Organizer: org, Attendee: Person{Name: c.reg.Name, Email: c.reg.Email},
		PartStat: ps, Cancelled: c.kind == KindEventCancelled, URL: w.link("/evenements/" + ev.ID),
	}
}

func (w *Worker) message(rec events.Record, c candidate) (Message, error) {
	b := w.body(rec, c)
	method := "REQUEST"
	if c.kind == KindEventCancelled {
		method = "CANCEL"
	}
	ics, err := w.opt.Invitations.Invitation(method, w.entry(rec, c))
	if err != nil {
		return Message{}, fmt.Errorf("invitation for event %s: %w", rec.Event.ID, err)
	}
	return Message{
		To: address(c.reg.Name, c.reg.Email), Subject: b.Subject(), Text: b.Text(), HTML: b.HTML(),
		Calendar: ics, Method: method, MessageID: w.messageID(c.kind, rec.Event.ID, c.reg.Member, c.mark),
		Date: w.opt.Now(), Unsubscribe: b.Off, Lang: lang(c.lang),
	}, nil
}

// messageID is the same for the same notice, so that a message sent
// again after a crash is recognised as the same by mail clients.
func (w *Worker) messageID(kind, event, member, mark string) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%s|%s", kind, event, member, mark)
	domain := "roomcal.invalid"
	if a := addrOf(w.opt.From); strings.Contains(a, "@") {
		domain = a[strings.LastIndex(a, "@")+1:]
	}
	return kind + "." + strconv.FormatUint(h.Sum64(), 36) + "@" + domain
}

// addrOf returns the address of "Name <address>" (or the value itself).
func addrOf(v string) string {
	if i, j := strings.LastIndex(v, "<"), strings.LastIndex(v, ">"); i >= 0 && j > i {
		return v[i+1 : j]
	}
	return strings.TrimSpace(v)
}

// address writes "Name <email>" with the name quoted.
func address(name, email string) string {
	if name == "" {
		return email
	}
	return strconv.Quote(strings.ReplaceAll(name, `"`, "'")) + " <" + email + ">"
}
