package booking_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

func catalogFixture(t *testing.T) *booking.Catalog {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := booking.NewCatalog(
		[]booking.Site{{ID: "nantes", Name: "Nantes", Location: paris}, {ID: "snz", Name: "Saint-Nazaire", Location: paris}},
		[]booking.Room{
			{ID: "loire", SiteID: "nantes", Name: "Loire", Capacity: 12, Calendar: "loire", Equipment: []string{"visio"}},
			{ID: "estuaire", SiteID: "snz", Name: "Estuaire", Capacity: 30, Calendar: "estuaire"},
			{ID: "erdre", SiteID: "nantes", Name: "Erdre", Capacity: 6, Calendar: "erdre"},
		})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func ids(rs []booking.Room) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// TestCatalogPutRoom: a room added or changed is seen at once, in its
// site's order; a retired room is left out of lists unless asked for,
// and still found by id; a room on an unknown site is refused; what the
// caller keeps of the value it passed cannot change the catalog.
func TestCatalogPutRoom(t *testing.T) {
	cat := catalogFixture(t)
	if got := fmt.Sprint(ids(must(cat.Rooms(booking.RoomFilter{})))); got != "[loire erdre estuaire]" {
		t.Fatalf("rooms %s, want by site then declaration", got)
	}
	eq := []string{"écran"}
	if err := cat.PutRoom(booking.Room{ID: "sevre", SiteID: "nantes", Name: "Sèvre", Capacity: 8, Calendar: "sevre", Equipment: eq}); err != nil {
		t.Fatal(err)
	}
	eq[0] = "changed by the caller"
	if got := fmt.Sprint(ids(must(cat.Rooms(booking.RoomFilter{Site: "nantes"})))); got != "[loire erdre sevre]" {
		t.Fatalf("nantes rooms %s after adding sevre", got)
	}
	if r, _ := cat.Room("sevre"); r.Equipment[0] != "écran" {
		t.Fatalf("the catalog shares the caller's slice: %v", r.Equipment)
	}
	loire, _ := cat.Room("loire")
	loire.Retired, loire.Capacity = true, 14
	if err := cat.PutRoom(loire); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(must(cat.Rooms(booking.RoomFilter{})))); got != "[erdre sevre estuaire]" {
		t.Fatalf("rooms in service %s, want loire left out", got)
	}
	if got := fmt.Sprint(ids(must(cat.Rooms(booking.RoomFilter{Retired: true})))); got != "[loire erdre sevre estuaire]" {
		t.Fatalf("all rooms %s", got)
	}
	if r, err := cat.Room("loire"); err != nil || r.Capacity != 14 || !r.Retired {
		t.Fatalf("retired loire: %+v, %v", r, err)
	}
	if err := cat.PutRoom(booking.Room{ID: "x", SiteID: "lune", Name: "X", Capacity: 1, Calendar: "x"}); !errors.Is(err, booking.ErrUnknownSite) {
		t.Fatalf("room on an unknown site: %v", err)
	}
	if z := cat.Zone("sevre"); z == nil || z.String() != "Europe/Paris" {
		t.Fatalf("zone of sevre: %v", z)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestCatalogConcurrentChanges: readers on the hot paths (Rooms, Room,
// Zone) run while rooms are changed; under -race this proves the
// snapshot swap is race-free, and every read sees a whole room (name and
// capacity from the same change).
func TestCatalogConcurrentChanges(t *testing.T) {
	cat := catalogFixture(t)
	r0, _ := cat.Room("erdre")
	r0.Name = fmt.Sprintf("Erdre %d", r0.Capacity)
	if err := cat.PutRoom(r0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rooms, err := cat.Rooms(booking.RoomFilter{Site: "nantes", Retired: true})
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range rooms {
					if r.ID == "erdre" && r.Name != fmt.Sprintf("Erdre %d", r.Capacity) {
						t.Errorf("torn room: %q with capacity %d", r.Name, r.Capacity)
						return
					}
				}
				if _, err := cat.Room("erdre"); err != nil {
					t.Error(err)
					return
				}
				_ = cat.Zone("loire")
			}
		}()
	}
	for i := 1; i <= 300; i++ {
		r, _ := cat.Room("erdre")
		r.Capacity, r.Name = i, fmt.Sprintf("Erdre %d", i)
		r.Equipment = append(r.Equipment, fmt.Sprint(i))
		if err := cat.PutRoom(r); err != nil {
			t.Fatal(err)
		}
		if err := cat.PutRoom(booking.Room{ID: fmt.Sprintf("new-%d", i), SiteID: "snz", Name: "N", Capacity: 1, Calendar: fmt.Sprintf("new-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if n := len(must(cat.Rooms(booking.RoomFilter{Site: "snz"}))); n != 301 {
		t.Fatalf("snz has %d rooms, want 301", n)
	}
}

// BenchmarkCatalogRooms: the availability path's listing of a site's
// rooms (a report, never an assertion).
func BenchmarkCatalogRooms(b *testing.B) {
	paris, _ := time.LoadLocation("Europe/Paris")
	var rooms []booking.Room
	for i := 0; i < 30; i++ {
		rooms = append(rooms, booking.Room{ID: fmt.Sprint("r", i), SiteID: []string{"a", "b", "c"}[i%3], Name: "R", Capacity: 10, Calendar: fmt.Sprint("r", i)})
	}
	cat, err := booking.NewCatalog([]booking.Site{{ID: "a", Location: paris}, {ID: "b", Location: paris}, {ID: "c", Location: paris}}, rooms)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cat.Rooms(booking.RoomFilter{Site: "b"}); err != nil {
			b.Fatal(err)
		}
	}
}
