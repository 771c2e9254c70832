package booking

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Writes whose outcome is unknown.
//
// A PUT that timed out, or whose connection broke, may have been stored
// (its answer was lost), may be stored later (a frozen server applies
// the request it holds when it resumes), or may never be. Releasing its
// hold at once would let another member take the slot while the first
// object lands over it: a double booking, and an object no one knows of.
// So the hold is kept, refreshed, by a settler that outlives the request
// and asks the calendar, with deadlines of its own, until it knows:
//
//   - the object is there as written: it is the member's booking (in
//     their bookings, busy in the gate), though they were answered 503;
//   - the object is not there (or, for a move, still as it was), and
//     stays so for SettleGrace after the server first answered again (a
//     write held by a frozen server lands within moments of its
//     resuming): the write did not happen, and the hold is released;
//   - the gate lost the hold and gave the slot to someone else meanwhile
//     (a flush): the object, if it lands, is taken back (deleted, or a
//     move written back), so that the slot's new holder keeps it.
//
// A settler stops when the service closes; the hold then expires after
// HoldTTL, and a write landing later is an overlap the sync reports.

// SettleGrace is how long a settler waits, once the server answers
// again, for a write it held to land before deciding it never will. The
// events writer waits as long for an event's write.
const SettleGrace = 5 * time.Second

// settleTry bounds one look at the calendar or the gate while settling.
const settleTry = 10 * time.Second

// unknownWrite is a booking write whose outcome is unknown.
type unknownWrite struct {
	p     place
	b     Booking
	busy  []Busy
	claim Claim
	prev  *Booking // the booking before a move; nil for a new booking
	over  Version  // the version a move was written over
}

// OutcomeUnknown says whether a failed write may still have been stored
// (or be stored later): anything but a definite refusal or a write that
// was never sent.
func OutcomeUnknown(err error) bool {
	for _, definite := range []error{ErrNotSent, ErrStale, ErrInvalid, ErrNotFound, ErrForbidden} {
		if errors.Is(err, definite) {
			return false
		}
	}
	return true
}

// settleLater starts a settler for w.
func (s *Service) settleLater(w unknownWrite) {
	s.log.Warn("booking write outcome unknown: the slot stays held until the calendar says",
		"room", w.p.room.ID, "booking", w.b.ID)
	s.settling.Add(1)
	go func() {
		defer s.settling.Done()
		s.settle(s.life, w)
	}()
}

// settle asks until w's outcome is known (see above), keeping its hold.
func (s *Service) settle(ctx context.Context, w unknownWrite) {
	room := w.p.room.ID
	log := s.log.With("room", room, "booking", w.b.ID)
	var answeredAt time.Time // when the server first answered again
	takeBack := false        // the slot went to someone else: undo our write
	wait := 250 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			log.Warn("service closing with a booking write still unsettled; its hold expires", "hold_ttl", s.opt.HoldTTL)
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)

		if !takeBack {
			// Keep the slot: a claim with the same hold id replaces it.
			err := s.tryGate(ctx, w.p, func(ctx context.Context) error { return s.g.Claim(ctx, room, w.claim) })
			switch {
			case lostSlot(err):
				// The hold was lost (a flush) and the slot given to
				// someone, or the member's quota used up meanwhile:
				// whatever of ours lands must go.
				takeBack = true
			case err != nil:
				log.Warn("settling a booking write: the gate does not answer", "err", err)
				continue
			}
		}

		gctx, cancel := context.WithTimeout(ctx, settleTry)
		cur, ver, err := s.cal.Get(gctx, w.p.room, w.p.site.Location, w.b.ID)
		cancel()
		if err != nil && !errors.Is(err, ErrNotFound) {
			continue // still frozen, or unreachable
		}
		landed := err == nil && (w.prev == nil || (ver.ETag() != w.over.ETag() && cur.Start.Equal(w.b.Start) && cur.End.Equal(w.b.End)))
		switch {
		case landed && takeBack:
			if uerr := s.undo(ctx, w, ver); uerr != nil {
				log.Warn("settling a booking write: taking it back failed; trying again", "err", uerr)
				continue
			}
			log.Warn("a booking write landed after its slot was given to someone else: taken back")
			s.release(room, w.claim.HoldID)
			return
		case landed:
			err := s.tryGate(ctx, w.p, func(ctx context.Context) error {
				return s.g.Commit(ctx, room, w.claim.HoldID, w.b.ID, ver.ETag(), w.busy, w.p.room.Rules.Buffer, w.claim.Quota)
			})
			switch {
			case lostSlot(err):
				takeBack = true
			case err != nil:
				log.Warn("settling a booking write: commit failed; trying again", "err", err)
			default:
				log.Info("a booking write whose answer was lost is on the calendar: it stands")
				return
			}
		case w.prev != nil && err == nil && ver.ETag() != w.over.ETag():
			// Changed by someone else since: our move did not stand.
			log.Info("a booking move whose answer was lost was overtaken by another change")
			s.release(room, w.claim.HoldID)
			return
		default:
			// Not there (or a move not applied), and the server answers.
			if answeredAt.IsZero() {
				answeredAt = s.now()
				wait = SettleGrace
				continue
			}
			if s.now().Sub(answeredAt) < SettleGrace {
				continue
			}
			log.Info("a booking write whose answer was lost never reached the calendar: slot released")
			s.release(room, w.claim.HoldID)
			return
		}
	}
}

// tryGate runs fn on the gate with a deadline of its own, rebuilding the
// room's state first when the gate lost it.
func (s *Service) tryGate(ctx context.Context, p place, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, settleTry)
	defer cancel()
	return s.withState(ctx, p, func() error { return fn(ctx) })
}

func isConflict(err error) bool {
	var ce *ConflictError
	return errors.As(err, &ce)
}

// lostSlot says whether the gate refused to keep or commit a settling
// write's slot: it clashes now, the member's quota was used up while the
// hold was lost, or the room was retired meanwhile.
func lostSlot(err error) bool {
	var qe *QuotaError
	return isConflict(err) || errors.As(err, &qe) || errors.Is(err, ErrRetired)
}

// undo takes back a write that landed after its slot went to someone
// else: a new booking is deleted, a move written back as it was.
func (s *Service) undo(ctx context.Context, w unknownWrite, landed Version) error {
	uctx, cancel := context.WithTimeout(ctx, settleTry)
	defer cancel()
	if w.prev == nil {
		if err := s.cal.Delete(uctx, w.p.room, w.b.ID, landed.ETag()); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("delete %s: %w", w.b.ID, err)
		}
		return s.forget(uctx, w.p, w.b.ID)
	}
	back, err := s.cal.Update(uctx, w.p.room, w.p.site.Location, *w.prev, landed)
	if err != nil {
		return fmt.Errorf("write back %s: %w", w.b.ID, err)
	}
	return s.forgetChange(uctx, w.p, *w.prev, back)
}
