package booking

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Options configure a Service.
type Options struct {
	Catalog    *Catalog
	Calendar   Calendar
	Gate       Gate
	Recurrence Recurrence
	Logger     *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// SyncInterval is how often room calendars are checked for outside
	// edits (default 30s). Answers are marked stale when no replica has
	// synced a room for three intervals.
	SyncInterval time.Duration
	// HoldTTL bounds a claim whose calendar write never completes
	// (default 30s): the slot is free again after it.
	HoldTTL time.Duration
	// Window is how far ahead of now the cache holds expanded busy
	// intervals (default: the longest MaxAhead of any room plus 30 days,
	// at least 400 days). Queries beyond it go straight to the calendar.
	Window time.Duration
	// MaxOccurrences bounds a recurring booking (default 200).
	MaxOccurrences int
	// Notifier is told what happened to members' bookings without them
	// (approval.go); nil tells nobody.
	Notifier Notifier
	// SweepEvery is how often, at most, a room's lapsed requests are
	// looked for, across all replicas (default 5 minutes).
	SweepEvery time.Duration
	// Removed, when set, is told of every booking removed by someone
	// else than its owner: an admin's cancel, or a deletion straight in
	// the calendar that a sync pass finds. It is called before the
	// removal is forgotten (the cancel made, the gate updated), so that
	// an error leaves it to be found again; the notices outbox keeps it.
	Removed func(ctx context.Context, r Removal) error
	// Importer reads and writes imported calendars (import.go; nil: no
	// import).
	Importer ImportCalendar
	// Index keeps each room's bookings to come in the calendar store,
	// so that a deletion straight in the calendar is told even when the
	// gate lost its copy before the sync pass (index.go; nil: it is
	// not).
	Index BookingIndex
}

// Removal is a booking removed by someone else than its owner.
type Removal struct {
	ID, Room, Title string
	Start, End      time.Time // the first occurrence
	Owner           string    // member id
	// By says who removed it: "admin" (through roomcal) or "calendar"
	// (straight in the calendar).
	By string
	// Reason is the admin's, when they gave one (a room retired with
	// its bookings ahead cancelled).
	Reason string
}

// Service books rooms: availability, bookings, and the sync loop that
// keeps the gate's copy of every room's calendar current. It is safe for
// concurrent use, and any number of replicas may run over one Gate and
// one Calendar.
type Service struct {
	opt Options
	cat *Catalog
	cal Calendar
	g   Gate
	rec Recurrence
	log *slog.Logger
	now func() time.Time

	mu          sync.Mutex
	problems    map[string][]ObjectProblem // room → objects that could not be read
	problemsGen uint64                     // changes with problems
	indexed     map[string]indexed         // room → the index last written or read (index.go)

	answers answerMemo
	stats   serviceStats // memo and sync figures (stats.go)

	// life ends with Close; the settling of writes whose outcome is
	// unknown (unknown.go) outlives requests, not the service.
	life     context.Context
	endLife  context.CancelFunc
	settling sync.WaitGroup

	conflictsSeen atomic.Int64
}

// NewService checks opts and returns a Service.
func NewService(opts Options) (*Service, error) {
	if opts.Catalog == nil || opts.Calendar == nil || opts.Gate == nil || opts.Recurrence == nil {
		return nil, errors.New("booking: catalog, calendar, gate and recurrence are required")
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
	if opts.HoldTTL <= 0 {
		opts.HoldTTL = 30 * time.Second
	}
	if opts.MaxOccurrences <= 0 {
		opts.MaxOccurrences = 200
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = 5 * time.Minute
	}
	if opts.Window <= 0 {
		w := 400 * 24 * time.Hour
		rooms, _ := opts.Catalog.Rooms(RoomFilter{Retired: true})
		for _, r := range rooms {
			if ahead := r.Rules.MaxAhead + 30*24*time.Hour; ahead > w {
				w = ahead
			}
		}
		opts.Window = w
	}
	life, end := context.WithCancel(context.Background())
	return &Service{
		opt: opts, cat: opts.Catalog, cal: opts.Calendar, g: opts.Gate, rec: opts.Recurrence,
		log: opts.Logger, now: opts.Now, problems: map[string][]ObjectProblem{}, indexed: map[string]indexed{},
		life: life, endLife: end,
	}, nil
}

// Close stops settling writes whose outcome is unknown and waits for
// those under way to stop; their holds then expire after HoldTTL. Stop
// serving requests first.
func (s *Service) Close() {
	s.endLife()
	s.settling.Wait()
}

// Catalog returns the sites and rooms.
func (s *Service) Catalog() *Catalog { return s.cat }

// place is a room with its site.
type place struct {
	room Room
	site Site
}

func (s *Service) place(roomID string) (place, error) {
	r, err := s.cat.Room(roomID)
	if err != nil {
		return place{}, err
	}
	site, err := s.cat.Site(r.SiteID)
	if err != nil {
		return place{}, err
	}
	return place{room: r, site: site}, nil
}

// window is the span the cache holds, for a snapshot taken now.
func (s *Service) window() Interval {
	now := s.now()
	return Interval{Start: now.Add(-7 * 24 * time.Hour), End: now.Add(s.opt.Window)}
}

// ---- bookings ----

// Request asks for a booking.
type Request struct {
	Room        string
	Start, End  time.Time
	Title       string
	Description string
	Recurrence  string
	// Skip names occurrences of the series to leave out, by their start
	// (as a preview lists them): each must be one of the rule's.
	Skip []time.Time
	// Repeats, for Preview only, names the booking the series would make
	// repeat (a Change with Recurrence): its own slot, the series' first
	// date, is not counted as taken nor checked against the rules again.
	Repeats string

	forEvent bool // the room booking of an internal event (BookForEvent)
	// kept is the slot a booking already holds that becomes a series'
	// first date: not checked against the rules again (it may have
	// started since).
	kept *Interval
}

const (
	maxTitle       = 200
	maxDescription = 4000
	// writeTimeout bounds a booking's calendar write and commit, which
	// run even when the request that asked for them goes away.
	writeTimeout = 30 * time.Second
	// objectLockTTL outlasts a change's read, write and taking back
	// (10s): the lock cannot expire under a write that is still bounded.
	objectLockTTL = writeTimeout + 20*time.Second
)

// lockBooking takes the write lock of booking id in its room: a change
// already under way gives ErrStale (409) at once, as a write over a
// version read before that change would. The lease is released by the
// caller.
func (s *Service) lockBooking(ctx context.Context, id string) (Lease, error) {
	p, err := s.placeOfBooking(id)
	if err != nil {
		return Lease{}, err
	}
	lease, ok, err := s.g.LockObject(ctx, p.room.ID, id, objectLockTTL)
	if err != nil {
		return Lease{}, fmt.Errorf("lock booking %s: %w", id, err)
	}
	if !ok {
		return Lease{}, fmt.Errorf("booking %s is being changed by another request: %w", id, ErrStale)
	}
	return lease, nil
}

func (r Request) validate() error {
	title := strings.TrimSpace(CleanText(r.Title))
	switch {
	case title == "":
		return Invalidf("le titre est obligatoire / title is required")
	case utf8.RuneCountInString(title) > maxTitle:
		return Invalidf("titre trop long (%d caractères au plus) / title too long", maxTitle)
	case utf8.RuneCountInString(r.Description) > maxDescription:
		return Invalidf("description trop longue (%d caractères au plus) / description too long", maxDescription)
	case r.Start.Before(EarliestDate) || r.End.Before(EarliestDate):
		// A zero date was given (the API refuses a missing one): it is
		// out of range, not missing.
		return errDateRange()
	case !r.Start.Before(r.End):
		return Invalidf("la fin doit être après le début / end must be after start")
	}
	return nil
}

// occurrences expands and checks every occurrence of a request against
// the rules.
func (s *Service) occurrences(p place, m Member, r Request) ([]Interval, error) {
	now := s.now()
	if err := CheckDateRange(r.Start, r.End, now); err != nil {
		return nil, err
	}
	occ := []Interval{{Start: r.Start, End: r.End}}
	if r.Recurrence != "" {
		var err error
		occ, err = s.rec.Occurrences(r.Recurrence, r.Start, r.End, p.site.Location, s.opt.MaxOccurrences+1)
		if err != nil {
			return nil, err
		}
		if len(occ) > s.opt.MaxOccurrences {
			return nil, &RuleError{Rule: RuleMaxAhead, Detail: fmt.Sprintf("au plus %d occurrences ; ajoutez COUNT ou UNTIL / at most %d occurrences: add COUNT or UNTIL", s.opt.MaxOccurrences, s.opt.MaxOccurrences)}
		}
		if len(occ) == 0 {
			return nil, Invalidf("la récurrence ne donne aucune occurrence / the recurrence has no occurrence")
		}
		if len(occ) == 1 {
			return nil, errLoneOccurrence()
		}
		if occ, err = skipDates(occ, r.Skip); err != nil {
			return nil, err
		}
	} else if len(r.Skip) > 0 {
		return nil, Invalidf("seule une série peut sauter des dates / only a series can skip dates")
	}
	for _, o := range occ {
		if r.kept != nil && o.Start.Equal(r.kept.Start) && o.End.Equal(r.kept.End) {
			continue
		}
		if err := CheckDateRange(o.Start, o.End, now); err != nil {
			return nil, err
		}
		if err := CheckRules(p.site, p.room, m, o.Start, o.End, now); err != nil {
			var re *RuleError
			if errors.As(err, &re) && len(occ) > 1 {
				re.Detail = fmt.Sprintf("occurrence du %s : %s", o.Start.In(p.site.Location).Format("2006-01-02 15:04"), re.Detail)
			}
			return nil, err
		}
	}
	return occ, nil
}

// Book makes a booking for m: it checks the rules, claims every
// occurrence at the gate, writes the booking to the room's calendar, and
// returns only once the calendar holds it. Errors: *RuleError,
// *ConflictError (listing every clash), ErrInvalid, ErrUnknownRoom,
// ErrUnavailable.
func (s *Service) Book(ctx context.Context, m Member, r Request) (Booking, error) {
	if err := r.validate(); err != nil {
		return Booking{}, err
	}
	p, err := s.place(r.Room)
	if err != nil {
		return Booking{}, err
	}
	occ, err := s.occurrences(p, m, r)
	if err != nil {
		return Booking{}, err
	}
	b := Booking{
		ID: newBookingID(p.room.ID), Room: p.room.ID, Start: r.Start, End: r.End,
		Title: strings.TrimSpace(CleanText(r.Title)), Description: CleanText(r.Description), Recurrence: r.Recurrence,
		Skipped:   skippedOf(r.Skip),
		Organizer: Member{ID: m.ID, Name: m.Name, Email: m.Email}, Created: s.now(),
		Kind: KindBooking,
	}
	if r.forEvent {
		b.Kind = KindEvent
	} else if needsApproval(p.room, m) {
		b.Pending, b.ApprovalDue = true, s.now().Add(approvalWithin(p.room))
	}
	if now := s.now(); checkInApplies(p.room, b) && !r.Start.After(now.Add(OnTheSpot)) {
		// Booked at the door: the member is there.
		b.CheckedIn = now
	}
	return b, s.write(ctx, p, b, occ, nil, nil, m)
}

// write claims occ for booking b, writes it (create when prev is nil,
// update of prev, read as version over, otherwise), and commits it to the
// gate; on any failure after the claim the hold is released and the
// calendar is put back as it was.
//
// m is who acts: the quota of the room (quotaFor) is checked in the
// claim for the booking's organizer unless m is exempt.
func (s *Service) write(ctx context.Context, p place, b Booking, occ []Interval, prev *Booking, over Version, m Member) error {
	ignore := ""
	if prev != nil {
		ignore = prev.ID
	}
	busy := make([]Busy, len(occ))
	for i, o := range occ {
		busy[i] = Busy{Ref: b.ID, Start: o.Start, End: o.End, Kind: KindBooking, Title: b.Title, Organizer: b.Organizer.ID, Pending: b.Pending,
			CheckedIn: !b.CheckedIn.IsZero(), Released: !b.Released.IsZero()}
		if b.IsEvent() {
			busy[i].Kind = KindEvent
		}
	}
	holdID := newHoldID()
	// A change that keeps the booking's slot (a new title) takes
	// nothing new in the room: it is taken in a retired room too, as
	// before the room was retired.
	keeps := prev != nil && prev.Start.Equal(b.Start) && prev.End.Equal(b.End) && prev.Recurrence == b.Recurrence
	claim := Claim{HoldID: holdID, Intervals: busy, Buffer: p.room.Rules.Buffer, TTL: s.opt.HoldTTL, Ignore: ignore,
		Quota: s.quotaFor(p, m, busy), EvenRetired: keeps}
	if err := s.withState(ctx, p, func() error { return s.g.Claim(ctx, p.room.ID, claim) }); err != nil {
		return fmt.Errorf("claim %s: %w", p.room.ID, asRule(p, err))
	}
	// From here on the request may be abandoned (the member closed the
	// page) but the write must not be: a PUT cut off mid-way may still
	// land on the server. The write and the commit run to their end on a
	// context of their own.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	var written Version
	var err error
	if prev == nil {
		written, err = s.cal.Create(wctx, p.room, p.site.Location, b)
	} else {
		written, err = s.cal.Update(wctx, p.room, p.site.Location, b, over)
	}
	if err != nil {
		if OutcomeUnknown(err) {
			// The server may store it later (a frozen server applies
			// the PUT it holds when it resumes) or may have stored it
			// already (a lost answer): the slot stays held until a
			// settler, outliving this request, knows (unknown.go).
			s.settleLater(unknownWrite{p: p, b: b, busy: busy, claim: claim, prev: prev, over: over})
			return fmt.Errorf("write booking %s: %w: %w", b.ID, ErrUnavailable, err)
		}
		s.release(p.room.ID, holdID)
		return fmt.Errorf("write booking %s: %w", b.ID, err)
	}
	err = s.withState(wctx, p, func() error {
		return s.g.Commit(wctx, p.room.ID, holdID, b.ID, written.ETag(), busy, p.room.Rules.Buffer, claim.Quota)
	})
	if err == nil {
		return nil
	}
	// The hold was lost (expired, or the gate was flushed) and something
	// else now holds the slot or the member's quota was used up meanwhile,
	// or the gate cannot be reached: we cannot tell that the slot is
	// ours, so the write is taken back: a new booking is deleted, a moved
	// one written back as it was.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var rerr error
	if prev == nil {
		rerr = s.cal.Delete(rctx, p.room, b.ID, written.ETag())
		if rerr == nil || errors.Is(rerr, ErrNotFound) {
			rerr = s.forget(rctx, p, b.ID)
		}
	} else {
		var back Version
		if back, rerr = s.cal.Update(rctx, p.room, p.site.Location, *prev, written); rerr == nil {
			rerr = s.forgetChange(rctx, p, *prev, back)
		}
	}
	if rerr != nil {
		s.log.ErrorContext(ctx, "rollback of an unconfirmed booking failed; the sync loop will report the overlap",
			"room", p.room.ID, "booking", b.ID, "err", rerr)
	}
	s.release(p.room.ID, holdID)
	return fmt.Errorf("commit %s: %w", b.ID, asRule(p, err))
}

// forget tells the gate that booking id, written and then deleted from
// the calendar (taken back), is gone: a state read while the calendar
// held it no longer lists it (Gate.TakeBack). Without it, such a state
// (a room loaded again, a sync pass) kept the booking, blocking its slot
// and counting against its member's quota, until the next sync pass.
func (s *Service) forget(ctx context.Context, p place, id string) error {
	if err := s.g.TakeBack(ctx, p.room.ID, id, ObjectState{}); err != nil {
		return fmt.Errorf("take back %s at the gate: %w", id, err)
	}
	return nil
}

// forgetChange is forget for a change taken back: prev, written back
// as version back, is what the gate records (a state read while the
// calendar held the refused change listed it in its new slot).
func (s *Service) forgetChange(ctx context.Context, p place, prev Booking, back Version) error {
	busy, err := s.busyOf(p, prev)
	if err != nil {
		return err
	}
	if err := s.g.TakeBack(ctx, p.room.ID, prev.ID, ObjectState{ETag: back.ETag(), Busy: busy}); err != nil {
		return fmt.Errorf("take back %s at the gate: %w", prev.ID, err)
	}
	return nil
}

func (s *Service) release(room, holdID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.g.Release(ctx, room, holdID); err != nil && !errors.Is(err, ErrHoldLost) {
		s.log.Warn("release hold", "room", room, "hold", holdID, "err", err)
	}
}

// Change asks to move, resize or rename a booking; nil fields keep their
// value.
type Change struct {
	Start, End  *time.Time
	Title       *string
	Description *string
	// Recurrence makes a single booking repeat ("Répéter cette
	// réservation…"): its slot is the series' first date, the other
	// dates are claimed as a new booking's would be, Skip (starts of the
	// series' dates) left out. A series' rule is not changed.
	Recurrence *string
	Skip       []time.Time
}

// Move changes a booking of m's (or any, for an admin). The new slot is
// claimed before the old one is given up, so a failed move leaves the
// booking as it was. The booking is read once and written over the
// version read: one changed meanwhile gives ErrStale. Moving a recurring
// booking is refused (cancel and book again).
func (s *Service) Move(ctx context.Context, m Member, id string, ch Change) (Booking, error) {
	return s.move(ctx, m, id, ch, false)
}

func (s *Service) move(ctx context.Context, m Member, id string, ch Change, forEvent bool) (Booking, error) {
	lease, err := s.lockBooking(ctx, id)
	if err != nil {
		return Booking{}, err
	}
	defer lease.Release()
	p, b, read, err := s.owned(ctx, m, id, forEvent)
	if err != nil {
		return Booking{}, err
	}
	prev := b
	var kept *Interval
	switch {
	case ch.Recurrence != nil && b.Recurrence != "":
		return Booking{}, Invalidf("cette réservation est déjà une série / this booking is already a series")
	case ch.Recurrence != nil && *ch.Recurrence == "":
		return Booking{}, Invalidf("recurrence ne peut pas être vide / recurrence cannot be empty")
	case ch.Recurrence != nil:
		if ch.Start == nil && ch.End == nil {
			kept = &Interval{Start: b.Start, End: b.End}
		}
		b.Recurrence, b.Skipped = *ch.Recurrence, skippedOf(ch.Skip)
	case len(ch.Skip) > 0:
		return Booking{}, Invalidf("skip ne va qu'avec recurrence / skip goes with recurrence only")
	}
	if ch.Start != nil || ch.End != nil {
		if prev.Recurrence != "" {
			return Booking{}, Invalidf("une réservation récurrente ne se déplace pas ; annulez-la et réservez à nouveau / a recurring booking cannot be moved")
		}
		if ch.Start != nil {
			b.Start = *ch.Start
		}
		if ch.End != nil {
			b.End = *ch.End
		}
	}
	if ch.Title != nil {
		b.Title = strings.TrimSpace(CleanText(*ch.Title))
	}
	if ch.Description != nil {
		b.Description = CleanText(*ch.Description)
	}
	req := Request{Room: b.Room, Start: b.Start, End: b.End, Title: b.Title, Description: b.Description, Recurrence: b.Recurrence,
		Skip: ch.Skip, kept: kept}
	if err := req.validate(); err != nil {
		return Booking{}, err
	}
	occ := []Interval{{Start: b.Start, End: b.End}}
	if ch.Start != nil || ch.End != nil || ch.Recurrence != nil {
		occ, err = s.occurrences(p, m, req)
		if err != nil {
			return Booking{}, err
		}
	} else if b.Recurrence != "" {
		occ, err = s.seriesOf(p, b)
		if err != nil {
			return Booking{}, err
		}
	}
	if !forEvent && b.Organizer.ID != "" && b.Organizer.ID != m.ID && (!b.Start.Equal(prev.Start) || !b.End.Equal(prev.End)) {
		// An admin moves a member's booking: they are told (a move that
		// then fails is not: the notices check the record first).
		if err := s.notify(ctx, Notice{Kind: NoticeMoved, Booking: b, Room: p.room, By: m, From: read.ETag()}); err != nil {
			return Booking{}, err
		}
	}
	if err := s.write(ctx, p, b, occ, &prev, read, m); err != nil {
		return Booking{}, err
	}
	return b, nil
}

// Cancel deletes a booking of m's (or any, for an admin).
func (s *Service) Cancel(ctx context.Context, m Member, id string) error {
	return s.cancel(ctx, m, id, false)
}

func (s *Service) cancel(ctx context.Context, m Member, id string, forEvent bool) error {
	lease, err := s.lockBooking(ctx, id)
	if err != nil {
		return err
	}
	defer lease.Release()
	p, b, read, err := s.owned(ctx, m, id, forEvent)
	if err != nil {
		return err
	}
	if !forEvent && b.Organizer.ID != "" && b.Organizer.ID != m.ID && s.opt.Removed != nil {
		r := Removal{ID: b.ID, Room: p.room.ID, Title: b.Title, Start: b.Start, End: b.End, Owner: b.Organizer.ID, By: "admin"}
		if err := s.opt.Removed(ctx, r); err != nil {
			return fmt.Errorf("cancel %s: its owner could not be told: %w", id, err)
		}
	}
	return s.remove(ctx, p, b, read)
}

// remove deletes booking b (read as version read) from its room's
// calendar, then from the gate.
func (s *Service) remove(ctx context.Context, p place, b Booking, read Version) error {
	id := b.ID
	if err := s.cal.Delete(ctx, p.room, b.ID, read.ETag()); err != nil {
		return fmt.Errorf("cancel %s: %w", id, err)
	}
	if err := s.g.Apply(ctx, p.room.ID, "", nil, []string{b.ID}, nil); err != nil && !errors.Is(err, ErrNoState) {
		// The calendar no longer has it; the next sync pass drops it
		// from the gate too.
		s.log.WarnContext(ctx, "cancelled booking still in the gate until the next sync", "room", p.room.ID, "booking", id, "err", err)
	} else {
		s.reindexSoon(p)
	}
	return nil
}

// Get returns one booking, read from the calendar, as m may see it
// (Booking.SeenBy).
func (s *Service) Get(ctx context.Context, m Member, id string) (Booking, error) {
	p, err := s.placeOfBooking(id)
	if err != nil {
		return Booking{}, err
	}
	b, _, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	if err != nil {
		return Booking{}, err
	}
	return b.SeenBy(m, p.site.HideTitles), nil
}

// owned reads a booking and checks that m may change it; the version
// read is what a change is then written over. The room booking of an
// event is changed only through the event (forEvent).
func (s *Service) owned(ctx context.Context, m Member, id string, forEvent bool) (place, Booking, Version, error) {
	p, err := s.placeOfBooking(id)
	if err != nil {
		return place{}, Booking{}, nil, err
	}
	b, read, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	if err != nil {
		return place{}, Booking{}, nil, err
	}
	if b.Organizer.ID != m.ID && !m.IsAdmin() {
		return place{}, Booking{}, nil, fmt.Errorf("booking %s of %s: %w", id, b.Organizer.ID, ErrForbidden)
	}
	if b.IsEvent() != forEvent {
		if forEvent {
			return place{}, Booking{}, nil, fmt.Errorf("booking %s is not an event's: %w", id, ErrNotFound)
		}
		return place{}, Booking{}, nil, Invalidf("cette réservation est celle d'un événement ; modifiez l'événement / this booking belongs to an event: change the event")
	}
	return p, b, read, nil
}

// RoomOf returns the room id a booking id names (ids are ROOM_RANDOM), or
// "" when id is not of that form.
func RoomOf(id string) string {
	if i := strings.LastIndexByte(id, '_'); i > 0 {
		return id[:i]
	}
	return ""
}

// placeOfBooking finds the room from a booking id.
func (s *Service) placeOfBooking(id string) (place, error) {
	room := RoomOf(id)
	if room == "" {
		return place{}, fmt.Errorf("booking %q: %w", id, ErrNotFound)
	}
	p, err := s.place(room)
	if errors.Is(err, ErrUnknownRoom) {
		return place{}, fmt.Errorf("booking %q: %w", id, ErrNotFound)
	}
	return p, err
}

// Filter selects bookings to list; zero fields select everything.
type Filter struct {
	Organizer string
	Room      string
	From, To  time.Time
	// Viewer, when set, is who the list is for: titles are left out as
	// Busy.SeenBy says.
	Viewer *Member
}

// List returns booking occurrences overlapping [From, To) (default: the
// next 90 days), from the gate's copy of the calendars, sorted by start.
// Each occurrence of a recurring booking is listed.
func (s *Service) List(ctx context.Context, f Filter) ([]Busy, error) {
	if f.From.IsZero() {
		f.From = s.now()
	}
	if f.To.IsZero() {
		f.To = f.From.Add(90 * 24 * time.Hour)
	}
	rooms, err := s.roomsFor(f.Room, "", true)
	if err != nil {
		return nil, err
	}
	var out []Busy
	for _, p := range rooms {
		busy, _, err := s.busy(ctx, p, f.From, f.To)
		if err != nil {
			return nil, err
		}
		for _, b := range busy {
			if b.Kind != KindBooking || (f.Organizer != "" && b.Organizer != f.Organizer) {
				continue
			}
			if f.Viewer != nil {
				b = b.SeenBy(*f.Viewer, p.site.HideTitles)
			}
			out = append(out, b)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// roomsFor gives one room, or the rooms of a site (every site when
// siteID is empty); retired rooms only when retired is set (lists of
// bookings and conflicts keep them; availability does not).
func (s *Service) roomsFor(roomID, siteID string, retired ...bool) ([]place, error) {
	if roomID != "" {
		p, err := s.place(roomID)
		if err != nil {
			return nil, err
		}
		return []place{p}, nil
	}
	rooms, err := s.cat.Rooms(RoomFilter{Site: siteID, Retired: len(retired) > 0 && retired[0]})
	if err != nil {
		return nil, err
	}
	out := make([]place, 0, len(rooms))
	for _, r := range rooms {
		site, err := s.cat.Site(r.SiteID)
		if err != nil {
			return nil, err
		}
		out = append(out, place{room: r, site: site})
	}
	return out, nil
}

func newBookingID(room string) string { return room + "_" + randomToken(10) }
func newHoldID() string               { return "h" + randomToken(10) }

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return strings.ToLower(b32.EncodeToString(b))
}

// BookForEvent books room for an internal event [start, end) in the
// organiser's name: a booking of kind KindEvent, checked against the
// room's rules and claimed at the gate like any booking. It returns the
// booking's id.
func (s *Service) BookForEvent(ctx context.Context, organiser Member, room, title string, start, end time.Time) (string, error) {
	b, err := s.Book(ctx, organiser, Request{Room: room, Start: start, End: end, Title: title, forEvent: true})
	return b.ID, err
}

// MoveForEvent moves or renames an event's room booking (the new slot is
// claimed before the old one is given up).
func (s *Service) MoveForEvent(ctx context.Context, organiser Member, id, title string, start, end time.Time) error {
	_, err := s.move(ctx, organiser, id, Change{Start: &start, End: &end, Title: &title}, true)
	return err
}

// CancelForEvent frees an event's room booking; one already gone is not
// an error.
func (s *Service) CancelForEvent(ctx context.Context, organiser Member, id string) error {
	err := s.cancel(ctx, organiser, id, true)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// ReleaseForEvent frees the room booking of an event that is gone from
// the events calendar (deleted in Nextcloud or any CalDAV client): no
// member acts, and nobody may be asked. Only a booking of kind event is
// released (ErrNotFound for any other); one already gone is not an
// error.
func (s *Service) ReleaseForEvent(ctx context.Context, id string) error {
	p, err := s.placeOfBooking(id)
	if err != nil {
		return err
	}
	lease, err := s.lockBooking(ctx, id)
	if err != nil {
		return err
	}
	defer lease.Release()
	b, read, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release %s: %w", id, err)
	}
	if !b.IsEvent() {
		return fmt.Errorf("booking %s is not an event's: %w", id, ErrNotFound)
	}
	err = s.remove(ctx, p, b, read)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// RoomName returns the name of a room (ErrUnknownRoom).
func (s *Service) RoomName(room string) (string, error) {
	p, err := s.place(room)
	if err != nil {
		return "", err
	}
	return p.room.Name, nil
}
