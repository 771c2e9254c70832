package booking

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Import of a room's past calendar (an .ics export of the one-calendar-
// per-room set-up, Nextcloud Appointments bookings included).
//
// Every entry keeps its UID, and its object in the room's calendar is
// named after it: importing the same file again finds every entry there
// and adds nothing. An entry with instances inside the gate's window is
// claimed at the gate like any booking, so it cannot double-book over a
// booking made meanwhile: one that clashes is reported and skipped.
// Entries entirely before the window are history and are written as
// they are. Booking rules (hours, notice, how far ahead) are not applied:
// these are bookings that were made, not requests.

// ImportItem is one entry of an uploaded calendar, as the adapter read
// it. Payload is the adapter's own (the object to write), handed back to
// ImportCalendar.PutImported untouched.
type ImportItem struct {
	UID       string
	Ref       string // the object's name in the room's calendar (the gate's ref)
	Title     string
	Start     time.Time // the first instance
	End       time.Time
	Recurring bool
	// Busy are the busy instances within the window the adapter was
	// given (none for a cancelled or transparent entry).
	Busy    []Interval
	Payload any
}

// ImportProblem is an entry of the upload that cannot be read.
type ImportProblem struct {
	UID    string // "" when not even the UID could be read
	Reason string // the reader's words, for the admin
}

// ImportCalendar reads uploads and writes their entries; the CalDAV
// adapter implements it.
type ImportCalendar interface {
	// ParseImport reads an upload; busy instances are expanded within w
	// in loc.
	ParseImport(data []byte, loc *time.Location, w Interval) ([]ImportItem, []ImportProblem)
	// PutImported creates the entry's object in the room's calendar only
	// if no object has its name (ErrStale when one has), and returns its
	// ETag.
	PutImported(ctx context.Context, room Room, it ImportItem) (string, error)
}

// ImportLine is one entry in an import report.
type ImportLine struct {
	UID, Title string
	Start, End time.Time
	Recurring  bool
	// With lists what a clashing entry clashes with.
	With []Busy
}

// ImportReport says what an import did, or would do (DryRun).
type ImportReport struct {
	DryRun     bool
	Imported   []ImportLine // imported (or would be)
	Existing   []ImportLine // already in the room's calendar: skipped
	Clashes    []ImportLine // overlap a booking of the room: skipped
	Unreadable []ImportProblem
}

// maxImportItems bounds the entries of one upload.
const maxImportItems = 5000

// Import reads data (an iCalendar export) into room's calendar; with dry
// set it writes nothing and says what would happen. Only admins of the
// room's site may import (ErrForbidden).
func (s *Service) Import(ctx context.Context, m Member, roomID string, data []byte, dry bool) (ImportReport, error) {
	if s.opt.Importer == nil {
		return ImportReport{}, fmt.Errorf("import: %w", ErrUnavailable)
	}
	p, err := s.place(roomID)
	if err != nil {
		return ImportReport{}, err
	}
	if !m.AdministersSite(p.room.SiteID) {
		return ImportReport{}, fmt.Errorf("import into %s: %w", roomID, ErrForbidden)
	}
	w := s.window()
	items, problems := s.opt.Importer.ParseImport(data, p.site.Location, w)
	if len(items) > maxImportItems {
		return ImportReport{}, Invalidf("au plus %d entrées par fichier / at most %d entries a file", maxImportItems, maxImportItems)
	}
	if len(items) == 0 && len(problems) > 0 && len(problems[0].UID) == 0 && len(problems) == 1 {
		return ImportReport{}, Invalidf("ce fichier n'est pas un calendrier iCalendar lisible / this file is not a readable iCalendar file")
	}
	rep := ImportReport{DryRun: dry, Unreadable: problems}
	var known map[string]string
	if err := s.withState(ctx, p, func() error {
		var err error
		_, known, err = s.g.Objects(ctx, p.room.ID)
		return err
	}); err != nil {
		return ImportReport{}, fmt.Errorf("import into %s: %w", roomID, err)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Start.Before(items[j].Start) })
	// What this file would itself take, in a dry run: two entries of one
	// file that overlap clash as they would when imported one by one.
	var planned []Busy
	for _, it := range items {
		line := ImportLine{UID: it.UID, Title: it.Title, Start: it.Start, End: it.End, Recurring: it.Recurring}
		if _, ok := known[it.Ref]; ok {
			rep.Existing = append(rep.Existing, line)
			continue
		}
		busy := make([]Busy, len(it.Busy))
		for i, b := range it.Busy {
			busy[i] = Busy{Ref: it.Ref, Start: b.Start, End: b.End, Kind: KindExternal, Title: it.Title}
		}
		if dry {
			with, err := s.importClashes(ctx, p, busy, planned)
			if err != nil {
				return ImportReport{}, err
			}
			if len(with) > 0 {
				line.With = with
				rep.Clashes = append(rep.Clashes, line)
				continue
			}
			planned = append(planned, busy...)
			rep.Imported = append(rep.Imported, line)
			continue
		}
		err := s.importOne(ctx, p, it, busy)
		var ce *ConflictError
		switch {
		case err == nil:
			rep.Imported = append(rep.Imported, line)
		case errors.As(err, &ce):
			line.With = ce.Conflicts
			rep.Clashes = append(rep.Clashes, line)
		case errors.Is(err, ErrStale):
			// Written meanwhile (another import of the same file).
			rep.Existing = append(rep.Existing, line)
		default:
			return rep, fmt.Errorf("import %s into %s: %w", it.UID, roomID, err)
		}
	}
	return rep, nil
}

// importClashes lists what busy would clash with: the room's busy
// intervals and holds, and what the file itself takes before it.
func (s *Service) importClashes(ctx context.Context, p place, busy, planned []Busy) ([]Busy, error) {
	var with []Busy
	for _, b := range busy {
		have, _, err := s.busy(ctx, p, b.Start, b.End)
		if err != nil {
			return nil, err
		}
		for _, h := range have {
			if h.Overlaps(b.Start, b.End, 0) {
				with = append(with, h)
			}
		}
		for _, h := range planned {
			if h.Overlaps(b.Start, b.End, 0) {
				with = append(with, h)
			}
		}
	}
	return with, nil
}

// importOne claims the entry's busy instances (if it has any in the
// window), writes its object, and commits the claim: the write of a
// booking, with the upload's object instead of one roomcal makes.
func (s *Service) importOne(ctx context.Context, p place, it ImportItem, busy []Busy) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if len(busy) == 0 {
		etag, err := s.opt.Importer.PutImported(wctx, p.room, it)
		if err != nil {
			return err
		}
		// Known to the gate now, so a second import skips it at once;
		// the sync loop would learn it anyway.
		if err := s.g.Apply(wctx, p.room.ID, "", map[string]ObjectState{it.Ref: {ETag: etag}}, nil, nil); err != nil && !errors.Is(err, ErrNoState) {
			s.log.WarnContext(ctx, "imported entry not yet in the gate; the sync loop adds it", "room", p.room.ID, "uid", it.UID, "err", err)
		}
		return nil
	}
	holdID := newHoldID()
	// A retired room keeps its history: an import into it is taken.
	claim := Claim{HoldID: holdID, Intervals: busy, TTL: s.opt.HoldTTL, EvenRetired: true}
	if err := s.withState(ctx, p, func() error { return s.g.Claim(ctx, p.room.ID, claim) }); err != nil {
		return err
	}
	etag, err := s.opt.Importer.PutImported(wctx, p.room, it)
	if err != nil {
		if !OutcomeUnknown(err) {
			s.release(p.room.ID, holdID)
		}
		// An unknown outcome keeps the hold until it expires; the sync
		// loop then finds the object or not.
		return err
	}
	if err := s.withState(wctx, p, func() error {
		return s.g.Commit(wctx, p.room.ID, holdID, it.Ref, etag, busy, 0, nil)
	}); err != nil {
		s.release(p.room.ID, holdID)
		return fmt.Errorf("commit imported %s: %w", it.UID, err)
	}
	return nil
}
