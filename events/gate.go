package events

import (
	"context"
	"errors"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// Errors of the gate's decisions, for callers to branch on.
var (
	// ErrNoState: the gate holds no state for the event (a new or
	// flushed Redis); the caller rebuilds it from the calendar with Load.
	ErrNoState = errors.New("events: event state missing, rebuild needed")
	// ErrFull: every seat is taken and the event has no waiting list.
	ErrFull = errors.New("events: event is full")
	// ErrClosed: registration is not open (before Opens, after Closes
	// or the start, or the event is cancelled).
	ErrClosed = errors.New("events: registration closed")
	// ErrLeaseLost: the write lease given to Rollback or Load is no longer
	// held (it expired, or the gate was flushed), or the state's
	// generation is not the one given.
	ErrLeaseLost = errors.New("events: write lease lost")
)

// Outcome is what a decision of the gate changed.
type Outcome struct {
	// Gen and Ver name the state that holds the decision: the caller
	// acknowledges it once Progress says Ver is durable in generation
	// Gen. Ver is 0 when the decision changed nothing and there is
	// nothing to wait for.
	Gen string
	Ver int64
	// Reg is the member's registration (Register).
	Reg Registration
	// Created is true when Register made a new registration, false when
	// the member was already registered (the same answer is given again).
	Created bool
	// Found is true when Unregister removed a registration.
	Found bool
}

// State is the whole state of one event as the gate holds it.
type State struct {
	// Gen names this incarnation of the state: Load starts a new one
	// (unless it is given one), so a caller that waits for a version
	// can tell a flushed and rebuilt state from the one it decided in.
	Gen string
	// Ver is the version of the last change; Durable the newest version
	// known to be on the calendar server (Durable <= Ver).
	Ver, Durable int64
	// ETag is the ETag of the event's calendar object as roomcal last
	// wrote or loaded it.
	ETag string
	// Event is the event as last loaded, reconciled or configured; its
	// Settings are the ones decisions are taken by.
	Event Event
	// Seq is the last arrival number handed out.
	Seq int64
	// Registrations lists the confirmed registrations by Seq, then the
	// waitlisted ones by Seq with Position 1, 2, …
	Registrations []Registration
}

// Counts returns the number of confirmed and waitlisted registrations.
func (s State) Counts() (confirmed, waitlisted int) {
	for _, r := range s.Registrations {
		if r.Status == Confirmed {
			confirmed++
		} else {
			waitlisted++
		}
	}
	return confirmed, waitlisted
}

// Find returns member's registration, if any.
func (s State) Find(member string) (Registration, bool) {
	for _, r := range s.Registrations {
		if r.Member == member {
			return r, true
		}
	}
	return Registration{}, false
}

// VerRange is the versions (From, To] of changes that were rolled back.
type VerRange struct{ From, To int64 }

// Progress tells callers waiting for their change to reach the calendar
// where the event's state stands.
type Progress struct {
	Gen          string
	Ver, Durable int64
	// Failed lists recent rollbacks (at least those of the last ten
	// minutes), oldest first.
	Failed []VerRange
}

// Settle says what became of change ver of generation gen: done (it is
// durable), failed (it was rolled back: ErrRolledBack), lost (the state
// was flushed and rebuilt since: ErrNoState; the caller decides again),
// or still pending (false, nil).
func (p Progress) Settle(gen string, ver int64) (bool, error) {
	if p.Gen != gen {
		return false, ErrNoState
	}
	for _, f := range p.Failed {
		if ver > f.From && ver <= f.To {
			return false, ErrRolledBack
		}
	}
	return ver <= p.Durable, nil
}

// ErrRolledBack: the change could not be written to the calendar and
// was taken back.
var ErrRolledBack = errors.New("events: change rolled back, calendar write failed")

// Summary is an event and its counts, for lists.
type Summary struct {
	Event                 Event
	Confirmed, Waitlisted int
}

// Gate holds the shared state of events and takes the decisions on it,
// each in one atomic step (one Lua script, run by Redis or by the
// embedded engine). Implementations are safe for concurrent use
// and, for Redis, by many processes. It is made of three ports:
// Decisions (what members and organisers do, and what is read of it),
// Durability (how the state meets the calendar: written, rolled back,
// loaded, locked, watched) and Index (the list of events by start).
//
// # Versions and durability
//
// Every decision that changes an event's state (Register, Unregister,
// Configure, and Reconcile when it changes something) takes the next
// version Ver and records, for that version, what it changed, so that
// Rollback can undo it. A registration remembers the version of its last
// change; an unregistered member leaves a tombstone with the version of
// the removal. Written marks everything up to a version durable (it is
// on the calendar server) and forgets the undo records and tombstones up
// to it.
//
// # Decisions
//
//   - Register: a live registration of the member is returned as it is
//     (Created false, Ver the version of its last change if that is not
//     durable yet, else 0). Otherwise, in this order: a cancelled event
//     or one outside its registration window (open from Opens, or
//     always when zero, until ClosesAt, exclusive) gives ErrClosed; a
//     seat free (confirmed < Capacity) gives a confirmed registration; else, with a waiting list, a waitlisted
//     one at the end of the list; else ErrFull. A new registration takes
//     the next arrival number (Seq) and At = now.
//   - Unregister: removes the member's registration (Found). When it was
//     confirmed, the head of the waiting list (lowest Seq) is confirmed
//     in the same step if confirmed < Capacity afterwards. Not
//     registered: Found false, Ver the version of a removal not yet
//     durable, else 0.
//   - Configure: replaces the event's description and settings. While
//     confirmed < Capacity and someone waits, the head of the waiting
//     list is confirmed (raising the cap promotes at once); lowering the
//     cap removes no one (new registrants wait until the count is under
//     the cap). Turning the waiting list off keeps who waits.
//   - Reconcile applies what changed in the calendar object outside
//     roomcal, given the attendees the object lists now (present):
//     a present member with no live registration and no removal pending
//     (a tombstone newer than Durable) was added outside: registered
//     confirmed if a seat is free, else waitlisted (even without a
//     waiting list, and whatever the window: someone put them there on
//     purpose, and nothing is dropped), with the next Seq; a live
//     registration whose last change is durable and that is not present
//     was removed outside: it is unregistered as by Unregister. Pending
//     changes (newer than Durable) are kept: they are not written yet.
//     The event's fields are replaced by ev's, except Settings, which
//     keep the gate's values but for Start (ev.Start). When etag equals
//     State.ETag nothing is done (the object is the one roomcal wrote).
//     It returns the state after.
//   - Promotion: whichever decision confirms a waitlisted member (the
//     promotions of Unregister, Configure and Reconcile) sets the
//     registration's Promoted to the gate's clock (the Redis server's,
//     or the embedded engine's), to the second; a registration confirmed at once, or
//     added by Reconcile, has none. Load keeps the Promoted of the
//     confirmed registrations it is given.
//   - Rollback undoes every change newer than Durable, newest first, so
//     that the state is again exactly the one at Durable (arrival
//     numbers excepted: Seq never goes back), records (Durable, Ver] as
//     failed in Progress, and sets Durable to Ver. It requires the write
//     lease (from Lock) to be still held and the generation to be gen:
//     ErrLeaseLost otherwise.
//
// # Loss of state
//
// The state may vanish at any time (Redis flushed). Methods that need it
// return ErrNoState, and the caller rebuilds it with Load from the
// calendar. Lock and Load take a lease like booking.Gate's: only the
// replica that holds the event's write lock reads and writes its object,
// so no older reading is ever installed over a newer one.
type Gate interface {
	Decisions
	Durability
	Index
}

// Decisions are the gate's decisions on one event and the reads of their
// results (see Gate).
type Decisions interface {
	// Register registers r.Member (Name and Email are kept) at now.
	Register(ctx context.Context, event string, r Registration, now time.Time) (Outcome, error)
	// Unregister removes member's registration.
	Unregister(ctx context.Context, event, member string) (Outcome, error)
	// Configure replaces the event's fields and settings (ev.ID is
	// event).
	Configure(ctx context.Context, event string, ev Event) (Outcome, error)
	// Reconcile applies outside changes read from the calendar object
	// whose ETag is etag (see the type's documentation).
	Reconcile(ctx context.Context, event, etag string, ev Event, present []Registration, now time.Time) (State, error)

	// State returns the event's whole state.
	State(ctx context.Context, event string) (State, error)
	// Mine returns member's live registration with its current Position;
	// ok is false when the member is not registered. It reads one
	// registration, not the whole event.
	Mine(ctx context.Context, event, member string) (reg Registration, ok bool, err error)
	// Progress returns what waiting callers need to settle.
	Progress(ctx context.Context, event string) (Progress, error)
	// Summaries returns the events of ids that have state, with their
	// counts, in the order of ids; ids without state are left out.
	Summaries(ctx context.Context, ids []string) ([]Summary, error)
}

// Durability is how an event's state in the gate meets its calendar
// object: which versions are written, undoing what could not be, loading
// the state read from the calendar, the write lock, and the notices
// waiters wake on (see Gate).
type Durability interface {
	// Written records that the calendar object, now with ETag etag,
	// holds the state at version ver of generation gen: Durable becomes
	// at least ver. A different generation gives ErrNoState and changes
	// nothing.
	Written(ctx context.Context, event, gen string, ver int64, etag string) error
	// Rollback undoes the changes not yet durable (see the type's
	// documentation).
	Rollback(ctx context.Context, event, gen, lease string) error

	// Load installs st, read from the calendar, as the event's state.
	// Registrations with a Seq are installed as they are; those without
	// are then added in order as Reconcile adds them. Ver and Durable
	// become st.Ver; Gen is st.Gen, or a new one when empty; the arrival
	// counter starts after the highest Seq. With a lease it installs
	// only while the lease is held (ErrLeaseLost otherwise) and the
	// event has no state (a state present is left as it is, nil); with
	// an empty lease it replaces the state unconditionally.
	Load(ctx context.Context, event string, st State, lease string) error
	// Drop forgets the event (its object is gone from the calendar).
	Drop(ctx context.Context, event string) error
	// Lock takes the event's write lock for ttl if no one holds it.
	Lock(ctx context.Context, event string, ttl time.Duration) (lease booking.Lease, ok bool, err error)
	// Watch subscribes to the event's changes: a write recorded, a
	// rollback, a Load or a Drop, its write lock released (see
	// booking.Watch). The index's lock is taken, and watched, under the
	// event id "~index".
	Watch(event string) booking.Watch
}

// Index is the list of events by start, for lists (see Gate).
type Index interface {
	// IndexRange returns the ids of the events whose start is in
	// [from, to), by start; it fails with ErrNoState when the index is
	// absent (IndexLoad installs it, replacing any index there was).
	IndexRange(ctx context.Context, from, to time.Time) (ids []string, err error)
	IndexLoad(ctx context.Context, token string, starts map[string]time.Time) error
	IndexPut(ctx context.Context, id string, start time.Time) error
	IndexDel(ctx context.Context, id string) error
	// IndexToken returns the events calendar's change token as last set
	// (ErrNoState when the index is absent); SetIndexToken sets it.
	IndexToken(ctx context.Context) (string, error)
	SetIndexToken(ctx context.Context, token string) error
}
