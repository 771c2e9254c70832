package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Rooms administered in the pages.
//
// The record of a room's settings lives with its calendar, on the CalDAV
// server: one object in the room's calendar (SettingsStore), holding the
// room as the admin pages edit it, a revision number and the list of who
// changed what and when. roomcal.yaml is the seed: a room without a
// record is as the configuration declares it; once edited, its record
// wins. Nothing of it is kept only in Redis or in one replica's memory:
// every replica reads the records into its Catalog at start, again when
// a RoomNotices message says a room changed (seconds), and again on
// every pass of RunRefresh (a notice lost, a record changed elsewhere).
//
// Who administers: admins (group "admins") every room; site admins
// (group SiteAdminGroup(site), "admins-nantes") the rooms of their site.

// SettingsRef is the gate's name of a room's settings object (the object
// whose write lock serialises changes of the record).
const SettingsRef = "roomcal-settings"

// maxAudit bounds the audit list kept in a record (the oldest go).
const maxAudit = 200

// AuditEntry is one change of a room's settings.
type AuditEntry struct {
	At     time.Time
	By     string // member id
	ByName string
	// Action is "created", "edited", "retired", "restored" or "imported".
	Action string
	// Changes lists what changed, one field each ("capacity: 12 → 14").
	Changes []string
}

// RoomSettings is the record of one room: the room as the pages edit
// it, its revision (one more with every change; 0 for a room that has no
// record yet, as declared in roomcal.yaml), and its audit list, oldest
// first.
//
// Declared marks a record that keeps history only (an import into a room
// the pages never edited): the room stays as roomcal.yaml declares it,
// so later edits of the file still apply; Room then holds only its id,
// site, name and calendar. The first save in the pages makes it a full
// record.
type RoomSettings struct {
	Room     Room
	Revision int
	Audit    []AuditEntry
	Declared bool
}

// SettingsStore keeps the settings records; the CalDAV adapter
// implements it. Errors wrap ErrUnavailable when the server cannot be
// reached, ErrNotFound for a calendar without a record, ErrStale when a
// conditional write lost.
type SettingsStore interface {
	// ReadSettings reads the record in the calendar, and its ETag.
	ReadSettings(ctx context.Context, calendar string) (RoomSettings, string, error)
	// WriteSettings creates the record (etag "": only if there is none)
	// or replaces it (only while its ETag is still etag), and returns the
	// new ETag.
	WriteSettings(ctx context.Context, calendar string, st RoomSettings, etag string) (string, error)
	// CreateRoomCalendar makes a new room's calendar; ErrExists when a
	// collection of that name is already there.
	CreateRoomCalendar(ctx context.Context, calendar, displayName string) error
	// DiscoverSettings reads the record of every calendar that has one
	// (rooms made in the pages that the configuration does not declare).
	DiscoverSettings(ctx context.Context) ([]RoomSettings, error)
}

// ErrExists: a calendar (or room) of that name already exists.
var ErrExists = errors.New("already exists")

// RoomNotices carries "room ID's settings changed" between replicas.
type RoomNotices interface {
	// Publish tells every replica (this one included) that room changed.
	Publish(ctx context.Context, room string) error
	// Subscribe delivers the room ids published from now on, until ctx
	// ends. Delivery is best effort: a notice may be lost.
	Subscribe(ctx context.Context) <-chan string
}

// RoomBookings is what retiring a room needs of the booking service
// (Service implements it; retire.go).
type RoomBookings interface {
	// RetireIfClear marks room retired at the gate if nothing is left
	// in it, else returns a *FutureBookingsError.
	RetireIfClear(ctx context.Context, room string) error
	// FutureBookings lists the room's bookings ending after now.
	FutureBookings(ctx context.Context, room string) ([]FutureBooking, error)
	// ClearFuture cancels them, their owners told why; the room is
	// retired at the gate already.
	ClearFuture(ctx context.Context, m Member, room, reason string) ([]FutureBooking, error)
}

// Retirement says what an Update that retires a room does with its
// bookings ahead: without CancelFuture a room that has any is not
// retired (*FutureBookingsError); with it they are cancelled and their
// owners told Reason.
type Retirement struct {
	CancelFuture bool
	Reason       string
}

// AdminOptions configure a RoomAdmin.
type AdminOptions struct {
	Catalog *Catalog
	Store   SettingsStore
	// Gate serialises writes of one room's record (LockObject): the
	// server's If-Match alone is not enough (Nextcloud checks, then
	// writes).
	Gate Gate
	// Notices tells the other replicas (nil: one replica).
	Notices RoomNotices
	Logger  *slog.Logger
	Now     func() time.Time
	// RefreshInterval is how often RunRefresh reads every record again
	// (default 30s).
	RefreshInterval time.Duration
	// Bookings checks and clears the bookings ahead of a room being
	// retired (nil: retiring leaves them, as before issue 15's rule; set
	// it with SetBookings when the service is made after).
	Bookings RoomBookings
}

// RoomAdmin creates, edits and retires rooms. It is safe for concurrent
// use, and any number of replicas may run over one store and one gate.
type RoomAdmin struct {
	opt AdminOptions
	cat *Catalog
	log *slog.Logger

	mu      sync.Mutex
	records map[string]RoomSettings // by room: the last record read or written (a cache)
	etags   map[string]string
}

// NewRoomAdmin returns a RoomAdmin.
func NewRoomAdmin(opts AdminOptions) (*RoomAdmin, error) {
	if opts.Catalog == nil || opts.Store == nil || opts.Gate == nil {
		return nil, errors.New("booking: room admin needs a catalog, a settings store and a gate")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = 30 * time.Second
	}
	return &RoomAdmin{opt: opts, cat: opts.Catalog, log: opts.Logger,
		records: map[string]RoomSettings{}, etags: map[string]string{}}, nil
}

// SetBookings gives the booking service to a RoomAdmin made before it
// (AdminOptions.Bookings). Call it before serving.
func (a *RoomAdmin) SetBookings(b RoomBookings) { a.opt.Bookings = b }

// ---- reading the records into the catalog ----

// Load reads the record of every room (declared in the configuration or
// found on the server) into the catalog. A room whose record cannot be
// read keeps what the catalog has.
func (a *RoomAdmin) Load(ctx context.Context) error {
	found, err := a.opt.Store.DiscoverSettings(ctx)
	if err != nil {
		return fmt.Errorf("read room settings: %w", err)
	}
	for _, st := range found {
		a.install(st, "")
	}
	return nil
}

// Refresh reads room's record again and installs it (a notice said it
// changed). A room without a record keeps what the catalog has.
func (a *RoomAdmin) Refresh(ctx context.Context, room string) error {
	calendar := room
	if r, err := a.cat.Room(room); err == nil {
		calendar = r.Calendar
	}
	st, etag, err := a.opt.Store.ReadSettings(ctx, calendar)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read settings of %s: %w", room, err)
	}
	a.install(st, etag)
	return nil
}

// install puts a record read from the store in the catalog, unless the
// catalog already has a later revision (a notice overtaken by a pass). A
// Declared record leaves the catalog's room (the configuration's) as it
// is: only its revision and history are kept.
func (a *RoomAdmin) install(st RoomSettings, etag string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if have, ok := a.records[st.Room.ID]; ok && have.Revision > st.Revision {
		return
	}
	if st.Declared {
		if _, err := a.cat.Room(st.Room.ID); err != nil {
			a.log.Warn("history-only room settings of a room the configuration does not declare; ignored", "room", st.Room.ID)
			return
		}
	} else if err := a.cat.PutRoom(st.Room); err != nil {
		a.log.Warn("room settings name an unknown site; ignored", "room", st.Room.ID, "err", err)
		return
	}
	a.records[st.Room.ID] = st
	if etag != "" {
		a.etags[st.Room.ID] = etag
	}
}

// RunRefresh keeps the catalog current until ctx ends: it installs the
// rooms that notices name as they come, and reads every record again
// each RefreshInterval.
func (a *RoomAdmin) RunRefresh(ctx context.Context) {
	var notes <-chan string
	if a.opt.Notices != nil {
		notes = a.opt.Notices.Subscribe(ctx)
	}
	t := time.NewTicker(a.opt.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case room, ok := <-notes:
			if !ok {
				notes = nil
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := a.Refresh(rctx, room); err != nil && ctx.Err() == nil {
				a.log.Warn("room settings notice: cannot read the record", "room", room, "err", err)
			}
			cancel()
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, a.opt.RefreshInterval+30*time.Second)
			if err := a.Load(rctx); err != nil && ctx.Err() == nil {
				a.log.Warn("room settings refresh failed", "err", err)
			}
			cancel()
		}
	}
}

// ---- what admins see ----

// Administered lists the rooms m administers, retired ones included, with
// their revision and audit as last read (Get reads the record itself).
func (a *RoomAdmin) Administered(m Member) []RoomSettings {
	rooms, _ := a.cat.Rooms(RoomFilter{Retired: true})
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []RoomSettings
	for _, r := range rooms {
		if !m.AdministersSite(r.SiteID) {
			continue
		}
		st := RoomSettings{Room: r}
		if rec, ok := a.records[r.ID]; ok {
			st.Revision, st.Audit = rec.Revision, rec.Audit
		}
		out = append(out, st)
	}
	return out
}

// Get reads room's record from the store (the room as declared, revision
// 0, when it has none). ErrForbidden when m does not administer its site.
func (a *RoomAdmin) Get(ctx context.Context, m Member, room string) (RoomSettings, error) {
	r, err := a.cat.Room(room)
	if err != nil {
		return RoomSettings{}, err
	}
	if !m.AdministersSite(r.SiteID) {
		return RoomSettings{}, fmt.Errorf("room %s: %w", room, ErrForbidden)
	}
	st, etag, err := a.opt.Store.ReadSettings(ctx, r.Calendar)
	switch {
	case errors.Is(err, ErrNotFound):
		return RoomSettings{Room: r}, nil
	case err != nil:
		return RoomSettings{}, fmt.Errorf("read settings of %s: %w", room, err)
	}
	a.install(st, etag)
	if st.Declared {
		st.Room = r
	}
	return st, nil
}

// FutureBookings lists room's bookings ending after now, what retiring
// it would cancel (ErrForbidden when m does not administer its site).
func (a *RoomAdmin) FutureBookings(ctx context.Context, m Member, room string) ([]FutureBooking, error) {
	r, err := a.cat.Room(room)
	if err != nil {
		return nil, err
	}
	if !m.AdministersSite(r.SiteID) {
		return nil, fmt.Errorf("room %s: %w", room, ErrForbidden)
	}
	if a.opt.Bookings == nil {
		return nil, nil
	}
	return a.opt.Bookings.FutureBookings(ctx, room)
}

// ---- changes ----

var roomIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Limits of what the pages may write.
const (
	maxRoomName    = 120
	maxRoomText    = 2000
	maxRoomItems   = 30
	maxRoomItem    = 80
	maxRoomCap     = 10000
	maxClosures    = 200
	maxDayRanges   = 6
	maxRuleHorizon = 5 * 366 * 24 * time.Hour
)

// checkRoom validates a room as the pages send it and tidies its text.
func (a *RoomAdmin) checkRoom(r *Room) error {
	r.Name = strings.TrimSpace(CleanText(r.Name))
	r.Description = strings.TrimSpace(CleanText(r.Description))
	r.Directions = strings.TrimSpace(CleanText(r.Directions))
	switch {
	case r.Name == "":
		return Invalidf("le nom est obligatoire / name is required")
	case utf8.RuneCountInString(r.Name) > maxRoomName:
		return Invalidf("nom trop long (%d caractères au plus) / name too long", maxRoomName)
	case utf8.RuneCountInString(r.Description) > maxRoomText || utf8.RuneCountInString(r.Directions) > maxRoomText:
		return Invalidf("texte trop long (%d caractères au plus) / text too long", maxRoomText)
	case r.Capacity < 1 || r.Capacity > maxRoomCap:
		return Invalidf("la capacité doit être entre 1 et %d / capacity must be between 1 and %d", maxRoomCap, maxRoomCap)
	}
	if _, err := a.cat.Site(r.SiteID); err != nil {
		return Invalidf("site inconnu %q / unknown site", r.SiteID)
	}
	var err error
	if r.Equipment, err = cleanItems(r.Equipment, "équipement / equipment"); err != nil {
		return err
	}
	if r.Accessibility, err = cleanItems(r.Accessibility, "accessibilité / accessibility"); err != nil {
		return err
	}
	if r.Rules.AllowedGroups, err = cleanItems(r.Rules.AllowedGroups, "groupes / groups"); err != nil {
		return err
	}
	if r.Rules.Approvers, err = cleanItems(r.Rules.Approvers, "validation / approvers"); err != nil {
		return err
	}
	if r.Rules.Quota.Exempt, err = cleanItems(r.Rules.Quota.Exempt, "exemptés / exempt"); err != nil {
		return err
	}
	switch r.Rules.Quota.Scope {
	case "", ScopeSite, ScopeRoom:
	default:
		return Invalidf("portée de quota inconnue / unknown quota scope")
	}
	ru := r.Rules
	if ru.Quota.Ahead < 0 || ru.Quota.Ahead > 10000 {
		return Invalidf("nombre de réservations à venir hors limites / bookings ahead out of range")
	}
	for _, d := range []time.Duration{ru.MaxDuration, ru.MinNotice, ru.MaxAhead, ru.Buffer, ru.ApprovalWithin, ru.CheckInWithin, ru.Quota.PerWeek, ru.Quota.Longest} {
		if d < 0 || d > maxRuleHorizon {
			return Invalidf("durée de règle hors limites / rule duration out of range")
		}
	}
	for wd, ranges := range r.Hours.Weekly {
		if wd < time.Sunday || wd > time.Saturday || len(ranges) > maxDayRanges {
			return Invalidf("horaires invalides / invalid opening hours")
		}
		sorted := slices.Clone(ranges)
		slices.SortFunc(sorted, func(x, y TimeRange) int { return int(x.From - y.From) })
		for i, tr := range sorted {
			if tr.From < 0 || tr.To > 24*60 || tr.From >= tr.To {
				return Invalidf("horaire %s–%s invalide / invalid opening range", tr.From, tr.To)
			}
			if i > 0 && sorted[i-1].To > tr.From {
				return Invalidf("horaires qui se chevauchent / overlapping opening ranges")
			}
		}
		r.Hours.Weekly[wd] = sorted
	}
	if len(r.Hours.Closures) > maxClosures {
		return Invalidf("au plus %d fermetures / at most %d closures", maxClosures, maxClosures)
	}
	for i, cl := range r.Hours.Closures {
		if cl.To.before(cl.From) || cl.From.Year < 2000 || cl.To.Year > 2200 {
			return Invalidf("fermeture du %s au %s invalide / invalid closure", cl.From, cl.To)
		}
		r.Hours.Closures[i].Reason = strings.TrimSpace(CleanText(cl.Reason))
		if utf8.RuneCountInString(r.Hours.Closures[i].Reason) > maxRoomItem*2 {
			return Invalidf("raison de fermeture trop longue / closure reason too long")
		}
	}
	slices.SortStableFunc(r.Hours.Closures, func(x, y Closure) int {
		return strings.Compare(x.From.String(), y.From.String())
	})
	return nil
}

func cleanItems(items []string, what string) ([]string, error) {
	if len(items) > maxRoomItems {
		return nil, Invalidf("trop d'éléments (%s) / too many items", what)
	}
	var out []string
	for _, it := range items {
		it = strings.TrimSpace(CleanText(it))
		if it == "" || slices.Contains(out, it) {
			continue
		}
		if utf8.RuneCountInString(it) > maxRoomItem {
			return nil, Invalidf("élément trop long (%s) / item too long", what)
		}
		out = append(out, it)
	}
	return out, nil
}

// lockSettings takes the write lock of room's record; one held by
// another change gives ErrStale (409) at once.
func (a *RoomAdmin) lockSettings(ctx context.Context, room string) (Lease, error) {
	lease, ok, err := a.opt.Gate.LockObject(ctx, room, SettingsRef, objectLockTTL)
	if err != nil {
		return Lease{}, fmt.Errorf("lock settings of %s: %w", room, err)
	}
	if !ok {
		return Lease{}, fmt.Errorf("settings of %s are being changed by someone else: %w", room, ErrStale)
	}
	return lease, nil
}

// Create makes a new room: its calendar, then its record. r.ID names
// both (lowercase letters, digits and "-"); r.Calendar is set to it.
// ErrExists when a room or calendar has that name; ErrForbidden when m
// does not administer r's site.
func (a *RoomAdmin) Create(ctx context.Context, m Member, r Room) (RoomSettings, error) {
	if !roomIDPattern.MatchString(r.ID) || r.ID == SettingsRef {
		return RoomSettings{}, Invalidf("identifiant invalide : lettres minuscules, chiffres et « - » / invalid id: lowercase letters, digits and '-'")
	}
	if !m.AdministersSite(r.SiteID) {
		return RoomSettings{}, fmt.Errorf("site %s: %w", r.SiteID, ErrForbidden)
	}
	r.Calendar, r.Retired = r.ID, false
	if err := a.checkRoom(&r); err != nil {
		return RoomSettings{}, err
	}
	if _, err := a.cat.Room(r.ID); err == nil {
		return RoomSettings{}, fmt.Errorf("room %s: %w", r.ID, ErrExists)
	}
	lease, err := a.lockSettings(ctx, r.ID)
	if err != nil {
		return RoomSettings{}, err
	}
	defer lease.Release()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := a.opt.Store.CreateRoomCalendar(wctx, r.Calendar, r.Name); err != nil {
		return RoomSettings{}, fmt.Errorf("create calendar of %s: %w", r.ID, err)
	}
	st := RoomSettings{Room: r, Revision: 1, Audit: []AuditEntry{{At: a.opt.Now().UTC(), By: m.ID, ByName: m.Name, Action: "created"}}}
	etag, err := a.opt.Store.WriteSettings(wctx, r.Calendar, st, "")
	if err != nil {
		return RoomSettings{}, fmt.Errorf("write settings of %s: %w", r.ID, err)
	}
	a.installed(ctx, st, etag)
	return st, nil
}

// Update replaces room's settings with r, if the record is still at
// revision (the one m's page read): ErrStale otherwise, and when another
// change of the room is under way. Retiring is r.Retired. The id and
// calendar do not change; a change of site needs m to administer both.
//
// Retiring a room that has bookings ending after now (AdminOptions.
// Bookings) is refused with a *FutureBookingsError listing them, the
// room left as it was, unless ret.CancelFuture: the room is then
// retired and they are cancelled, each owner told ret.Reason; the
// bookings cancelled are returned. Saving a retired room again with
// ret.CancelFuture cancels what a failed or cut-short retirement left.
func (a *RoomAdmin) Update(ctx context.Context, m Member, room string, revision int, r Room, ret Retirement) (RoomSettings, []FutureBooking, error) {
	cur, err := a.cat.Room(room)
	if err != nil {
		return RoomSettings{}, nil, err
	}
	if !m.AdministersSite(cur.SiteID) || !m.AdministersSite(r.SiteID) {
		return RoomSettings{}, nil, fmt.Errorf("room %s: %w", room, ErrForbidden)
	}
	r.ID, r.Calendar = cur.ID, cur.Calendar
	if err := a.checkRoom(&r); err != nil {
		return RoomSettings{}, nil, err
	}
	if ret.CancelFuture {
		if !r.Retired {
			return RoomSettings{}, nil, Invalidf("annuler les réservations à venir ne va qu'avec le retrait de la salle / cancelling the bookings ahead goes only with retiring the room")
		}
		if ret.Reason, err = CheckRetireReason(ret.Reason); err != nil {
			return RoomSettings{}, nil, err
		}
	}
	lease, err := a.lockSettings(ctx, room)
	if err != nil {
		return RoomSettings{}, nil, err
	}
	defer lease.Release()
	prev, etag, err := a.opt.Store.ReadSettings(ctx, cur.Calendar)
	switch {
	case errors.Is(err, ErrNotFound):
		prev, etag = RoomSettings{Room: cur}, "" // as roomcal.yaml declares it
	case err != nil:
		return RoomSettings{}, nil, fmt.Errorf("read settings of %s: %w", room, err)
	case prev.Declared:
		prev.Room = cur // history only: the room is as roomcal.yaml declares it
	}
	if prev.Revision != revision {
		return RoomSettings{}, nil, fmt.Errorf("settings of %s are at revision %d, not %d: %w", room, prev.Revision, revision, ErrStale)
	}
	changes := DiffRooms(prev.Room, r)
	bookings := a.opt.Bookings
	if len(changes) == 0 {
		// Nothing to write; the gate is told again whether the room is
		// retired (a retirement whose gate step failed is completed by
		// saving again), and the bookings a cut-short retirement left
		// are cancelled.
		if err := a.opt.Gate.Retire(ctx, room, prev.Room.Retired); err != nil {
			return RoomSettings{}, nil, fmt.Errorf("retire %s at the gate: %w", room, err)
		}
		if prev.Room.Retired && ret.CancelFuture && bookings != nil {
			done, err := a.clearFuture(ctx, m, room, ret.Reason)
			return prev, done, err
		}
		return prev, nil, nil
	}
	retiring := r.Retired && !prev.Room.Retired
	action := "edited"
	switch {
	case retiring:
		action = "retired"
	case !r.Retired && prev.Room.Retired:
		action = "restored"
	}
	// A room retired with bookings ahead: refused unless they are to be
	// cancelled. Without cancelling, the room is marked retired at the
	// gate now, in the step that finds it clear (no booking can come in
	// between), then recorded; with cancelling, events' room bookings
	// (moved or cancelled through their events) must be gone first.
	markedEarly := false
	if retiring && bookings != nil {
		if !ret.CancelFuture {
			if err := bookings.RetireIfClear(ctx, room); err != nil {
				return RoomSettings{}, nil, err
			}
			markedEarly = true
		} else {
			ahead, err := bookings.FutureBookings(ctx, room)
			if err != nil {
				return RoomSettings{}, nil, err
			}
			fe := &FutureBookingsError{Room: room, Bookings: ahead, Cancelling: true}
			if events := fe.Events(); len(events) > 0 {
				fe.Bookings = events
				return RoomSettings{}, nil, fe
			}
			changes = append(changes, fmt.Sprintf("bookings ahead cancelled: %d (%s)", len(ahead), ret.Reason))
		}
	}
	audit := append(slices.Clone(prev.Audit), AuditEntry{At: a.opt.Now().UTC(), By: m.ID, ByName: m.Name, Action: action, Changes: changes})
	if len(audit) > maxAudit {
		audit = audit[len(audit)-maxAudit:]
	}
	st := RoomSettings{Room: r, Revision: prev.Revision + 1, Audit: audit}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	newETag, err := a.opt.Store.WriteSettings(wctx, cur.Calendar, st, etag)
	if err != nil {
		if markedEarly {
			if uerr := a.opt.Gate.Retire(wctx, room, false); uerr != nil {
				a.log.ErrorContext(ctx, "room marked retired at the gate but its record not written; save it again", "room", room, "err", uerr)
			}
		}
		return RoomSettings{}, nil, fmt.Errorf("write settings of %s: %w", room, err)
	}
	// Retired (or back in service) at the gate, after the record that
	// says so is on the server and before the answer: once the admin
	// is told, no replica takes a claim in the room, whether or not its
	// catalog has heard of the change (Gate.Retire).
	var rerr error
	if r.Retired || prev.Room.Retired {
		if rerr = a.opt.Gate.Retire(wctx, room, r.Retired); rerr != nil {
			rerr = fmt.Errorf("settings of %s saved, but the gate could not be told it is retired; save again: %w", room, rerr)
		}
	}
	a.installed(ctx, st, newETag)
	if rerr != nil {
		return RoomSettings{}, nil, rerr
	}
	if r.Retired && ret.CancelFuture && bookings != nil {
		// Retiring now, or saving a retired room again: what is left
		// ahead in it is cancelled.
		done, err := a.clearFuture(ctx, m, room, ret.Reason)
		return st, done, err
	}
	return st, nil, nil
}

// clearFuture cancels the bookings ahead of a room retired at the gate.
// It runs to its end when the request that asked for it goes away.
func (a *RoomAdmin) clearFuture(ctx context.Context, m Member, room, reason string) ([]FutureBooking, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer cancel()
	done, err := a.opt.Bookings.ClearFuture(cctx, m, room, reason)
	if err != nil {
		return done, fmt.Errorf("room %s retired, %d booking(s) ahead cancelled, but not all; save again to finish: %w", room, len(done), err)
	}
	return done, nil
}

// NoteImport adds an import to room's history (who imported how many
// entries, how many clashed), as one more revision of its record.
func (a *RoomAdmin) NoteImport(ctx context.Context, m Member, room string, imported, clashes int) error {
	cur, err := a.cat.Room(room)
	if err != nil {
		return err
	}
	var lease Lease
	for try := 0; ; try++ {
		lease, err = a.lockSettings(ctx, room)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrStale) || try == 20 {
			return err
		}
		select { // an admin is saving the room: wait for them
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	defer lease.Release()
	prev, etag, err := a.opt.Store.ReadSettings(ctx, cur.Calendar)
	switch {
	case errors.Is(err, ErrNotFound):
		// A room the pages never edited: its record keeps the history
		// only, so that roomcal.yaml still decides its settings.
		prev, etag = RoomSettings{Room: declaredRoom(cur), Declared: true}, ""
	case err != nil:
		return fmt.Errorf("read settings of %s: %w", room, err)
	case prev.Declared:
		prev.Room = declaredRoom(cur)
	}
	entry := AuditEntry{At: a.opt.Now().UTC(), By: m.ID, ByName: m.Name, Action: "imported",
		Changes: []string{fmt.Sprintf("imported: %d", imported), fmt.Sprintf("clashes skipped: %d", clashes)}}
	audit := append(slices.Clone(prev.Audit), entry)
	if len(audit) > maxAudit {
		audit = audit[len(audit)-maxAudit:]
	}
	st := RoomSettings{Room: prev.Room, Revision: prev.Revision + 1, Audit: audit, Declared: prev.Declared}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	newETag, err := a.opt.Store.WriteSettings(wctx, cur.Calendar, st, etag)
	if err != nil {
		return fmt.Errorf("write settings of %s: %w", room, err)
	}
	a.installed(ctx, st, newETag)
	return nil
}

// declaredRoom is what a history-only record names of a room: enough to
// find it (id, site, calendar) and to say in Nextcloud whose it is.
func declaredRoom(r Room) Room {
	return Room{ID: r.ID, SiteID: r.SiteID, Name: r.Name, Calendar: r.Calendar}
}

// installed puts a record just written in this replica's catalog and
// tells the others.
func (a *RoomAdmin) installed(ctx context.Context, st RoomSettings, etag string) {
	a.install(st, etag)
	if a.opt.Notices == nil {
		return
	}
	if err := a.opt.Notices.Publish(context.WithoutCancel(ctx), st.Room.ID); err != nil {
		// The others read it at their next refresh pass.
		a.log.WarnContext(ctx, "cannot tell the other replicas of a room change", "room", st.Room.ID, "err", err)
	}
}

// DiffRooms says, one field a line, what differs from a to b.
func DiffRooms(a, b Room) []string {
	var out []string
	add := func(field string, x, y any) {
		xs, ys := fmt.Sprint(x), fmt.Sprint(y)
		if xs != ys {
			out = append(out, fmt.Sprintf("%s: %s → %s", field, xs, ys))
		}
	}
	add("name", a.Name, b.Name)
	add("site", a.SiteID, b.SiteID)
	add("capacity", a.Capacity, b.Capacity)
	add("equipment", strings.Join(a.Equipment, ", "), strings.Join(b.Equipment, ", "))
	add("accessibility", strings.Join(a.Accessibility, ", "), strings.Join(b.Accessibility, ", "))
	add("description", a.Description, b.Description)
	add("directions", a.Directions, b.Directions)
	add("hours", hoursText(a.Hours), hoursText(b.Hours))
	add("closures", closuresText(a.Hours.Closures), closuresText(b.Hours.Closures))
	add("max_duration", a.Rules.MaxDuration, b.Rules.MaxDuration)
	add("min_notice", a.Rules.MinNotice, b.Rules.MinNotice)
	add("max_ahead", a.Rules.MaxAhead, b.Rules.MaxAhead)
	add("buffer", a.Rules.Buffer, b.Rules.Buffer)
	add("allowed_groups", strings.Join(a.Rules.AllowedGroups, ", "), strings.Join(b.Rules.AllowedGroups, ", "))
	add("approvers", strings.Join(a.Rules.Approvers, ", "), strings.Join(b.Rules.Approvers, ", "))
	add("approval_within", a.Rules.ApprovalWithin, b.Rules.ApprovalWithin)
	add("checkin_within", a.Rules.CheckInWithin, b.Rules.CheckInWithin)
	add("quota_scope", a.Rules.Quota.Scope, b.Rules.Quota.Scope)
	add("quota_per_week", a.Rules.Quota.PerWeek, b.Rules.Quota.PerWeek)
	add("quota_ahead", a.Rules.Quota.Ahead, b.Rules.Quota.Ahead)
	add("quota_longest", a.Rules.Quota.Longest, b.Rules.Quota.Longest)
	add("quota_exempt", strings.Join(a.Rules.Quota.Exempt, ", "), strings.Join(b.Rules.Quota.Exempt, ", "))
	add("retired", a.Retired, b.Retired)
	return out
}

func hoursText(h OpeningHours) string {
	if len(h.Weekly) == 0 {
		return "always"
	}
	var parts []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		var rs []string
		for _, tr := range h.Weekly[d] {
			rs = append(rs, tr.From.String()+"-"+tr.To.String())
		}
		parts = append(parts, d.String()[:3]+" "+strings.Join(rs, ","))
	}
	return strings.Join(parts, "; ")
}

func closuresText(cs []Closure) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s..%s %s", c.From, c.To, c.Reason))
	}
	return strings.Join(parts, "; ")
}
