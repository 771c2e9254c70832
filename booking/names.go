package booking

import (
	"context"
	"sync"
)

// The gate's copy of a calendar keeps only a booking's organizer id: an
// opaque subject behind single sign-on (a Keycloak UUID). Lists made for
// people who act on other members' bookings (approvers, admins) show the
// organizer's name, which the booking itself records; organizerNames
// reads it from the calendar.

// namedRef is a booking to read an organizer's name from.
type namedRef struct {
	p  place
	id string
}

// organizerNames reads the organizer's name of each booking, a few at a
// time, by booking id; one that cannot be read is left out (and logged):
// its list shows the member id instead.
func (s *Service) organizerNames(ctx context.Context, refs []namedRef) map[string]string {
	names := make(map[string]string, len(refs))
	var mu sync.Mutex
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, r := range refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b, _, err := s.cal.Get(ctx, r.p.room, r.p.site.Location, r.id)
			if err != nil {
				s.log.WarnContext(ctx, "organizer's name unread", "booking", r.id, "err", err)
				return
			}
			mu.Lock()
			names[r.id] = b.Organizer.Name
			mu.Unlock()
		}()
	}
	wg.Wait()
	return names
}
