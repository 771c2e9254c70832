package main

import (
	"testing"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/config"
)

// The gate's key slots follow the live catalog: a room created in the
// admin pages, or moved to another site, is grouped with its site's
// rooms (a site quota reads them all in one script); before serve has a
// catalog, the configuration says.
func TestSiteSlotsFollowTheCatalog(t *testing.T) {
	cfg, err := config.Parse("demo", config.DemoYAML(), nil)
	if err != nil {
		t.Fatal(err)
	}
	l := configSites(cfg)
	if got := l.site("nantes-loire"); got != "nantes" {
		t.Fatalf("before the catalog: %q, want nantes", got)
	}
	if got := l.site("nantes-neuve"); got != "" {
		t.Fatalf("an unknown room: %q", got)
	}
	cat, err := booking.NewCatalog(cfg.Sites, cfg.Rooms)
	if err != nil {
		t.Fatal(err)
	}
	l.cat.Store(cat)
	site := cfg.Sites[len(cfg.Sites)-1].ID
	if err := cat.PutRoom(booking.Room{ID: "nantes-neuve", SiteID: site, Name: "Neuve", Capacity: 4, Calendar: "nantes-neuve"}); err != nil {
		t.Fatal(err)
	}
	if got := l.site("nantes-neuve"); got != site {
		t.Errorf("a room created at run time: %q, want %q", got, site)
	}
	r, _ := cat.Room("nantes-loire")
	r.SiteID = site
	if err := cat.PutRoom(r); err != nil {
		t.Fatal(err)
	}
	if got := l.site("nantes-loire"); got != site {
		t.Errorf("a room moved to another site: %q, want %q", got, site)
	}
}
