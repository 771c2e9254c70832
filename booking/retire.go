package booking

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Retiring a room that still has bookings ahead.
//
// A retired room takes no booking (the gate refuses claims in it), so a
// booking left in it after its retirement is a booking in a room nobody
// may use. Retiring therefore either finds the room clear, in the same
// atomic step as the mark (Gate.RetireIfClear: no booking can slip in
// between), or is refused with the list of what is there
// (*FutureBookingsError); or the admin chooses to cancel them: the room
// is marked retired first (no new booking), then every booking ending
// after now is cancelled as an admin's cancel is (its owner told through
// the notices outbox, with the admin's reason, before the deletion), and
// those being written when the room was marked (live holds) are waited
// for and cancelled too.

var _ RoomBookings = (*Service)(nil)

// FutureBooking is a booking of a room that ends after now, as retiring
// the room lists it.
type FutureBooking struct {
	ID, Title string
	Kind      Kind // KindBooking, or KindEvent (an event's room booking)
	// Start and End are its next occurrence (the first ending after now);
	// Occurrences counts those ending after now (a series: several).
	Start, End  time.Time
	Occurrences int
	Owner       string // member id of its organizer
	// OwnerName is the organizer's name as the booking records it, for
	// the admin who decides ("" when not read: see FutureBookings).
	OwnerName string
	Pending   bool
}

// FutureBookingsError: the room cannot be retired as asked, because of
// the bookings it still has ahead.
type FutureBookingsError struct {
	Room     string
	Bookings []FutureBooking
	// Writing counts bookings being written in the room when it was
	// checked (they may land in a moment).
	Writing int
	// Cancelling: the admin asked to cancel them, but some are events'
	// room bookings, which are moved or cancelled through their event
	// (its registrants are told there), not here.
	Cancelling bool
}

func (e *FutureBookingsError) Error() string {
	return fmt.Sprintf("room %s has %d booking(s) ahead and %d being written", e.Room, len(e.Bookings), e.Writing)
}

// Events lists the events' room bookings among e.Bookings.
func (e *FutureBookingsError) Events() []FutureBooking {
	var out []FutureBooking
	for _, b := range e.Bookings {
		if b.Kind == KindEvent {
			out = append(out, b)
		}
	}
	return out
}

// maxRetireReason bounds the reason told to owners.
const maxRetireReason = 500

// CheckRetireReason tidies the reason given for cancelling a room's
// bookings: required, and told to every owner.
func CheckRetireReason(reason string) (string, error) {
	reason = strings.TrimSpace(CleanText(reason))
	switch {
	case reason == "":
		return "", Invalidf("dites pourquoi ces réservations sont annulées : leurs auteur·rice·s le liront / say why these bookings are cancelled: their owners will read it")
	case utf8.RuneCountInString(reason) > maxRetireReason:
		return "", Invalidf("motif trop long (%d caractères au plus) / reason too long", maxRetireReason)
	}
	return reason, nil
}

// FutureBookings lists the bookings of room that end after now (from
// the gate's copy of its calendar, over the cached window), soonest
// first.
func (s *Service) FutureBookings(ctx context.Context, room string) ([]FutureBooking, error) {
	p, err := s.place(room)
	if err != nil {
		return nil, err
	}
	list, err := s.futureOf(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	s.nameOwners(ctx, p, list)
	return list, nil
}

// nameOwners fills each booking's OwnerName: an admin deciding to
// cancel bookings must see whose they are.
func (s *Service) nameOwners(ctx context.Context, p place, list []FutureBooking) {
	var refs []namedRef
	for _, f := range list {
		if f.Kind == KindBooking {
			refs = append(refs, namedRef{p, f.ID})
		}
	}
	names := s.organizerNames(ctx, refs)
	for i := range list {
		list[i].OwnerName = names[list[i].ID]
	}
}

// futureOf lists p's bookings ending after now; only refs, when not nil.
func (s *Service) futureOf(ctx context.Context, p place, refs []string) ([]FutureBooking, error) {
	now := s.now()
	var busy []Busy
	err := s.withState(ctx, p, func() error {
		var err error
		busy, err = s.g.Busy(ctx, p.room.ID, now, now.Add(s.opt.Window+24*time.Hour))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bookings ahead in %s: %w", p.room.ID, err)
	}
	want := map[string]bool{}
	for _, r := range refs {
		want[r] = true
	}
	byRef := map[string]*FutureBooking{}
	var order []string
	for _, b := range busy {
		if (b.Kind != KindBooking && b.Kind != KindEvent) || !b.End.After(now) || (refs != nil && !want[b.Ref]) {
			continue
		}
		f, ok := byRef[b.Ref]
		if !ok {
			f = &FutureBooking{ID: b.Ref, Title: b.Title, Kind: b.Kind, Start: b.Start, End: b.End, Owner: b.Organizer, Pending: b.Pending}
			byRef[b.Ref] = f
			order = append(order, b.Ref)
		}
		f.Occurrences++
		if b.End.Before(f.End) {
			f.Start, f.End = b.Start, b.End
		}
	}
	out := make([]FutureBooking, 0, len(order))
	for _, r := range order {
		out = append(out, *byRef[r])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// RetireIfClear marks room retired at the gate if nothing is left in it
// (Gate.RetireIfClear, in one step with the check); otherwise it marks
// nothing and returns a *FutureBookingsError listing what is there.
func (s *Service) RetireIfClear(ctx context.Context, room string) error {
	p, err := s.place(room)
	if err != nil {
		return err
	}
	var f RoomFuture
	err = s.withState(ctx, p, func() error {
		var err error
		f, err = s.g.RetireIfClear(ctx, p.room.ID, s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("retire %s at the gate: %w", room, err)
	}
	if f.Clear() {
		return nil
	}
	list, err := s.futureOf(ctx, p, f.Refs)
	if err != nil {
		return err
	}
	return &FutureBookingsError{Room: room, Bookings: list, Writing: f.Holds}
}

// ClearFuture cancels every booking of room ending after now, as m (an
// admin of the room's site, checked by the caller), telling each owner
// why (reason). The room must be retired at the gate already (no new
// booking comes); bookings being written then are waited for (up to the
// time a hold and its write may take) and cancelled as they land. It
// returns the bookings cancelled. Events' room bookings are not touched:
// a *FutureBookingsError (Cancelling) lists those left.
func (s *Service) ClearFuture(ctx context.Context, m Member, room, reason string) ([]FutureBooking, error) {
	p, err := s.place(room)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(s.opt.HoldTTL + writeTimeout + 5*time.Second)
	var done []FutureBooking
	for {
		var f RoomFuture
		err := s.withState(ctx, p, func() error {
			var err error
			f, err = s.g.RetireIfClear(ctx, p.room.ID, s.now())
			return err
		})
		if err != nil {
			return done, fmt.Errorf("bookings ahead in %s: %w", room, err)
		}
		if f.Clear() {
			return done, nil
		}
		list, err := s.futureOf(ctx, p, f.Refs)
		if err != nil {
			return done, err
		}
		var events []FutureBooking
		progress := false
		for _, b := range list {
			if b.Kind == KindEvent {
				events = append(events, b)
				continue
			}
			switch err := s.cancelForRetire(ctx, m, p, b.ID, reason); {
			case err == nil:
				done = append(done, b)
				progress = true
			case errors.Is(err, ErrStale):
				// Being changed right now: tried again below.
			default:
				return done, fmt.Errorf("cancel %s: %w", b.ID, err)
			}
		}
		if len(events) > 0 && f.Holds == 0 && len(events) == len(list) {
			return done, &FutureBookingsError{Room: room, Bookings: events, Cancelling: true}
		}
		if progress {
			continue
		}
		if time.Now().After(deadline) {
			return done, fmt.Errorf("room %s: bookings still being written after %v: %w", room, s.opt.HoldTTL+writeTimeout, ErrUnavailable)
		}
		if err := s.waitRoom(ctx, p.room.ID); err != nil {
			return done, err
		}
	}
}

// waitRoom waits for a change of the room at the gate (a hold committed
// or released), at most NoticeFallback.
func (s *Service) waitRoom(ctx context.Context, room string) error {
	w := s.g.Watch(room)
	defer w.Stop()
	t := time.NewTimer(NoticeFallback / 4)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.C:
	case <-t.C:
	}
	return nil
}

// cancelForRetire cancels booking id of p as an admin cancel does, its
// owner told why (reason) before the deletion. One already gone from the
// calendar is dropped from the gate too.
func (s *Service) cancelForRetire(ctx context.Context, m Member, p place, id, reason string) error {
	lease, err := s.lockBooking(ctx, id)
	if err != nil {
		return err
	}
	defer lease.Release()
	b, read, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	if errors.Is(err, ErrNotFound) {
		if err := s.g.Apply(ctx, p.room.ID, "", nil, []string{id}, nil); err != nil && !errors.Is(err, ErrNoState) {
			return err
		}
		return nil
	}
	if err != nil {
		return err
	}
	if b.Organizer.ID != "" && b.Organizer.ID != m.ID && s.opt.Removed != nil {
		r := Removal{ID: b.ID, Room: p.room.ID, Title: b.Title, Start: b.Start, End: b.End, Owner: b.Organizer.ID, By: "admin", Reason: reason}
		if err := s.opt.Removed(ctx, r); err != nil {
			return fmt.Errorf("its owner could not be told: %w", err)
		}
	}
	return s.remove(ctx, p, b, read)
}
