package booking

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind says where a busy interval comes from.
type Kind string

const (
	KindBooking  Kind = "booking"  // made through roomcal
	KindEvent    Kind = "event"    // an internal event held in the room
	KindExternal Kind = "external" // put in the calendar by someone else
	KindHold     Kind = "hold"     // a claim whose booking is being written
)

// Busy is one interval in which a room is taken.
type Busy struct {
	// Ref names what the interval comes from: the calendar object (for a
	// booking, its id); one recurring object gives several intervals with
	// the same Ref. For a hold, the hold id.
	Ref       string
	Start     time.Time
	End       time.Time
	Kind      Kind
	Title     string
	Organizer string // member id of a booking's organizer, if known
	// Pending marks a booking waiting for approval: it holds the slot
	// like any booking.
	Pending bool
	// CheckedIn and Released: the booking was checked in, or cut short
	// for want of a check-in (checkin.go).
	CheckedIn, Released bool
}

// Overlaps reports whether b overlaps [start, end) widened by buffer on
// both sides (half-open intervals).
func (b Busy) Overlaps(start, end time.Time, buffer time.Duration) bool {
	return b.Start.Before(end.Add(buffer)) && b.End.After(start.Add(-buffer))
}

// ErrNoState is returned by a Gate when it holds no state for a room (a new
// or flushed Redis): the caller rebuilds the room from its calendar with
// Load, then tries again.
var ErrNoState = errors.New("booking: room state missing, rebuild needed")

// ErrHoldLost is returned by Gate.Release when the hold is already gone
// (expired, released, or lost in a flush). Callers usually ignore it.
var ErrHoldLost = errors.New("booking: hold lost")

// ErrRetired is returned by Gate.Claim in a room the gate knows retired
// (Gate.Retire, or a Load whose snapshot says so).
var ErrRetired = errors.New("booking: room retired")

// RoomFuture is what keeps a room from being retired (Gate.RetireIfClear):
// the refs of its bookings that end after a given time, and how many
// bookings are being written in it (live holds).
type RoomFuture struct {
	Refs  []string
	Holds int
}

// Clear reports whether nothing keeps the room.
func (f RoomFuture) Clear() bool { return len(f.Refs) == 0 && f.Holds == 0 }

// ConflictError is returned when a claimed interval clashes. Conflicts
// lists what it clashes with.
type ConflictError struct {
	Room      string
	Conflicts []Busy
}

func (e *ConflictError) Error() string {
	parts := make([]string, 0, len(e.Conflicts))
	for _, c := range e.Conflicts {
		parts = append(parts, fmt.Sprintf("%s [%s, %s)", c.Kind, c.Start.Format(time.RFC3339), c.End.Format(time.RFC3339)))
	}
	return fmt.Sprintf("room %s is taken: %s", e.Room, strings.Join(parts, ", "))
}

// RoomVersion is one room's answer to Gate.Versions.
type RoomVersion struct {
	Token, Version string
	Err            error
}

// Claim asks the gate for one or more intervals of a room at once (several
// for a recurring booking: all or none).
type Claim struct {
	HoldID    string
	Intervals []Busy // Start, End, Kind and Title of what is being booked
	// Buffer is the free time that must remain between a claimed interval
	// and any other busy interval or hold.
	Buffer time.Duration
	// TTL bounds the hold's life: if the claimant dies before Commit or
	// Release, the slot is free again after TTL.
	TTL time.Duration
	// Ignore names a Ref whose busy intervals do not count (moving a
	// booking: its old slot does not block its new one, nor counts
	// against a quota).
	Ignore string
	// Quota, when set, is checked in the same atomic step as the claim:
	// the claim is refused with a *QuotaError when it would take the
	// member past it.
	Quota *QuotaCheck
	// EvenRetired takes the claim in a retired room too (an import of
	// the room's calendar: a retired room keeps its history). Other
	// claims in a retired room get ErrRetired.
	EvenRetired bool
}

// QuotaCheck asks the gate to count a member's bookings (of kind
// booking, as the rooms' states have them, so rebuilt from the calendars
// after a flush) and live holds in the claimed room and in Rooms, and to
// refuse a claim that would take the member past a limit. A zero limit
// is no limit.
type QuotaCheck struct {
	Member string   // the organizer id the claim's intervals carry
	Rooms  []string // the rooms of the quota's scope (the claimed one may be in it)
	Now    time.Time
	// PerWeek bounds the booked time in each week (Weeks: one per
	// claimed interval, in order, the site's calendar week it starts in).
	PerWeek time.Duration
	Weeks   []Interval
	// Ahead bounds the bookings (a series counts once) that end after Now.
	Ahead int
	// Longest bounds each claimed interval.
	Longest time.Duration
}

// QuotaRule names the limit of a quota.
type QuotaRule string

const (
	QuotaWeek    QuotaRule = "quota_week"
	QuotaAhead   QuotaRule = "quota_ahead"
	QuotaLongest QuotaRule = "quota_longest"
)

// QuotaError is a claim refused by a quota. Used is what the member had
// without this claim and Limit the limit: milliseconds for QuotaWeek and
// QuotaLongest (Used is then the claimed interval's length), a count for
// QuotaAhead. Week is the start of the week that is full (QuotaWeek).
type QuotaError struct {
	Room        string
	Rule        QuotaRule
	Used, Limit int64
	Week        time.Time
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("room %s: quota %s: %d of %d", e.Room, e.Rule, e.Used, e.Limit)
}

// NoStateError is ErrNoState for a room other than the one acted on (a
// room of a quota's scope): that room is to be loaded.
type NoStateError struct{ Room string }

func (e *NoStateError) Error() string { return fmt.Sprintf("room %s: %v", e.Room, ErrNoState) }

// Is makes a *NoStateError match ErrNoState.
func (e *NoStateError) Is(target error) bool { return target == ErrNoState }

// ObjectState is what the gate knows of one calendar object.
type ObjectState struct {
	ETag string
	Busy []Busy
	// Moved is set by the Calendar for a member's booking whose times
	// differ from the ones roomcal last wrote (what its owner knows):
	// moved straight in the calendar. The gate does not keep it.
	Moved *MovedOutside
}

// MovedOutside is a member's booking moved straight in the calendar:
// the booking as it is now, and Told, the times roomcal last wrote in
// it (opaque), which name the move.
type MovedOutside struct {
	Booking Booking
	Told    string
}

// Snapshot is the whole state of a room as read from its calendar.
type Snapshot struct {
	Token   string // change token of the calendar at the time of reading
	Objects map[string]ObjectState
	// Lease is the refresh lock the reader took before it started
	// reading the calendar (see Gate.Load).
	Lease string
	// Retired says the room was retired when its calendar was read (its
	// settings record, kept in the calendar, says so; without a record,
	// the configuration): Load installs it with the state, so the gate
	// knows it again after a flush.
	Retired bool
}

// Lease is a held refresh lock of a room.
type Lease struct {
	// ID names this holding of the lock.
	ID string
	// Release gives the lock back if it is still this holding's.
	Release func()
	// Extend makes the lock expire ttl from now if it is still this
	// holding's; false when it is not (it expired, or the gate was
	// flushed): the holder must then stop acting under it.
	Extend func(ctx context.Context, ttl time.Duration) (bool, error)
}

// ErrLeaseLost is returned by Load when the lease it was given is no
// longer held (it expired, or the gate was flushed meanwhile): the
// snapshot may predate bookings acknowledged since, so it is not
// installed; read the calendar again.
var ErrLeaseLost = errors.New("booking: refresh lease lost")

// Gate is the shared, atomic state of rooms: the busy intervals read from
// their calendars (a cache) and the live holds of bookings being written
// (a gate). Every method is atomic for one room: Redis, or the embedded
// engine, runs each as one Lua script. Implementations are
// safe for concurrent use by many goroutines and, for Redis, many
// processes.
//
// A Gate may lose its state at any time (Redis flushed or restarted).
// Methods that need state return ErrNoState; the caller rebuilds with Load.
type Gate interface {
	// Claim checks every interval of c against the room's busy intervals
	// and live holds (widened by c.Buffer) and, when none clashes, records
	// one hold for all of them, expiring after c.TTL. A clash gives a
	// *ConflictError listing every interval it clashes with; a room the
	// gate knows retired ErrRetired (unless c.EvenRetired).
	Claim(ctx context.Context, room string, c Claim) error
	// Commit turns a hold into the busy intervals of object ref (the
	// booking just written to the calendar), replacing any the object had.
	// When the hold is gone (it expired, or the state was flushed and
	// rebuilt), Commit checks busy against the current state as Claim
	// would, ignoring ref itself, and records it only if nothing clashes;
	// otherwise it returns a *ConflictError and records nothing. So an
	// object is recorded as busy only while no clashing hold or interval
	// is known.
	//
	// quota is the claim's own (nil: none). With the hold gone, the
	// quota is decided again in the same step, as Claim decides it (ref
	// itself not counted): a member whose hold was lost and whose quota
	// was taken meanwhile (by claims made after a flush, which could not
	// count the lost hold) gets a *QuotaError and nothing is recorded,
	// and a room of quota.Rooms without state a *NoStateError.
	Commit(ctx context.Context, room, holdID, ref, etag string, busy []Busy, buffer time.Duration, quota *QuotaCheck) error
	// Release drops a hold (the calendar write failed). ErrHoldLost if it
	// was already gone.
	Release(ctx context.Context, room, holdID string) error
	// Retire marks the room retired (or, with retired false, in service
	// again), atomically with claims: once it returns, no Claim in the
	// room passes, on any replica, whatever its catalog says. The caller
	// writes the room's settings record first: a room without state
	// learns it from its calendar at its next Load, and a Load whose
	// reading of the calendar may predate the record is refused (Retire
	// drops the refresh lock's lease: ErrLeaseLost), so that it reads
	// again. Holds and bookings already there stay.
	Retire(ctx context.Context, room string, retired bool) error
	// RetireIfClear marks the room retired as Retire does, only if its
	// state holds no booking (of kind booking or event) ending after
	// after, and no live hold (a booking being written, which may still
	// commit); otherwise it marks nothing and says what is there. The
	// check and the mark are one atomic step: no claim slips in between.
	// ErrNoState when the room has no state (load it, ask again).
	RetireIfClear(ctx context.Context, room string, after time.Time) (RoomFuture, error)
	// TakeBack records that object ref, a booking written to the
	// calendar whose commit was then refused (Commit), was taken back:
	// deleted (back is the zero ObjectState), or, for a change, written
	// back as it was (back: its ETag now and its intervals). Called once
	// the calendar holds the taking back, it closes the window in which
	// a state read from the calendar before it listed the refused
	// version. With state, ref is recorded as back says (deleted: known
	// without any interval, a tombstone), so that a fenced Apply from a
	// reading that predates the taking back skips ref; a later Apply of
	// its deletion drops the tombstone. Without state, a Load whose
	// reading may predate it is refused (ErrLeaseLost, as after Retire)
	// and reads again.
	TakeBack(ctx context.Context, room, ref string, back ObjectState) error

	// Busy lists the busy intervals and live holds that overlap
	// [from, to), sorted by start.
	Busy(ctx context.Context, room string, from, to time.Time) ([]Busy, error)
	// Token returns the room's change token (as last set by Load or
	// Apply), or ErrNoState.
	Token(ctx context.Context, room string) (string, error)
	// Version returns the room's change token (as Token does) and its
	// version: a value that changes with every change of the room's busy
	// intervals or holds (a Load or a flush included), so that two equal
	// versions give equal Busy answers, live holds aside (a hold expires
	// without a change). ErrNoState when the room has no state.
	Version(ctx context.Context, room string) (token, version string, err error)
	// Versions answers Version for every room of rooms at once (one
	// round trip to Redis), in order; a room without state has
	// ErrNoState in its Err. The error is for the call as a whole.
	Versions(ctx context.Context, rooms []string) ([]RoomVersion, error)
	// Objects returns the change token and the ETag of every object known
	// for the room, for the sync loop to compare with the calendar.
	Objects(ctx context.Context, room string) (token string, etags map[string]string, err error)

	// Apply records changes read from the calendar: objects put (their
	// busy intervals replace what the gate had for them) and objects
	// deleted, and the new change token (an empty token keeps the current
	// one). It fails with ErrNoState when the room has no state (it is not
	// a substitute for Load).
	//
	// expect fences the changes against commits made while the calendar
	// was being read: when expect is not nil, a put or deleted ref is
	// applied only if the gate's ETag for it is still expect[ref] (a ref
	// missing from expect must still be unknown to the gate); the others
	// are skipped, and the next sync pass reconciles them by ETag. A nil
	// expect applies everything.
	Apply(ctx context.Context, room, token string, put map[string]ObjectState, deleted []string, expect map[string]string) error
	// Load installs a snapshot read from the calendar as the room's
	// state, keeping live holds. With a snap.Lease (taken with Lock before
	// the calendar was read) it installs only while that lease is still
	// held and the room has no state: a flush since the reading began
	// removes the lease (ErrLeaseLost), and a room another replica loaded
	// meanwhile is left as it is (nil). So a snapshot older than a
	// booking acknowledged through the gate is never installed. With an
	// empty Lease it replaces the state unconditionally (tests, tools).
	Load(ctx context.Context, room string, snap Snapshot) error

	// Lock takes the room's refresh lock for ttl if no one holds it, so
	// that only one replica rebuilds or syncs a room at a time. It returns
	// the lease, or ok=false when another holder has it.
	Lock(ctx context.Context, room string, ttl time.Duration) (lease Lease, ok bool, err error)
	// LockObject takes the write lock of one calendar object of the room
	// (a booking) for ttl if no one holds it. Every change of a booking
	// (move, resize, rename, cancel) holds it from the read to the end of
	// the write: a server whose If-Match is not atomic (Nextcloud checks,
	// then writes) would otherwise let two changes over the same version
	// both pass. It is independent of the room's refresh lock.
	LockObject(ctx context.Context, room, ref string, ttl time.Duration) (lease Lease, ok bool, err error)
	// Watch subscribes to the room's changes: a Load installing its
	// state, its refresh lock released (see Watch).
	Watch(room string) Watch
}

// Validate checks a claim's arguments before a Gate runs it (the Gate
// implementations share it, so they refuse the same things).
func (c Claim) Validate(room string) error {
	switch {
	case room == "":
		return errors.New("room is required")
	case c.HoldID == "":
		return errors.New("hold id is required")
	case len(c.Intervals) == 0:
		return errors.New("no interval to claim")
	case c.TTL < time.Millisecond:
		return fmt.Errorf("hold ttl %v: need at least 1ms", c.TTL)
	case c.Buffer < 0:
		return fmt.Errorf("negative buffer %v", c.Buffer)
	}
	for _, b := range c.Intervals {
		if !b.End.After(b.Start) {
			return fmt.Errorf("interval [%s, %s) is empty", b.Start.Format(time.RFC3339), b.End.Format(time.RFC3339))
		}
	}
	return nil
}

// ValidateCommit checks the arguments of Gate.Commit.
func ValidateCommit(room, ref string, busy []Busy, buffer time.Duration) error {
	switch {
	case room == "":
		return errors.New("room is required")
	case buffer < 0:
		return fmt.Errorf("negative buffer %v", buffer)
	}
	return ObjectState{Busy: busy}.Validate(ref)
}

// Validate checks an object's state before a Gate records it.
func (o ObjectState) Validate(ref string) error {
	if ref == "" {
		return errors.New("object ref is required")
	}
	for _, b := range o.Busy {
		if b.End.Before(b.Start) {
			return fmt.Errorf("object %s: interval ends before it starts", ref)
		}
	}
	return nil
}

// SortBusy orders intervals by start, then end, then ref: the order Gate
// and Calendar answers are in.
func SortBusy(bs []Busy) {
	sort.SliceStable(bs, func(i, j int) bool {
		a, b := bs[i], bs[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		if !a.End.Equal(b.End) {
			return a.End.Before(b.End)
		}
		return a.Ref < b.Ref
	})
}
