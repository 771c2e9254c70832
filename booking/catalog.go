package booking

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// ErrUnknownRoom and ErrUnknownSite are returned for ids that are not
// declared.
var (
	ErrUnknownRoom = errors.New("unknown room")
	ErrUnknownSite = errors.New("unknown site")
)

// Catalog is the fixed set of sites and rooms declared in the
// configuration. It is read-only after NewCatalog and safe for concurrent
// use.
type Catalog struct {
	sites  []Site
	rooms  []Room
	siteBy map[string]int
	roomBy map[string]int
}

// NewCatalog indexes sites and rooms. Every room must name a declared
// site, and ids must be unique.
func NewCatalog(sites []Site, rooms []Room) (*Catalog, error) {
	c := &Catalog{siteBy: map[string]int{}, roomBy: map[string]int{}}
	for _, s := range sites {
		if _, dup := c.siteBy[s.ID]; dup {
			return nil, fmt.Errorf("site %q declared twice", s.ID)
		}
		if s.Location == nil {
			return nil, fmt.Errorf("site %q has no time zone", s.ID)
		}
		c.siteBy[s.ID] = len(c.sites)
		c.sites = append(c.sites, s)
	}
	for _, r := range rooms {
		if _, dup := c.roomBy[r.ID]; dup {
			return nil, fmt.Errorf("room %q declared twice", r.ID)
		}
		if _, ok := c.siteBy[r.SiteID]; !ok {
			return nil, fmt.Errorf("room %q: %w %q", r.ID, ErrUnknownSite, r.SiteID)
		}
		c.roomBy[r.ID] = len(c.rooms)
		c.rooms = append(c.rooms, r)
	}
	return c, nil
}

// Sites returns every site in declaration order.
func (c *Catalog) Sites() []Site { return append([]Site(nil), c.sites...) }

// Site returns one site or ErrUnknownSite.
func (c *Catalog) Site(id string) (Site, error) {
	i, ok := c.siteBy[id]
	if !ok {
		return Site{}, fmt.Errorf("%w %q", ErrUnknownSite, id)
	}
	return c.sites[i], nil
}

// Room returns one room or ErrUnknownRoom.
func (c *Catalog) Room(id string) (Room, error) {
	i, ok := c.roomBy[id]
	if !ok {
		return Room{}, fmt.Errorf("%w %q", ErrUnknownRoom, id)
	}
	return c.rooms[i], nil
}

// RoomFilter selects rooms; zero fields select everything.
type RoomFilter struct {
	Site        string
	MinCapacity int
	Equipment   []string
}

// Rooms returns the rooms that match f, by site then declaration order.
// An unknown f.Site gives ErrUnknownSite.
func (c *Catalog) Rooms(f RoomFilter) ([]Room, error) {
	if f.Site != "" {
		if _, err := c.Site(f.Site); err != nil {
			return nil, err
		}
	}
	var out []Room
	for _, r := range c.rooms {
		if f.Site != "" && r.SiteID != f.Site {
			continue
		}
		if r.Capacity < f.MinCapacity {
			continue
		}
		if !r.HasEquipment(f.Equipment...) {
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return c.siteBy[out[i].SiteID] < c.siteBy[out[j].SiteID] })
	return out, nil
}

// Zone returns the time zone of a room's site, or nil for an unknown
// room.
func (c *Catalog) Zone(room string) *time.Location {
	r, err := c.Room(room)
	if err != nil {
		return nil
	}
	s, err := c.Site(r.SiteID)
	if err != nil {
		return nil
	}
	return s.Location
}
