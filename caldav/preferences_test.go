package caldav_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
)

// TestMemberPreferences: a member without preferences reads the zero
// value; what is kept reads back (text that iCalendar escapes included);
// an error from the change writes nothing; concurrent updates of one
// member all land (If-Match and retry); nothing is ever deleted. On the
// embedded store and on Radicale.
func TestMemberPreferences(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, _ *caldav.EventCalendar) {
		ctx := t.Context()
		log := &namesLog{Store: s, deleted: map[string]bool{}}
		mp := caldav.NewMemberPreferences(log, evCal)
		const id = "amina:42"
		p, err := mp.Preferences(ctx, id)
		if err != nil || p.Site != "" || len(p.Notices) != 0 || !p.UpdatedAt.IsZero() {
			t.Fatalf("before anything: %+v, %v", p, err)
		}
		signedOut := time.Date(2026, 12, 5, 10, 4, 5, 678_000_000, time.UTC)
		got, err := mp.UpdatePreferences(ctx, id, func(p *booking.Preferences) error {
			p.Site = "saint-nazaire"
			p.SignedOutAt = signedOut
			if err := p.SetLang("en"); err != nil {
				return err
			}
			if err := p.SetNotice("reminders", true); err != nil {
				return err
			}
			return p.Dismiss("promoted:ev_1;a,b\\c")
		})
		if err != nil || got.UpdatedAt.IsZero() {
			t.Fatalf("update: %+v, %v", got, err)
		}
		p, err = mp.Preferences(ctx, id)
		if err != nil || p.Site != "saint-nazaire" || p.Lang != "en" || !p.Notice("reminders", false) ||
			!p.HasDismissed("promoted:ev_1;a,b\\c") || !p.UpdatedAt.Equal(got.UpdatedAt) || !p.SignedOutAt.Equal(signedOut) {
			t.Fatalf("read back: %+v, %v", p, err)
		}
		if other, err := mp.Preferences(ctx, "bruno"); err != nil || other.Site != "" {
			t.Fatalf("another member's: %+v, %v", other, err)
		}

		refused := errors.New("refused")
		if _, err := mp.UpdatePreferences(ctx, id, func(p *booking.Preferences) error {
			p.Site = "nantes"
			return refused
		}); !errors.Is(err, refused) {
			t.Fatalf("a refused change: %v", err)
		}
		if p, _ := mp.Preferences(ctx, id); p.Site != "saint-nazaire" {
			t.Fatalf("a refused change was written: %+v", p)
		}

		var wg sync.WaitGroup
		kinds := []string{"a", "b", "c"}
		errs := make(chan error, len(kinds))
		for _, k := range kinds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := mp.UpdatePreferences(context.Background(), id, func(p *booking.Preferences) error { return p.Dismiss(k) })
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent update: %v", err)
			}
		}
		p, _ = mp.Preferences(ctx, id)
		for _, k := range kinds {
			if !p.HasDismissed(k) {
				t.Fatalf("concurrent updates lost %q: %v", k, p.Dismissed)
			}
		}
		if len(log.deleted) > 0 {
			t.Fatalf("preferences deleted objects: %v", log.deleted)
		}
	})
}
