package booking

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnknownRoom and ErrUnknownSite are returned for ids that are not
// declared.
var (
	ErrUnknownRoom = errors.New("unknown room")
	ErrUnknownSite = errors.New("unknown site")
)

// Catalog is the set of sites and rooms: declared in the configuration
// (the seed), and changed while the service runs by the room settings
// that admins edit in the pages (PutRoom). It is safe for concurrent use.
//
// Readers see one immutable snapshot at a time, behind an atomic pointer:
// a change builds a new snapshot (copy on write) and swaps it in, so a
// read never waits and never sees half a change. The Room values a
// snapshot holds are never modified once published: their slices and
// maps may be shared by every copy handed out (do not modify them).
type Catalog struct {
	snap atomic.Pointer[catalogSnapshot]
	mu   sync.Mutex // serialises writers
}

// catalogSnapshot is one immutable state of a Catalog.
type catalogSnapshot struct {
	sites  []Site
	rooms  []Room // site order, then declaration (or creation) order
	siteBy map[string]int
	roomBy map[string]int // index in rooms
	// bySite lists, for each site, the indexes of its rooms in rooms.
	bySite map[string][]int
}

// NewCatalog indexes sites and rooms. Every room must name a declared
// site, and ids must be unique.
func NewCatalog(sites []Site, rooms []Room) (*Catalog, error) {
	s := &catalogSnapshot{siteBy: map[string]int{}, roomBy: map[string]int{}}
	for _, st := range sites {
		if _, dup := s.siteBy[st.ID]; dup {
			return nil, fmt.Errorf("site %q declared twice", st.ID)
		}
		if st.Location == nil {
			return nil, fmt.Errorf("site %q has no time zone", st.ID)
		}
		s.siteBy[st.ID] = len(s.sites)
		s.sites = append(s.sites, st)
	}
	seen := map[string]bool{}
	for _, r := range rooms {
		if seen[r.ID] {
			return nil, fmt.Errorf("room %q declared twice", r.ID)
		}
		seen[r.ID] = true
		if _, ok := s.siteBy[r.SiteID]; !ok {
			return nil, fmt.Errorf("room %q: %w %q", r.ID, ErrUnknownSite, r.SiteID)
		}
		s.rooms = append(s.rooms, r.clone())
	}
	s.index()
	c := &Catalog{}
	c.snap.Store(s)
	return c, nil
}

// index sorts the rooms by site (stable: declaration order within a
// site) and fills roomBy.
func (s *catalogSnapshot) index() {
	sort.SliceStable(s.rooms, func(i, j int) bool { return s.siteBy[s.rooms[i].SiteID] < s.siteBy[s.rooms[j].SiteID] })
	s.roomBy = make(map[string]int, len(s.rooms))
	s.bySite = make(map[string][]int, len(s.sites))
	for i, r := range s.rooms {
		s.roomBy[r.ID] = i
		s.bySite[r.SiteID] = append(s.bySite[r.SiteID], i)
	}
}

// clone copies what a Room shares by reference, so that a snapshot owns
// its rooms whatever the caller does with the value it passed.
func (r Room) clone() Room {
	r.Equipment = slices.Clone(r.Equipment)
	r.Accessibility = slices.Clone(r.Accessibility)
	r.Rules.AllowedGroups = slices.Clone(r.Rules.AllowedGroups)
	r.Rules.Approvers = slices.Clone(r.Rules.Approvers)
	r.Rules.Quota.Exempt = slices.Clone(r.Rules.Quota.Exempt)
	if r.Hours.Weekly != nil {
		w := make(map[time.Weekday][]TimeRange, len(r.Hours.Weekly))
		for d, rs := range r.Hours.Weekly {
			w[d] = slices.Clone(rs)
		}
		r.Hours.Weekly = w
	}
	r.Hours.Closures = slices.Clone(r.Hours.Closures)
	return r
}

// PutRoom adds room r, or replaces the room with its id (a change made
// in the admin pages, read back from the room's settings). Its site must
// be declared. Readers see the change at once, every one of them either
// before or after it.
func (c *Catalog) PutRoom(r Room) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.snap.Load()
	if _, ok := old.siteBy[r.SiteID]; !ok {
		return fmt.Errorf("room %q: %w %q", r.ID, ErrUnknownSite, r.SiteID)
	}
	next := &catalogSnapshot{sites: old.sites, siteBy: old.siteBy, rooms: make([]Room, 0, len(old.rooms)+1)}
	replaced := false
	for _, have := range old.rooms {
		if have.ID == r.ID {
			// Keep its place when the site is unchanged.
			next.rooms = append(next.rooms, r.clone())
			replaced = true
			continue
		}
		next.rooms = append(next.rooms, have)
	}
	if !replaced {
		next.rooms = append(next.rooms, r.clone())
	}
	next.index()
	c.snap.Store(next)
	return nil
}

// Sites returns every site in declaration order.
func (c *Catalog) Sites() []Site { return slices.Clone(c.snap.Load().sites) }

// Site returns one site or ErrUnknownSite.
func (c *Catalog) Site(id string) (Site, error) {
	s := c.snap.Load()
	i, ok := s.siteBy[id]
	if !ok {
		return Site{}, fmt.Errorf("%w %q", ErrUnknownSite, id)
	}
	return s.sites[i], nil
}

// Room returns one room or ErrUnknownRoom. A retired room is still
// found: its bookings and history stay readable.
func (c *Catalog) Room(id string) (Room, error) {
	s := c.snap.Load()
	i, ok := s.roomBy[id]
	if !ok {
		return Room{}, fmt.Errorf("%w %q", ErrUnknownRoom, id)
	}
	return s.rooms[i], nil
}

// RoomFilter selects rooms; zero fields select every room in service.
type RoomFilter struct {
	Site        string
	MinCapacity int
	Equipment   []string
	// Retired includes retired rooms (admins' lists, the sync loop).
	Retired bool
}

// Rooms returns the rooms that match f, by site then declaration order.
// An unknown f.Site gives ErrUnknownSite. It is on the availability
// path: one slice is made, the rooms are shallow copies sharing the
// snapshot's immutable slices and maps.
func (c *Catalog) Rooms(f RoomFilter) ([]Room, error) {
	s := c.snap.Load()
	keep := func(r *Room) bool {
		return (!r.Retired || f.Retired) && r.Capacity >= f.MinCapacity && r.HasEquipment(f.Equipment...)
	}
	if f.Site != "" {
		if _, ok := s.siteBy[f.Site]; !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownSite, f.Site)
		}
		idx := s.bySite[f.Site]
		out := make([]Room, 0, len(idx))
		for _, i := range idx {
			if keep(&s.rooms[i]) {
				out = append(out, s.rooms[i])
			}
		}
		return out, nil
	}
	out := make([]Room, 0, len(s.rooms))
	for i := range s.rooms {
		if keep(&s.rooms[i]) {
			out = append(out, s.rooms[i])
		}
	}
	return out, nil
}

// Zone returns the time zone of a room's site, or nil for an unknown
// room.
func (c *Catalog) Zone(room string) *time.Location {
	s := c.snap.Load()
	i, ok := s.roomBy[room]
	if !ok {
		return nil
	}
	j, ok := s.siteBy[s.rooms[i].SiteID]
	if !ok {
		return nil
	}
	return s.sites[j].Location
}

// SiteAdminGroup is the identity group whose members administer the
// rooms of one site: "admins-" followed by the site id (admins-nantes).
func SiteAdminGroup(site string) string { return GroupAdmins + "-" + site }

// AdministersSite reports whether m may administer the rooms of site:
// admins everywhere, site admins (group SiteAdminGroup(site)) there.
func (m Member) AdministersSite(site string) bool {
	return m.IsAdmin() || (site != "" && m.InGroup(SiteAdminGroup(site)))
}

// IsRoomAdmin reports whether m administers the rooms of at least one
// site (an admin, or a member of some "admins-<site>" group).
func (m Member) IsRoomAdmin() bool {
	if m.IsAdmin() {
		return true
	}
	for _, g := range m.Groups {
		if strings.HasPrefix(g, GroupAdmins+"-") && len(g) > len(GroupAdmins)+1 {
			return true
		}
	}
	return false
}
