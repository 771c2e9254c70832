package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestPromiseOutsideDeleteOfOwnBooking: a booking made through roomcal
// and deleted in another CalDAV client before the next sync frees its
// slot at that sync, on Radicale and on Xandikos. On Xandikos it stayed
// busy (while a GET of it was 404): its sync-collection leaves out
// objects created and deleted since the token roomcal holds, and
// roomcal's own writes do not move that token.
func TestPromiseOutsideDeleteOfOwnBooking(t *testing.T) {
	for _, srv := range []struct {
		name string
		home func(testing.TB) testenv.Home
	}{
		{"Radicale", testenv.RadicaleHome},
		{"Xandikos", testenv.XandikosHome},
	} {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t, srv.home(t), testenv.StartRedis(t).URL())
			// No sync pass but the first one at start and those below.
			in := newInstance(t, b, instanceOpts{syncInterval: time.Hour})
			start, end := slot(8, 10)
			a := in.book(t, "amina", "loire", start, end)
			if a.status != 201 {
				t.Fatalf("book: %d %s", a.status, a.body)
			}
			var bk struct{ ID string }
			if err := json.Unmarshal(a.body, &bk); err != nil || bk.ID == "" {
				t.Fatalf("booking answer %s: %v", a.body, err)
			}
			ctx := context.Background()
			if err := b.store.Delete(ctx, "loire", caldav.ObjectName(bk.ID), ""); err != nil {
				t.Fatalf("outside delete: %v", err)
			}
			// SyncRoom does nothing while the first pass holds the room's
			// lock: sync until the slot is free, within a deadline.
			deadline := time.Now().Add(10 * time.Second)
			for {
				if err := in.svc.SyncRoom(ctx, "loire"); err != nil {
					t.Fatalf("SyncRoom: %v", err)
				}
				var av struct {
					Rooms []struct{ Busy []struct{ Kind string } }
				}
				a := in.call(t, "GET", availabilityPath("loire", start), "amina", nil)
				if err := json.Unmarshal(a.body, &av); err != nil || len(av.Rooms) != 1 {
					t.Fatalf("availability %d: %s", a.status, a.body)
				}
				if len(av.Rooms[0].Busy) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the booking deleted outside still shows busy after syncs: %s", a.body)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if a := in.book(t, "bastien", "loire", start, end); a.status != 201 {
				t.Fatalf("booking the freed slot: %d %s", a.status, a.body)
			}
		})
	}
}
