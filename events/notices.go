package events

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// What registrants were told, kept with the record.
//
// Each registration carries, in its ATTENDEE line, what its member was
// last told of the event (Registration.Told), so that notices are
// derived from the record alone: a Redis flush, a restart or a failover
// neither loses a notice nor sends it again. Told is
//
//   - "" for an attendee that predates notices or was added straight in
//     the calendar: nothing is owed, the notices worker records a
//     baseline (Mark) without telling;
//   - NewPrefix+Mark(r, ev) when the registration first reaches the
//     calendar (written by the flusher): nothing told yet, and what the
//     member saw when registering;
//   - Mark(r, ev) once the member was told about that state.
//
// The notices worker compares Told with the current Mark: a status gone
// from waitlisted to confirmed is a promotion, another time or place a
// change, a cancellation a cancellation. It writes the new Told
// (MarkTold) once the message is sent.

// NewPrefix starts the Told of a registration nobody was told about yet.
const NewPrefix = "new:"

// Mark is the short form of what a registrant would be told now: their
// status ("c" confirmed, "w" waitlisted), then "x" when the event is
// cancelled, then a hash of its time and place.
func Mark(r Registration, ev Event) string {
	st := "w"
	if r.Status == Confirmed {
		st = "c"
	}
	if ev.Settings.Cancelled {
		st += "x"
	}
	return st + "-" + Place(ev)
}

// Place hashes what a registrant's calendar entry depends on: start,
// end, room and location.
func Place(ev Event) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d|%d|%s|%s", ev.Start.Unix(), ev.End.Unix(), ev.Room, ev.Location)
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// MarkParts splits a Told or Mark value: was it new (nothing told yet),
// the status letter, whether cancelled, the place hash. ok is false for
// an empty or unreadable value.
func MarkParts(told string) (isNew bool, status RegStatus, cancelled bool, place string, ok bool) {
	isNew = strings.HasPrefix(told, NewPrefix)
	told = strings.TrimPrefix(told, NewPrefix)
	head, place, found := strings.Cut(told, "-")
	if !found || head == "" {
		return false, "", false, "", false
	}
	switch head[0] {
	case 'c':
		status = Confirmed
	case 'w':
		status = Waitlisted
	default:
		return false, "", false, "", false
	}
	return isNew, status, strings.Contains(head[1:], "x"), place, true
}

// carryTold sets the Told of the registrations about to be written:
// kept from the object read (prev) for the members it holds, the
// NewPrefix mark for those it does not (registered since).
func carryTold(regs, prev []Registration, ev Event) {
	told := make(map[string]string, len(prev))
	for _, r := range prev {
		told[r.Member] = r.Told
	}
	for i := range regs {
		if t, ok := told[regs[i].Member]; ok {
			regs[i].Told = t
			continue
		}
		regs[i].Told = NewPrefix + Mark(regs[i], ev)
	}
}

// Record reads the event's object from the calendar (not the gate): what
// the notices worker compares.
func (s *Service) Record(ctx context.Context, id string) (Record, error) {
	rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
	defer cancel()
	rec, err := s.cal.Read(rctx, id)
	if err != nil {
		return Record{}, fmt.Errorf("event %s: %w", id, err)
	}
	s.normalise(&rec.Event)
	return rec, nil
}

// Changes lists the events changed in the calendar since token ("" for
// all of them), for the notices worker's sweeps.
func (s *Service) Changes(ctx context.Context, token string) (Changes, error) {
	return s.cal.Changes(ctx, token)
}

// MarkTold records, under the event's write lock, what members were
// told: told maps a member id to its new Told. Members no longer
// registered are skipped. The write is conditional; a concurrent change
// makes it read and try again.
func (s *Service) MarkTold(ctx context.Context, id string, told map[string]string) error {
	if len(told) == 0 {
		return nil
	}
	lease, _, err := s.lock(ctx, id, func(context.Context) bool { return false })
	if err != nil {
		return fmt.Errorf("mark told on event %s: %w", id, err)
	}
	defer lease.Release()
	for attempt := 0; attempt < 5; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
		rec, err := s.cal.Read(rctx, id)
		cancel()
		if err != nil {
			return fmt.Errorf("mark told on event %s: %w", id, err)
		}
		changed := false
		for i, r := range rec.Registrations {
			if t, ok := told[r.Member]; ok && r.Told != t {
				rec.Registrations[i].Told = t
				changed = true
			}
		}
		if !changed {
			return nil
		}
		wctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
		etag, err := s.cal.Update(wctx, rec)
		cancel()
		if errors.Is(err, booking.ErrStale) {
			continue
		}
		if err != nil {
			return fmt.Errorf("mark told on event %s: %w", id, err)
		}
		s.writes.Add(1)
		// Nothing of the gate's is in this write: when nothing is
		// pending, the gate adopts the new ETag (else the next flush
		// reads the object and does).
		if p, err := s.g.Progress(ctx, id); err == nil && p.Durable >= p.Ver {
			if err := s.g.Written(ctx, id, p.Gen, p.Ver, etag); err != nil && !errors.Is(err, ErrNoState) {
				s.log.WarnContext(ctx, "told marks written, gate not told", "event", id, "err", err)
			}
		}
		return nil
	}
	return fmt.Errorf("mark told on event %s: %w: changed again and again", id, booking.ErrStale)
}

// changed tells the notices worker (Options.Changed) that an event's
// object was written.
func (s *Service) changed(id string) {
	if s.opt.Changed != nil {
		s.opt.Changed(id)
	}
}

// Until is when a notice about an event is no longer worth sending: its
// end.
func Until(ev Event) time.Time { return ev.End }
