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

// Approval for chosen rooms (Rules.Approvers). A member's booking of such
// a room is a request: written at once as a booking that holds the slot
// (Pending, STATUS:TENTATIVE in the calendar, with its lapse time), so a
// second request for the slot is refused like any booking. A member of
// one of the room's approver groups (or an admin) accepts it (it becomes
// a plain booking) or refuses it with a reason (it is deleted). One not
// answered by its ApprovalDue lapses: the sweep (sweepLapsed, from the
// sync loop) deletes it. Everything is read from the calendar, so the
// state survives restarts and Redis flushes.

// DefaultApprovalWithin is how long a request waits when the room's
// rules do not say.
const DefaultApprovalWithin = 7 * 24 * time.Hour

// maxReason bounds a refusal's reason.
const maxReason = 500

// NoticeKind says what happened to a member's booking without them.
type NoticeKind string

const (
	NoticeAccepted NoticeKind = "request_accepted"
	NoticeRefused  NoticeKind = "request_refused"
	NoticeLapsed   NoticeKind = "request_lapsed"
	// NoticeMoved: an admin moved or resized a member's booking, or it
	// was moved straight in the calendar (a sync pass found it).
	NoticeMoved NoticeKind = "booking_moved"
	// NoticeConflict: something put straight in the calendar overlaps a
	// member's booking (a sync pass found it); admins settle it.
	NoticeConflict NoticeKind = "booking_conflict"
)

// Notice is one thing a booking's organizer is to be told.
type Notice struct {
	Kind    NoticeKind
	Booking Booking // as it was before the change (for a deletion) or after it
	Room    Room
	By      Member // who acted; zero when roomcal did (a lapse) or the calendar
	Reason  string // a refusal's reason, a release's note
	// From is the version (ETag) of the booking that the change is made
	// over, and Other the object a conflict is with: with the kind and
	// the booking they name the change, so that recording it twice (a
	// sync pass made again) makes one notice.
	From, Other string
}

// Notifier is told of what is about to happen to a member's booking
// without them, before the change is written: an error stops the change
// (nothing is written, the caller gets the error; a sweep or a sync pass
// tries again). The notices of issue 14 implement it durably (an outbox
// in the calendar store) and check each notice against the record before
// telling anyone, so that a change that then fails is never told. nil
// (Options.Notifier) tells nobody.
type Notifier interface {
	BookingNotice(ctx context.Context, n Notice) error
}

func (s *Service) notify(ctx context.Context, n Notice) error {
	if s.opt.Notifier == nil {
		return nil
	}
	if err := s.opt.Notifier.BookingNotice(context.WithoutCancel(ctx), n); err != nil {
		return fmt.Errorf("booking %s: its owner could not be told: %w", n.Booking.ID, err)
	}
	return nil
}

// needsApproval reports whether m's booking of r is a request.
func needsApproval(r Room, m Member) bool {
	return len(r.Rules.Approvers) > 0 && !mayApprove(r, m)
}

// mayApprove reports whether m answers requests for r.
func mayApprove(r Room, m Member) bool {
	if m.IsAdmin() {
		return true
	}
	for _, g := range r.Rules.Approvers {
		if m.InGroup(g) {
			return true
		}
	}
	return false
}

func approvalWithin(r Room) time.Duration {
	if r.Rules.ApprovalWithin > 0 {
		return r.Rules.ApprovalWithin
	}
	return DefaultApprovalWithin
}

// Request is one request waiting for m's answer, as Requests lists it.
type PendingRequest struct {
	Busy        // the first occurrence (Ref is the booking id)
	Room   Room // its room
	SiteID string
	// OrganizerName is the requester's name as the booking records it
	// (Busy.Organizer is only their id, an opaque subject with single
	// sign-on); "" when the booking could not be read.
	OrganizerName string
}

// Requests lists the requests waiting in the rooms whose requests m
// answers, soonest first (from the gate's copy of the calendars).
func (s *Service) Requests(ctx context.Context, m Member) ([]PendingRequest, error) {
	rooms, err := s.roomsFor("", "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []PendingRequest
	for _, p := range rooms {
		if len(p.room.Rules.Approvers) == 0 || !mayApprove(p.room, m) {
			continue
		}
		bs, _, err := s.busy(ctx, p, now, s.window().End)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, b := range bs {
			if b.Pending && b.Kind == KindBooking && !seen[b.Ref] {
				seen[b.Ref] = true
				out = append(out, PendingRequest{Busy: b, Room: p.room, SiteID: p.site.ID})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	// Approvers answer people, not ids (names.go). A queue is short; a
	// request that cannot be read now is still listed, by id.
	refs := make([]namedRef, 0, len(out))
	for _, r := range out {
		if p, err := s.placeOfBooking(r.Ref); err == nil {
			refs = append(refs, namedRef{p, r.Ref})
		}
	}
	names := s.organizerNames(ctx, refs)
	for i := range out {
		out[i].OrganizerName = names[out[i].Ref]
	}
	return out, nil
}

// ErrNotPending: the booking is not (or no longer) a request.
var ErrNotPending = errors.New("not a pending request")

// Decide accepts or refuses request id as m, who must answer the room's
// requests (ErrForbidden). A refusal needs a reason, told to the
// requester. Accepted, the booking is returned as it now is.
func (s *Service) Decide(ctx context.Context, m Member, id string, accept bool, reason string) (Booking, error) {
	reason = strings.TrimSpace(CleanText(reason))
	if !accept && reason == "" {
		return Booking{}, Invalidf("dites pourquoi la demande est refusée / a refusal needs a reason")
	}
	if utf8.RuneCountInString(reason) > maxReason {
		return Booking{}, Invalidf("raison trop longue (%d caractères au plus) / reason too long", maxReason)
	}
	p, err := s.placeOfBooking(id)
	if err != nil {
		return Booking{}, err
	}
	if !mayApprove(p.room, m) {
		return Booking{}, fmt.Errorf("answer request %s: %w", id, ErrForbidden)
	}
	lease, err := s.lockBooking(ctx, id)
	if err != nil {
		return Booking{}, err
	}
	defer lease.Release()
	b, read, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	if err != nil {
		return Booking{}, err
	}
	if !b.Pending {
		return Booking{}, fmt.Errorf("booking %s: %w", id, ErrNotPending)
	}
	if !accept {
		if err := s.notify(ctx, Notice{Kind: NoticeRefused, Booking: b, Room: p.room, By: m, Reason: reason, From: read.ETag()}); err != nil {
			return Booking{}, err
		}
		if err := s.remove(ctx, p, b, read); err != nil {
			return Booking{}, err
		}
		return b, nil
	}
	b.Pending, b.ApprovalDue = false, time.Time{}
	if err := s.notify(ctx, Notice{Kind: NoticeAccepted, Booking: b, Room: p.room, By: m, From: read.ETag()}); err != nil {
		return Booking{}, err
	}
	written, err := s.cal.Update(ctx, p.room, p.site.Location, b, read)
	if err != nil {
		return Booking{}, fmt.Errorf("accept %s: %w", id, err)
	}
	s.recordWritten(ctx, p, b, written)
	return b, nil
}

// recordWritten puts a booking just rewritten in place (same slot) into
// the gate's copy at once; a failure is left to the next sync pass.
func (s *Service) recordWritten(ctx context.Context, p place, b Booking, written Version) {
	busy, err := s.busyOf(p, b)
	if err != nil {
		return
	}
	put := map[string]ObjectState{b.ID: {ETag: written.ETag(), Busy: busy}}
	if err := s.g.Apply(ctx, p.room.ID, "", put, nil, nil); err != nil && !errors.Is(err, ErrNoState) {
		s.log.WarnContext(ctx, "booking rewritten; the gate has it at the next sync", "room", p.room.ID, "booking", b.ID, "err", err)
	}
}

// busyOf is what the gate records of booking b: its occurrences (a
// series' from the calendar's rule), as its write records them.
func (s *Service) busyOf(p place, b Booking) ([]Busy, error) {
	occ := []Interval{{Start: b.Start, End: b.End}}
	if b.Recurrence != "" {
		o, err := s.seriesOf(p, b)
		if err != nil {
			return nil, err
		}
		occ = o
	}
	busy := make([]Busy, len(occ))
	for i, o := range occ {
		busy[i] = Busy{Ref: b.ID, Start: o.Start, End: o.End, Kind: KindBooking, Title: b.Title, Organizer: b.Organizer.ID, Pending: b.Pending,
			CheckedIn: !b.CheckedIn.IsZero(), Released: !b.Released.IsZero()}
		if b.IsEvent() {
			busy[i].Kind = KindEvent
		}
	}
	return busy, nil
}

// sweepLapsed deletes the requests of room p whose time to be answered
// is over, and tells their requesters. It runs from the sync loop, at
// most once per SweepEvery per room across every replica (a lock that
// is left to expire); each lapse is made under the booking's own lock
// and over the version read (If-Match), so an answer given meanwhile
// wins, and only the replica that deleted the request tells anyone.
func (s *Service) sweepLapsed(ctx context.Context, p place) error {
	if len(p.room.Rules.Approvers) == 0 {
		return nil
	}
	_, ok, err := s.g.LockObject(ctx, p.room.ID, "sweep-requests", s.opt.SweepEvery)
	if err != nil || !ok {
		return err
	}
	now := s.now()
	return s.sweep(ctx, p, now.Add(-7*24*time.Hour), s.window().End, "request not lapsed",
		func(x Busy) bool { return x.Pending },
		func(id string) error { return s.lapse(ctx, p, id, now) })
}

// sweep acts once on every booking of room p in [from, to) that pick
// chooses (each booking once, whatever its occurrences), logging what
// failed as what (the next sweep tries again). A booking gone or changed
// meanwhile is left to the next sweep silently.
func (s *Service) sweep(ctx context.Context, p place, from, to time.Time, what string, pick func(Busy) bool, act func(id string) error) error {
	bs, _, err := s.busy(ctx, p, from, to)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, x := range bs {
		if x.Kind != KindBooking || seen[x.Ref] || !pick(x) {
			continue
		}
		seen[x.Ref] = true
		if err := act(x.Ref); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrStale) {
			s.log.WarnContext(ctx, what+"; tried again at the next sweep", "room", p.room.ID, "booking", x.Ref, "err", err)
		}
	}
	return nil
}

func (s *Service) lapse(ctx context.Context, p place, id string, now time.Time) error {
	b, _, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	if err != nil {
		return err
	}
	if !b.Pending || b.ApprovalDue.IsZero() || b.ApprovalDue.After(now) {
		return nil
	}
	lease, err := s.lockBooking(ctx, id)
	if err != nil {
		return err
	}
	defer lease.Release()
	b, read, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	if err != nil {
		return err
	}
	if !b.Pending || b.ApprovalDue.After(now) {
		return nil
	}
	if err := s.notify(ctx, Notice{Kind: NoticeLapsed, Booking: b, Room: p.room, From: read.ETag()}); err != nil {
		return err
	}
	if err := s.remove(ctx, p, b, read); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "request lapsed", "room", p.room.ID, "booking", id, "due", b.ApprovalDue)
	return nil
}
