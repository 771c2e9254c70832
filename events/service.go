package events

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/roomcal/roomcal/booking"
)

// Member is the person acting (the identity layer's).
type Member = booking.Member

// Options configure a Service.
type Options struct {
	Calendar Calendar
	Gate     Gate
	// Rooms books the rooms events are held in; nil when events may not
	// be held in rooms.
	Rooms  Rooms
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// SyncInterval is how often the events calendar is checked for
	// outside edits (default 30s).
	SyncInterval time.Duration
	// WriteTimeout bounds one calendar read or write of an event
	// (default 10s).
	WriteTimeout time.Duration
	// Zone gives the time zone an event's times are kept in: its room's
	// site's ("" for an event not in a room: the organisation's). Nil
	// keeps UTC.
	Zone func(room string) *time.Location
	// Changed, when set, is called (and must not block) after this
	// process wrote an event's object: the notices worker looks at it.
	Changed func(id string)
	// Deleted, when set, is told of an event still to come, not
	// cancelled, whose object was deleted straight in the calendar, with
	// its registrations as the gate held them, before the gate forgets
	// them: an error keeps the event, to be tried again next pass (the
	// notices outbox records one notice per registrant).
	Deleted func(ctx context.Context, ev Event, regs []Registration) error
	// Roster keeps the events to come and their registrants in the
	// calendar store, so that an event deleted straight in the calendar
	// is told even when the gate lost its copy first (roster.go; nil:
	// it is not).
	Roster Roster
}

// Service runs internal events: creation and changes by organisers,
// registrations by members, and the writer that puts every decision of
// the gate into the events calendar before it is acknowledged. It is
// safe for concurrent use; any number of replicas may run over one Gate
// and one Calendar.
type Service struct {
	opt   Options
	cal   Calendar
	g     Gate
	rooms Rooms
	log   *slog.Logger
	now   func() time.Time

	// life ends with Close: the flushers, which outlive the requests
	// that started them, stop then.
	life    context.Context
	endLife context.CancelFunc
	running sync.WaitGroup // the flushers

	mu       sync.Mutex
	flushers map[string]*flusher
	rostered rosterMemo // the roster last written or read (roster.go)

	writes, stale, rollbacks, unknown atomic.Int64
	syncs                             booking.Timings // sync passes over the events calendar (sync.go)
}

// Stats counts what this process did to event objects.
type Stats struct {
	Writes    int64 // conditional PUTs that succeeded
	Stale     int64 // writes that found another version (412)
	Rollbacks int64 // rollbacks of pending decisions after a failed write
	Unknown   int64 // writes whose answer was lost (their outcome learnt by reading back)
}

// Stats returns the counters since the start.
func (s *Service) Stats() Stats {
	return Stats{Writes: s.writes.Load(), Stale: s.stale.Load(), Rollbacks: s.rollbacks.Load(), Unknown: s.unknown.Load()}
}

// NewService checks opts and returns a Service.
func NewService(opts Options) (*Service, error) {
	if opts.Calendar == nil || opts.Gate == nil {
		return nil, errors.New("events: calendar and gate are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = 30 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Zone == nil {
		opts.Zone = func(string) *time.Location { return time.UTC }
	}
	life, end := context.WithCancel(context.Background())
	return &Service{
		opt: opts, cal: opts.Calendar, g: opts.Gate, rooms: opts.Rooms,
		log: opts.Logger, now: opts.Now, flushers: map[string]*flusher{},
		life: life, endLife: end,
	}, nil
}

// Close stops the flushers (a write under way is cut short; what it had
// not written is rolled back by the next writer, or rebuilt from the
// calendar) and waits for them. Callers still waiting get
// ErrUnavailable. Stop serving requests first.
func (s *Service) Close() {
	s.endLife()
	s.running.Wait()
}

// Limits of what an event may hold.
const (
	maxTitle       = 200
	maxDescription = 4000
	maxLocation    = 200
	maxCapacity    = 100000
	// MaxLength bounds an event's duration; lists look this far back for
	// events still running.
	MaxLength = 31 * 24 * time.Hour
)

// Request describes a new event.
type Request struct {
	Title, Description string
	Start, End         time.Time
	Room               string
	Location           string
	Capacity           int
	Waitlist           bool
	Opens, Closes      time.Time
}

// Change asks to change an event; nil fields keep their value.
type Change struct {
	Title, Description, Location *string
	Start, End                   *time.Time
	Capacity                     *int
	Waitlist                     *bool
	Opens, Closes                *time.Time // a zero time clears the bound
}

// invalidf is a malformed request in roomcal's words (booking.Invalidf).
func invalidf(format string, args ...any) error {
	return booking.Invalidf(format, args...)
}

// validate checks an event's fields as they would be written.
func validate(ev Event, now time.Time, creating bool) error {
	title := strings.TrimSpace(ev.Title)
	s := ev.Settings
	if err := booking.CheckDateRange(ev.Start, ev.End, now); err != nil {
		return err
	}
	for _, t := range []time.Time{s.Opens, s.Closes} {
		if !t.IsZero() {
			if err := booking.CheckDateRange(t, t, now); err != nil {
				return err
			}
		}
	}
	switch {
	case title == "":
		return invalidf("le titre est obligatoire / title is required")
	case utf8.RuneCountInString(title) > maxTitle:
		return invalidf("titre trop long (%d caractères au plus) / title too long", maxTitle)
	case utf8.RuneCountInString(ev.Description) > maxDescription:
		return invalidf("description trop longue (%d caractères au plus) / description too long", maxDescription)
	case utf8.RuneCountInString(ev.Location) > maxLocation:
		return invalidf("lieu trop long (%d caractères au plus) / location too long", maxLocation)
	case ev.Start.IsZero() || ev.End.IsZero():
		return invalidf("début et fin sont obligatoires / start and end are required")
	case !ev.Start.Before(ev.End):
		return invalidf("la fin doit être après le début / end must be after start")
	case ev.End.Sub(ev.Start) > MaxLength:
		return invalidf("un événement dure au plus 31 jours / an event lasts at most 31 days")
	case creating && ev.Start.Before(now):
		return invalidf("l'événement doit commencer dans le futur / the event must start in the future")
	case s.Capacity < 1 || s.Capacity > maxCapacity:
		return invalidf("la jauge doit être entre 1 et %d / capacity must be between 1 and %d", maxCapacity, maxCapacity)
	case !s.Opens.IsZero() && !s.Closes.IsZero() && !s.Opens.Before(s.Closes):
		return invalidf("les inscriptions doivent ouvrir avant de fermer / registration must open before it closes")
	case !s.Closes.IsZero() && s.Closes.After(ev.End):
		return invalidf("les inscriptions ferment au plus tard à la fin de l'événement / registration closes by the end of the event at the latest")
	}
	return nil
}

// Create makes an event organised by m (an organiser or admin). An event
// in a room books the room first, through the room gate: the event is
// created with its room booking or not at all.
func (s *Service) Create(ctx context.Context, m Member, r Request) (Event, error) {
	if !m.IsOrganiser() {
		return Event{}, fmt.Errorf("create event: %w", booking.ErrForbidden)
	}
	now := s.now()
	ev := Event{
		ID: newEventID(), Title: strings.TrimSpace(booking.CleanText(r.Title)), Description: booking.CleanText(r.Description),
		Start: r.Start, End: r.End, Room: r.Room, Location: strings.TrimSpace(booking.CleanText(r.Location)),
		Organizer: Member{ID: m.ID, Name: m.Name, Email: m.Email},
		Settings: Settings{
			Capacity: r.Capacity, Waitlist: r.Waitlist, Opens: r.Opens, Closes: r.Closes, Start: r.Start,
		},
		Created: now,
	}
	s.normalise(&ev)
	if err := validate(ev, now, true); err != nil {
		return Event{}, err
	}
	if ev.Room != "" {
		if s.rooms == nil {
			return Event{}, invalidf("les événements ne peuvent pas réserver de salle ici / events cannot book rooms here")
		}
		name, err := s.rooms.RoomName(ev.Room)
		if err != nil {
			return Event{}, fmt.Errorf("event room %s: %w", ev.Room, err)
		}
		ev.Location = name
		// The room's rules are checked for m as they are, groups
		// included (ev.Organizer keeps only who m is).
		id, err := s.rooms.BookForEvent(ctx, m, ev.Room, ev.Title, ev.Start, ev.End)
		if err != nil {
			return Event{}, fmt.Errorf("book room %s for event: %w", ev.Room, err)
		}
		ev.RoomBooking = id
	}
	// Past the room booking, the write runs to its end even if the
	// request goes away: a half-made event would hold a room for nothing.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.WriteTimeout)
	defer cancel()
	etag, err := s.cal.Create(wctx, Record{Event: ev})
	if err != nil && booking.OutcomeUnknown(err) {
		// Stored or not, the calendar will say; the room stays booked
		// until it does.
		s.unknown.Add(1)
		return s.settleCreate(ctx, ev, err)
	}
	if err != nil {
		s.freeRoom(wctx, ev)
		return Event{}, fmt.Errorf("create event %s: %w", ev.ID, err)
	}
	s.created(wctx, ev, etag)
	return ev, nil
}

// created installs a new event, on the calendar with ETag etag, in the
// gate and the index.
func (s *Service) created(ctx context.Context, ev Event, etag string) {
	if err := s.g.Load(ctx, ev.ID, State{ETag: etag, Event: ev}, ""); err != nil {
		// The calendar holds the event: the next read rebuilds it.
		s.log.WarnContext(ctx, "new event not loaded in the gate", "event", ev.ID, "err", err)
	}
	if err := s.g.IndexPut(ctx, ev.ID, ev.Start); err != nil && !errors.Is(err, ErrNoState) {
		s.log.WarnContext(ctx, "new event not indexed until the next sync", "event", ev.ID, "err", err)
	}
}

// settleCreate finds out, in the background, whether a new event whose
// write's answer was lost is on the calendar (its id is new: an object
// under it is this write): there, it is installed and is the organiser's
// event; absent booking.SettleGrace after the server answered again, its
// room booking is freed. The caller waits at most settleWait for the
// outcome, then is answered "unavailable" while the settling goes on.
func (s *Service) settleCreate(ctx context.Context, ev Event, cause error) (Event, error) {
	s.log.WarnContext(ctx, "event creation outcome unknown: its room stays booked until the calendar says",
		"event", ev.ID, "err", cause)
	done := make(chan bool, 1)
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		landed, etag, err := s.learnCreated(s.life, ev.ID)
		switch {
		case err != nil:
			// The service closes: the event, if it lands, is found by
			// the sync; its room booking stays with it.
			s.log.WarnContext(s.life, "event creation outcome still unknown", "event", ev.ID, "err", err)
		case landed:
			s.created(s.life, ev, etag)
		default:
			fctx, cancel := context.WithTimeout(s.life, s.opt.WriteTimeout)
			s.freeRoom(fctx, ev)
			cancel()
		}
		done <- err == nil && landed
	}()
	t := time.NewTimer(s.settleWait())
	defer t.Stop()
	select {
	case landed := <-done:
		if landed {
			return ev, nil
		}
	case <-t.C:
	case <-ctx.Done():
	}
	return Event{}, fmt.Errorf("create event %s: %w: %w", ev.ID, booking.ErrUnavailable, cause)
}

// learnCreated reads the event's object, each read with a deadline of
// its own, until it is there (landed) or has stayed absent for
// booking.SettleGrace since the server first answered.
func (s *Service) learnCreated(ctx context.Context, id string) (landed bool, etag string, err error) {
	var answeredAt time.Time
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
		rec, err := s.cal.Read(rctx, id)
		cancel()
		switch {
		case err == nil:
			return true, rec.ETag, nil
		case errors.Is(err, booking.ErrNotFound) && answeredAt.IsZero():
			answeredAt = time.Now()
		case errors.Is(err, booking.ErrNotFound) && time.Since(answeredAt) >= booking.SettleGrace:
			return false, "", nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, "", ctx.Err()
		case <-t.C:
		}
	}
}

// normalise puts an event's times in its zone, to the second (the
// calendar keeps seconds), so that answers read back from the calendar
// after a rebuild are the same.
func (s *Service) normalise(ev *Event) {
	loc := s.zone(ev.Room)
	for _, t := range []*time.Time{&ev.Start, &ev.End, &ev.Settings.Opens, &ev.Settings.Closes, &ev.Settings.Start} {
		if !t.IsZero() {
			*t = t.Truncate(time.Second).In(loc)
		}
	}
	ev.Created = ev.Created.Truncate(time.Second).UTC()
}

// zone is the time zone of events held in room (UTC when unknown).
func (s *Service) zone(room string) *time.Location {
	if loc := s.opt.Zone(room); loc != nil {
		return loc
	}
	return time.UTC
}

// freeRoom gives back the room booking of an event that was not made.
func (s *Service) freeRoom(ctx context.Context, ev Event) {
	if ev.RoomBooking == "" {
		return
	}
	if err := s.rooms.CancelForEvent(ctx, ev.Organizer, ev.RoomBooking); err != nil {
		s.log.ErrorContext(ctx, "room booking of an event not created could not be freed",
			"event", ev.ID, "booking", ev.RoomBooking, "err", err)
	}
}

// View is an event as a member sees it.
type View struct {
	Event                 Event
	Confirmed, Waitlisted int
	// Mine is the member's registration, if any.
	Mine *Registration
}

func (s *Service) viewOf(st State, member string) View {
	s.normalise(&st.Event)
	v := View{Event: st.Event}
	v.Confirmed, v.Waitlisted = st.Counts()
	if r, ok := st.Find(member); ok {
		v.Mine = &r
	}
	return v
}

// Get returns an event with its counts and m's registration.
func (s *Service) Get(ctx context.Context, m Member, id string) (View, error) {
	st, err := s.state(ctx, id)
	if err != nil {
		return View{}, err
	}
	return s.viewOf(st, m.ID), nil
}

// List returns the events that overlap [from, to), by start.
func (s *Service) List(ctx context.Context, from, to time.Time) ([]Summary, error) {
	if !from.Before(to) {
		return nil, invalidf("la fin de la période doit être après son début / to must be after from")
	}
	ids, err := s.indexRange(ctx, from.Add(-MaxLength), to)
	if err != nil {
		return nil, err
	}
	sums, err := s.g.Summaries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	have := make(map[string]bool, len(sums))
	for _, sm := range sums {
		have[sm.Event.ID] = true
	}
	if len(have) < len(ids) {
		// Events whose state was lost: rebuilt one by one, in order.
		byID := make(map[string]Summary, len(ids))
		for _, sm := range sums {
			byID[sm.Event.ID] = sm
		}
		sums = sums[:0]
		for _, id := range ids {
			if sm, ok := byID[id]; ok {
				sums = append(sums, sm)
				continue
			}
			st, err := s.state(ctx, id)
			if errors.Is(err, booking.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			c, w := st.Counts()
			sums = append(sums, Summary{Event: st.Event, Confirmed: c, Waitlisted: w})
		}
	}
	out := sums[:0]
	for _, sm := range sums {
		s.normalise(&sm.Event)
		if sm.Event.End.After(from) && sm.Event.Start.Before(to) {
			out = append(out, sm)
		}
	}
	return out, nil
}

// owned returns the state of an event m may change (its organiser, or an
// admin).
func (s *Service) owned(ctx context.Context, m Member, id string) (State, error) {
	st, err := s.state(ctx, id)
	if err != nil {
		return State{}, err
	}
	if st.Event.Organizer.ID != m.ID && !m.IsAdmin() {
		return State{}, fmt.Errorf("event %s of %s: %w", id, st.Event.Organizer.ID, booking.ErrForbidden)
	}
	return st, nil
}

// Update changes an event: text, times, cap, waiting list, window.
// Raising the cap confirms from the head of the waiting list at once;
// lowering it removes no one. Moving an event held in a room moves its
// room booking first (claimed before the old slot is given up). It
// returns once the calendar holds the change.
func (s *Service) Update(ctx context.Context, m Member, id string, ch Change) (View, error) {
	st, err := s.owned(ctx, m, id)
	if err != nil {
		return View{}, err
	}
	ev := st.Event
	if ev.Settings.Cancelled {
		return View{}, invalidf("un événement annulé ne se modifie plus / a cancelled event cannot be changed")
	}
	prev := ev
	apply(&ev, ch)
	s.normalise(&ev)
	if err := validate(ev, s.now(), false); err != nil {
		return View{}, err
	}
	moved := !ev.Start.Equal(prev.Start) || !ev.End.Equal(prev.End) || ev.Title != prev.Title
	if moved && ev.RoomBooking != "" && s.rooms != nil {
		// As m, who acts (the organiser or an admin), groups included.
		if err := s.rooms.MoveForEvent(ctx, m, ev.RoomBooking, ev.Title, ev.Start, ev.End); err != nil {
			return View{}, fmt.Errorf("move room of event %s: %w", id, err)
		}
	}
	if err := s.decide(ctx, id, func(ctx context.Context) (Outcome, error) {
		return s.g.Configure(ctx, id, ev)
	}); err != nil {
		if moved && ev.RoomBooking != "" && s.rooms != nil {
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.WriteTimeout)
			defer cancel()
			if merr := s.rooms.MoveForEvent(bctx, m, prev.RoomBooking, prev.Title, prev.Start, prev.End); merr != nil {
				s.log.ErrorContext(ctx, "room booking of an event left at its new time", "event", id, "err", merr)
			}
		}
		return View{}, err
	}
	return s.Get(ctx, m, id)
}

func apply(ev *Event, ch Change) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = booking.CleanText(*v)
		}
	}
	set(&ev.Title, ch.Title)
	ev.Title = strings.TrimSpace(ev.Title)
	set(&ev.Description, ch.Description)
	if ev.Room == "" {
		set(&ev.Location, ch.Location)
	}
	if ch.Start != nil {
		ev.Start = *ch.Start
		ev.Settings.Start = *ch.Start
	}
	if ch.End != nil {
		ev.End = *ch.End
	}
	if ch.Capacity != nil {
		ev.Settings.Capacity = *ch.Capacity
	}
	if ch.Waitlist != nil {
		ev.Settings.Waitlist = *ch.Waitlist
	}
	if ch.Opens != nil {
		ev.Settings.Opens = *ch.Opens
	}
	if ch.Closes != nil {
		ev.Settings.Closes = *ch.Closes
	}
}

// Cancel cancels an event: it stays in the calendar as cancelled, with
// its registrations, and its room is freed.
func (s *Service) Cancel(ctx context.Context, m Member, id string) error {
	st, err := s.owned(ctx, m, id)
	if err != nil {
		return err
	}
	ev := st.Event
	if !ev.Settings.Cancelled {
		ev.Settings.Cancelled = true
		if err := s.decide(ctx, id, func(ctx context.Context) (Outcome, error) {
			return s.g.Configure(ctx, id, ev)
		}); err != nil {
			return err
		}
	}
	if ev.RoomBooking != "" && s.rooms != nil {
		if err := s.rooms.CancelForEvent(ctx, m, ev.RoomBooking); err != nil {
			return fmt.Errorf("free the room of cancelled event %s: %w", id, err)
		}
	}
	return nil
}

// Register registers m to an event: confirmed while seats remain, then
// on the waiting list (if any), else ErrFull; ErrClosed outside the
// registration window. Registering again gives the same answer (created
// false). It returns once the calendar holds the registration.
func (s *Service) Register(ctx context.Context, m Member, id string) (Registration, bool, error) {
	var out Outcome
	created := false
	err := s.decide(ctx, id, func(ctx context.Context) (Outcome, error) {
		var err error
		// To the second, as the calendar keeps it.
		now := s.now().Truncate(time.Second).UTC()
		out, err = s.g.Register(ctx, id, Registration{Member: m.ID, Name: m.Name, Email: m.Email}, now)
		// A decision lost in a flush is taken again (decide); its write
		// may have reached the calendar first, and the rebuilt state
		// then holds the registration this very call made: it is still
		// this call's creation, answered as such.
		created = created || out.Created
		return out, err
	})
	if err != nil {
		return Registration{}, false, err
	}
	out.Created = created
	// The position may have moved up while the write was made.
	r := out.Reg
	if mine, ok, err := s.g.Mine(ctx, id, m.ID); err == nil && ok {
		r = mine
	}
	r.At = r.At.In(s.zone(""))
	return r, out.Created, nil
}

// Unregister removes m's registration; the head of the waiting list
// takes the freed seat in the same step. Not being registered is not an
// error.
func (s *Service) Unregister(ctx context.Context, m Member, id string) error {
	return s.decide(ctx, id, func(ctx context.Context) (Outcome, error) {
		return s.g.Unregister(ctx, id, m.ID)
	})
}

// Registrations lists an event's registrations (confirmed by arrival,
// then the waiting list in order) for its organiser or an admin.
func (s *Service) Registrations(ctx context.Context, m Member, id string) (Event, []Registration, error) {
	st, err := s.owned(ctx, m, id)
	if err != nil {
		return Event{}, nil, err
	}
	s.normalise(&st.Event)
	loc := st.Event.Start.Location()
	for i := range st.Registrations {
		st.Registrations[i].At = st.Registrations[i].At.In(loc)
	}
	return st.Event, st.Registrations, nil
}

func newEventID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "ev_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Mine is an event and a member's registration to it.
type Mine struct {
	Summary      Summary
	Registration Registration
}

// MyRegistrations lists the events overlapping [from, to) that member is
// registered to (confirmed or waiting), by start.
func (s *Service) MyRegistrations(ctx context.Context, member string, from, to time.Time) ([]Mine, error) {
	list, err := s.List(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []Mine
	for _, sm := range list {
		r, ok, err := s.g.Mine(ctx, sm.Event.ID, member)
		if errors.Is(err, ErrNoState) {
			continue // flushed meanwhile: rebuilt on its next read
		}
		if err != nil {
			return nil, fmt.Errorf("registrations of %s: %w", member, gateErr(err))
		}
		if ok {
			out = append(out, Mine{Summary: sm, Registration: r})
		}
	}
	return out, nil
}
