// Package storetest is the conformance suite of caldav.Store. It states
// the contract as a real CalDAV server keeps it — Radicale 3.1.8 is the
// reference — so that the Client on a server and the embedded FileStore
// behave alike: ETags, conditional writes that are atomic under
// concurrency, sentinel errors, time-range queries with recurrence, and
// change tokens.
//
// What the suite deliberately does not assert, because real servers
// differ: byte-for-byte data (Radicale re-serialises objects: it reorders
// properties and refolds lines, so objects are compared by their sorted,
// unfolded content lines), the exact form of ETags and tokens (opaque),
// that Query leaves out events outside the range (a superset is allowed),
// and whether Changes answers a token with a delta or a Full listing
// (both are accepted, the resulting view of the calendar must be right).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/caldav"
)

// writers is how many goroutines race in the concurrency tests.
const writers = 20

// Run runs the suite. newStore returns a Store on a fresh, empty home; it
// is called once per subtest, from parallel subtests, and releases what
// it made with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) caldav.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s caldav.Store)
	}{
		{"Ping", testPing},
		{"Calendars", testCalendars},
		{"CreateCalendarExists", testCreateCalendarExists},
		{"CreateGet", testCreateGet},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"MultiGet", testMultiGet},
		{"Query", testQuery},
		{"Changes", testChanges},
		{"ChangesOwnWriteDeleted", testChangesOwnWriteDeleted},
		{"InvalidSyncToken", testInvalidSyncToken},
		{"RoundTrip", testRoundTrip},
		{"Names", testNames},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ConcurrentDelete", testConcurrentDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

func testPing(t *testing.T, s caldav.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// Calendars lists what CreateCalendar made, with display names; a fresh
// home has none.
func testCalendars(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cals, err := s.Calendars(ctx)
	if err != nil {
		t.Fatalf("Calendars on a fresh home: %v", err)
	}
	if len(cals) != 0 {
		t.Errorf("Calendars on a fresh home = %v, want none", cals)
	}
	want := []caldav.CalendarInfo{
		{Name: "salle-loire-" + randomID(), DisplayName: "Salle Loire – 2ᵉ étage"},
		{Name: "salle-rhone-" + randomID(), DisplayName: "Salle Rhône & <Saône>"},
	}
	for _, c := range want {
		if err := s.CreateCalendar(ctx, c.Name, c.DisplayName); err != nil {
			t.Fatalf("CreateCalendar(%q): %v", c.Name, err)
		}
	}
	cals, err = s.Calendars(ctx)
	if err != nil {
		t.Fatalf("Calendars: %v", err)
	}
	slices.SortFunc(cals, func(a, b caldav.CalendarInfo) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(want, func(a, b caldav.CalendarInfo) int { return strings.Compare(a.Name, b.Name) })
	if !slices.Equal(cals, want) {
		t.Errorf("Calendars = %+v, want %+v", cals, want)
	}
}

// A second CreateCalendar fails with ErrExists and leaves the calendar
// and its objects alone.
func testCreateCalendarExists(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	etag := mustCreate(t, s, cal, "keep.ics", event("keep", "kept", 0))
	err := s.CreateCalendar(ctx, cal, "again")
	if !errors.Is(err, caldav.ErrExists) {
		t.Errorf("second CreateCalendar = %v, want ErrExists", err)
	}
	obj, err := s.Get(ctx, cal, "keep.ics")
	if err != nil {
		t.Fatalf("Get after the second CreateCalendar: %v", err)
	}
	if obj.ETag != etag {
		t.Errorf("ETag after the second CreateCalendar = %q, want %q", obj.ETag, etag)
	}
}

// Create returns an ETag that Get returns with the data; a second Create
// of the name fails with ErrPrecondition and changes nothing.
func testCreateGet(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	data := event("a", "first", 0)
	etag, err := s.Create(ctx, cal, "a.ics", data)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if etag == "" {
		t.Fatal("Create returned an empty ETag")
	}
	_, err = s.Create(ctx, cal, "a.ics", event("a", "second", 0))
	if !errors.Is(err, caldav.ErrPrecondition) {
		t.Errorf("second Create = %v, want ErrPrecondition", err)
	}
	for range 2 { // an unchanged object keeps its ETag
		obj, err := s.Get(ctx, cal, "a.ics")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		checkObject(t, obj, "a.ics", etag, data)
	}
}

// Update with the current ETag stores the data under a new ETag; with a
// stale one it fails with ErrPrecondition and changes nothing.
func testUpdate(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	etag1 := mustCreate(t, s, cal, "u.ics", event("u", "v1", 0))
	data2 := event("u", "v2", 0)
	etag2, err := s.Update(ctx, cal, "u.ics", data2, etag1)
	if err != nil {
		t.Fatalf("Update with the current ETag: %v", err)
	}
	if etag2 == "" || etag2 == etag1 {
		t.Fatalf("Update returned ETag %q, want a new one (was %q)", etag2, etag1)
	}
	obj, err := s.Get(ctx, cal, "u.ics")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	checkObject(t, obj, "u.ics", etag2, data2)

	_, err = s.Update(ctx, cal, "u.ics", event("u", "v3", 0), etag1)
	if !errors.Is(err, caldav.ErrPrecondition) {
		t.Errorf("Update with a stale ETag = %v, want ErrPrecondition", err)
	}
	obj, err = s.Get(ctx, cal, "u.ics")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	checkObject(t, obj, "u.ics", etag2, data2)
}

// Delete with a stale ETag fails with ErrPrecondition; with the current
// one, or none, it removes the object.
func testDelete(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	etag1 := mustCreate(t, s, cal, "d.ics", event("d", "v1", 0))
	etag2, err := s.Update(ctx, cal, "d.ics", event("d", "v2", 0), etag1)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.Delete(ctx, cal, "d.ics", etag1); !errors.Is(err, caldav.ErrPrecondition) {
		t.Errorf("Delete with a stale ETag = %v, want ErrPrecondition", err)
	}
	if _, err := s.Get(ctx, cal, "d.ics"); err != nil {
		t.Fatalf("Get after a refused Delete: %v", err)
	}
	if err := s.Delete(ctx, cal, "d.ics", etag2); err != nil {
		t.Fatalf("Delete with the current ETag: %v", err)
	}
	if _, err := s.Get(ctx, cal, "d.ics"); !errors.Is(err, caldav.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}

	mustCreate(t, s, cal, "e.ics", event("e", "v1", 0))
	if err := s.Delete(ctx, cal, "e.ics", ""); err != nil {
		t.Fatalf("unconditional Delete: %v", err)
	}
	if _, err := s.Get(ctx, cal, "e.ics"); !errors.Is(err, caldav.ErrNotFound) {
		t.Errorf("Get after an unconditional Delete = %v, want ErrNotFound", err)
	}
}

// Missing objects and calendars give ErrNotFound, except a conditional
// Update of a missing object, which fails its precondition (RFC 7232: no
// current version matches), as on Radicale.
func testNotFound(t *testing.T, s caldav.Store) {
	cal := newCalendar(t, s)
	etag := mustCreate(t, s, cal, "there.ics", event("there", "there", 0))
	const noCal = "no-such-calendar"
	data := event("x", "x", 0)
	start := base
	tests := []struct {
		name string
		op   func(ctx context.Context) error
		want error
	}{
		{"Get missing object", func(ctx context.Context) error { _, err := s.Get(ctx, cal, "missing.ics"); return err }, caldav.ErrNotFound},
		{"Get in missing calendar", func(ctx context.Context) error { _, err := s.Get(ctx, noCal, "there.ics"); return err }, caldav.ErrNotFound},
		{"Delete missing object", func(ctx context.Context) error { return s.Delete(ctx, cal, "missing.ics", "") }, caldav.ErrNotFound},
		{"Delete missing object with ETag", func(ctx context.Context) error { return s.Delete(ctx, cal, "missing.ics", etag) }, caldav.ErrNotFound},
		{"Delete in missing calendar", func(ctx context.Context) error { return s.Delete(ctx, noCal, "there.ics", "") }, caldav.ErrNotFound},
		{"Update missing object", func(ctx context.Context) error {
			_, err := s.Update(ctx, cal, "missing.ics", data, etag)
			return err
		}, caldav.ErrPrecondition},
		{"Update in missing calendar", func(ctx context.Context) error {
			_, err := s.Update(ctx, noCal, "there.ics", data, etag)
			return err
		}, caldav.ErrNotFound},
		{"Create in missing calendar", func(ctx context.Context) error { _, err := s.Create(ctx, noCal, "x.ics", data); return err }, caldav.ErrNotFound},
		{"MultiGet in missing calendar", func(ctx context.Context) error {
			_, err := s.MultiGet(ctx, noCal, []string{"there.ics"})
			return err
		}, caldav.ErrNotFound},
		{"Query in missing calendar", func(ctx context.Context) error {
			_, err := s.Query(ctx, noCal, start, start.Add(time.Hour))
			return err
		}, caldav.ErrNotFound},
		{"Changes in missing calendar", func(ctx context.Context) error { _, err := s.Changes(ctx, noCal, ""); return err }, caldav.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(t.Context()); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := s.Get(t.Context(), cal, "there.ics"); err != nil {
		t.Errorf("Get of the untouched object: %v", err)
	}
}

// MultiGet returns the objects that exist, with their ETags, and leaves
// out the names that do not.
func testMultiGet(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	want := map[string]caldav.Object{}
	for i, name := range []string{"m1.ics", "m2.ics", "m3.ics"} {
		data := event(strings.TrimSuffix(name, ".ics"), name, i)
		want[name] = caldav.Object{Name: name, ETag: mustCreate(t, s, cal, name, data), Data: data}
	}
	got, err := s.MultiGet(ctx, cal, []string{"m3.ics", "missing.ics", "m1.ics", "m2.ics"})
	if err != nil {
		t.Fatalf("MultiGet: %v", err)
	}
	checkObjects(t, "MultiGet", got, want)

	got, err = s.MultiGet(ctx, cal, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("MultiGet of no names = %v, %v; want nothing", got, err)
	}
	got, err = s.MultiGet(ctx, cal, []string{"missing.ics"})
	if err != nil || len(got) != 0 {
		t.Errorf("MultiGet of a missing name = %v, %v; want nothing", got, err)
	}
}

// Query returns at least every object with an instance in [start, end):
// inside, straddling the start, spanning the whole range, and a recurring
// event whose first instances are weeks before but one falls inside. A
// superset is allowed, so nothing is asserted about the objects outside
// except that what comes back is real and current.
func testQuery(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	start, end := base, base.Add(24*time.Hour)
	h := time.Hour
	events := []struct {
		name       string
		from, to   time.Time
		extra      []string
		mustReturn bool
	}{
		{"inside", start.Add(10 * h), start.Add(11 * h), nil, true},
		{"straddles-start", start.Add(-h), start.Add(h), nil, true},
		{"straddles-end", end.Add(-h), end.Add(h), nil, true},
		{"spans-range", start.Add(-48 * h), end.Add(48 * h), nil, true},
		{"weekly", start.Add(-21*7*24*h + 9*h), start.Add(-21*7*24*h + 10*h), []string{"RRULE:FREQ=WEEKLY;COUNT=52"}, true},
		{"daily-until-inside", start.Add(-10*24*h + 12*h), start.Add(-10*24*h + 13*h), []string{"RRULE:FREQ=DAILY;UNTIL=" + start.Add(12*h).Format("20060102T150405Z")}, true},
		{"ends-at-start", start.Add(-h), start, nil, false},
		{"starts-at-end", end, end.Add(h), nil, false},
		{"weeks-later", end.Add(30 * 24 * h), end.Add(30*24*h + h), nil, false},
		{"weekly-ended-before", start.Add(-70 * 24 * h), start.Add(-70*24*h + h), []string{"RRULE:FREQ=WEEKLY;COUNT=3"}, false},
	}
	all := map[string]caldav.Object{}
	for _, e := range events {
		name := e.name + ".ics"
		data := Event(e.name+"-"+randomID(), e.name, e.from, e.to, e.extra...)
		all[name] = caldav.Object{Name: name, ETag: mustCreate(t, s, cal, name, data), Data: data}
	}
	got, err := s.Query(ctx, cal, start, end)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	returned := map[string]bool{}
	for _, o := range got {
		if returned[o.Name] {
			t.Errorf("Query returned %s twice", o.Name)
		}
		returned[o.Name] = true
		w, ok := all[o.Name]
		if !ok {
			t.Errorf("Query returned %q, which was never stored", o.Name)
			continue
		}
		checkObject(t, o, w.Name, w.ETag, w.Data)
	}
	for _, e := range events {
		if e.mustReturn && !returned[e.name+".ics"] {
			t.Errorf("Query [%v, %v) left out %s", start, end, e.name)
		}
	}
}

// Changes: an empty token lists everything (Full) with a token; a token
// then gives what changed since — as a delta or a Full listing, either
// way the view it builds must be the calendar as it is.
func testChanges(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	changes := func(token string) caldav.Changes {
		t.Helper()
		ch, err := s.Changes(ctx, cal, token)
		if err != nil {
			t.Fatalf("Changes(%q): %v", token, err)
		}
		return ch
	}

	ch := changes("")
	if !ch.Full || len(ch.Changed) != 0 || len(ch.Deleted) != 0 {
		t.Errorf("Changes(\"\") on an empty calendar = %+v, want Full and empty", ch)
	}
	view := apply(t, nil, ch)

	want := map[string]string{}
	for i, n := range []string{"a.ics", "b.ics", "c.ics"} {
		want[n] = mustCreate(t, s, cal, n, event(strings.TrimSuffix(n, ".ics"), n, i))
	}
	ch = changes(ch.Token)
	view = apply(t, view, ch)
	checkView(t, "after three Creates", view, want)

	ch = changes(ch.Token)
	view = apply(t, view, ch)
	checkView(t, "with nothing changed", view, want)
	if !ch.Full && (len(ch.Changed) != 0 || len(ch.Deleted) != 0) {
		t.Errorf("Changes with nothing changed = %+v, want an empty delta", ch)
	}

	var err error
	if want["a.ics"], err = s.Update(ctx, cal, "a.ics", event("a", "a v2", 0), want["a.ics"]); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.Delete(ctx, cal, "b.ics", want["b.ics"]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	delete(want, "b.ics")
	want["d.ics"] = mustCreate(t, s, cal, "d.ics", event("d", "d", 3))
	ch = changes(ch.Token)
	view = apply(t, view, ch)
	checkView(t, "after Update, Delete and Create", view, want)

	full := apply(t, nil, changes(""))
	checkView(t, "Changes(\"\") at the end", full, want)
}

// A client that adds its own writes to its view (as roomcal's gate does
// with every booking it makes) must hear of their deletion by another
// client at its next Changes, although the object was created and deleted
// after its token: Xandikos's sync-collection leaves such objects out
// (it compares two states of the calendar), and the Store must still
// answer a view without them. Objects untouched, updated or created
// meanwhile by others must come out right too.
func testChangesOwnWriteDeleted(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	want := map[string]string{"old.ics": mustCreate(t, s, cal, "old.ics", event("old", "old", 0))}
	ch, err := s.Changes(ctx, cal, "")
	if err != nil {
		t.Fatalf("Changes(\"\"): %v", err)
	}
	view := apply(t, nil, ch)
	checkView(t, "first listing", view, want)

	tests := []struct {
		name   string
		others func(t *testing.T, own string) // what another client does after our write
	}{
		{"own write deleted", func(t *testing.T, own string) {}},
		{"own write deleted, another created", func(t *testing.T, own string) {
			n := "other-" + randomID() + ".ics"
			want[n] = mustCreate(t, s, cal, n, event(strings.TrimSuffix(n, ".ics"), n, 2))
		}},
		{"own write deleted, an old one updated", func(t *testing.T, own string) {
			etag, err := s.Update(ctx, cal, "old.ics", event("old", "old "+own, 0), want["old.ics"])
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			want["old.ics"] = etag
		}},
	}
	for _, tt := range tests {
		own := "own-" + randomID() + ".ics"
		etag := mustCreate(t, s, cal, own, event(strings.TrimSuffix(own, ".ics"), own, 1))
		view[own] = etag // our own write, known without a Changes
		tt.others(t, own)
		if err := s.Delete(ctx, cal, own, ""); err != nil {
			t.Fatalf("%s: Delete(%q): %v", tt.name, own, err)
		}
		if ch, err = s.Changes(ctx, cal, ch.Token); err != nil {
			t.Fatalf("%s: Changes: %v", tt.name, err)
		}
		view = apply(t, view, ch)
		checkView(t, tt.name, view, want)
	}
}

// A token the store does not know gives ErrInvalidSyncToken; starting
// again with an empty token works.
func testInvalidSyncToken(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	mustCreate(t, s, cal, "a.ics", event("a", "a", 0))
	for _, token := range []string{
		"http://radicale.org/ns/sync/" + strings.Repeat("0", 64),
		"http://sabre.io/ns/sync/999999999",
		"bogus-" + randomID(),
	} {
		if _, err := s.Changes(ctx, cal, token); !errors.Is(err, caldav.ErrInvalidSyncToken) {
			t.Errorf("Changes(%q) = %v, want ErrInvalidSyncToken", token, err)
		}
	}
	ch, err := s.Changes(ctx, cal, "")
	if err != nil {
		t.Fatalf("Changes(\"\") after an invalid token: %v", err)
	}
	if !ch.Full || len(ch.Changed) != 1 {
		t.Errorf("Changes(\"\") = %+v, want Full with one object", ch)
	}
}

// Non-ASCII text, escaped characters, long folded lines and parameters
// come back the same — as content lines, since servers re-serialise — by
// every way of reading, with CRLF line ends.
func testRoundTrip(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	summary := "Réunion – café ☕ 会議, salle \"Loire\"; ordre du jour: " + strings.Repeat("très long ", 12)
	data := Event("rt-"+randomID(), summary, base.Add(9*time.Hour), base.Add(10*time.Hour),
		`DESCRIPTION:Première ligne\nDeuxième ligne\, avec virgule et point-virgule\;`,
		"X-ROOMCAL-BOOKED-BY;X-ROOMCAL-SITE=Nantes:Zoë Ångström",
		"LOCATION:Salle Loire — 2ᵉ étage",
	)
	etag := mustCreate(t, s, cal, "rt.ics", data)

	obj, err := s.Get(ctx, cal, "rt.ics")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	checkObject(t, obj, "rt.ics", etag, data)
	objs, err := s.MultiGet(ctx, cal, []string{"rt.ics"})
	if err != nil {
		t.Fatalf("MultiGet: %v", err)
	}
	checkObjects(t, "MultiGet", objs, map[string]caldav.Object{"rt.ics": {Name: "rt.ics", ETag: etag, Data: data}})
	objs, err = s.Query(ctx, cal, base, base.Add(24*time.Hour))
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	checkObjects(t, "Query", objs, map[string]caldav.Object{"rt.ics": {Name: "rt.ics", ETag: etag, Data: data}})
}

// Object names are path segments with any character but "/": spaces,
// "+", "@", ",", ";", "=", non-ASCII. Every method maps them both ways.
func testNames(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	names := []string{"réunion 1+1@salle.ics", "a b,c;d=e.ics", "040000008200E00074C5B7101A82E008-x%41.ics"}
	ch, err := s.Changes(ctx, cal, "")
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	want := map[string]caldav.Object{}
	for i, n := range names {
		data := event(fmt.Sprintf("n%d", i), n, i)
		want[n] = caldav.Object{Name: n, ETag: mustCreate(t, s, cal, n, data), Data: data}
	}
	for _, n := range names {
		obj, err := s.Get(ctx, cal, n)
		if err != nil {
			t.Fatalf("Get(%q): %v", n, err)
		}
		checkObject(t, obj, n, want[n].ETag, want[n].Data)
	}
	got, err := s.MultiGet(ctx, cal, names)
	if err != nil {
		t.Fatalf("MultiGet: %v", err)
	}
	checkObjects(t, "MultiGet", got, want)
	got, err = s.Query(ctx, cal, base, base.Add(7*24*time.Hour))
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	checkObjects(t, "Query", got, want)

	etags := map[string]string{}
	for n, o := range want {
		etags[n] = o.ETag
	}
	view := apply(t, nil, ch)
	ch, err = s.Changes(ctx, cal, ch.Token)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	view = apply(t, view, ch)
	checkView(t, "Changes after Creates", view, etags)

	if err := s.Delete(ctx, cal, names[0], want[names[0]].ETag); err != nil {
		t.Fatalf("Delete(%q): %v", names[0], err)
	}
	delete(etags, names[0])
	ch2, err := s.Changes(ctx, cal, ch.Token)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	if !ch2.Full && !slices.Contains(ch2.Deleted, names[0]) {
		t.Errorf("Changes after Delete(%q): Deleted = %q", names[0], ch2.Deleted)
	}
	full, err := s.Changes(ctx, cal, "")
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	checkView(t, "Changes(\"\") after Delete", apply(t, nil, full), etags)
}

// N concurrent Updates with the same ETag: exactly one wins, the others
// fail with ErrPrecondition, and the object is the winner's.
func testConcurrentUpdate(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	etag := mustCreate(t, s, cal, "race.ics", event("race", "start", 0))
	res := race(func(i int) (string, error) {
		return s.Update(ctx, cal, "race.ics", event("race", fmt.Sprintf("writer %d", i), 0), etag)
	})
	checkOneWinner(t, s, cal, "race.ics", "Update", res, "race")
}

// N concurrent Creates of one name: exactly one wins, the others fail
// with ErrPrecondition, and the object is the winner's.
func testConcurrentCreate(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	res := race(func(i int) (string, error) {
		return s.Create(ctx, cal, "race.ics", event("race", fmt.Sprintf("writer %d", i), 0))
	})
	checkOneWinner(t, s, cal, "race.ics", "Create", res, "race")
}

// N concurrent Deletes with the same ETag: exactly one succeeds; the
// others fail with ErrPrecondition or ErrNotFound (the object is gone).
func testConcurrentDelete(t *testing.T, s caldav.Store) {
	ctx := t.Context()
	cal := newCalendar(t, s)
	etag := mustCreate(t, s, cal, "race.ics", event("race", "start", 0))
	res := race(func(int) (string, error) { return "", s.Delete(ctx, cal, "race.ics", etag) })
	wins := 0
	for i, r := range res {
		switch {
		case r.err == nil:
			wins++
		case !errors.Is(r.err, caldav.ErrPrecondition) && !errors.Is(r.err, caldav.ErrNotFound):
			t.Errorf("Delete %d: %v, want nil, ErrPrecondition or ErrNotFound", i, r.err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent Deletes succeeded, want exactly 1", wins, writers)
	}
	if _, err := s.Get(ctx, cal, "race.ics"); !errors.Is(err, caldav.ErrNotFound) {
		t.Errorf("Get after the Deletes = %v, want ErrNotFound", err)
	}
}

type result struct {
	etag string
	err  error
}

// race runs f(0) … f(writers-1) in goroutines released at once.
func race(f func(i int) (string, error)) []result {
	res := make([]result, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			<-start
			res[i].etag, res[i].err = f(i)
		})
	}
	close(start)
	wg.Wait()
	return res
}

// checkOneWinner asserts that exactly one write of res won, that the
// others lost with ErrPrecondition, and that the object is the winner's.
func checkOneWinner(t *testing.T, s caldav.Store, cal, name, op string, res []result, uid string) {
	t.Helper()
	winner := -1
	for i, r := range res {
		switch {
		case r.err == nil && winner >= 0:
			t.Errorf("%s %d and %d both succeeded", op, winner, i)
		case r.err == nil:
			winner = i
		case !errors.Is(r.err, caldav.ErrPrecondition):
			t.Errorf("%s %d: %v, want ErrPrecondition", op, i, r.err)
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d concurrent %ss succeeded", writers, op)
	}
	obj, err := s.Get(t.Context(), cal, name)
	if err != nil {
		t.Fatalf("Get after the race: %v", err)
	}
	checkObject(t, obj, name, res[winner].etag, event(uid, fmt.Sprintf("writer %d", winner), 0))
}

// base is a Monday at midnight UTC, far enough ahead to stay in the
// future.
var base = time.Date(2030, 6, 3, 0, 0, 0, 0, time.UTC)

// event is a one-hour event on day base+day at 09:00 UTC.
func event(uid, summary string, day int) []byte {
	start := base.AddDate(0, 0, day).Add(9 * time.Hour)
	return Event(uid, summary, start, start.Add(time.Hour))
}

func randomID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// newCalendar creates a calendar with a fresh name.
func newCalendar(t *testing.T, s caldav.Store) string {
	t.Helper()
	cal := "cal-" + randomID()
	if err := s.CreateCalendar(t.Context(), cal, "Test "+cal); err != nil {
		t.Fatalf("CreateCalendar(%q): %v", cal, err)
	}
	return cal
}

func mustCreate(t *testing.T, s caldav.Store, cal, name string, data []byte) string {
	t.Helper()
	etag, err := s.Create(t.Context(), cal, name, data)
	if err != nil {
		t.Fatalf("Create(%q, %q): %v", cal, name, err)
	}
	if etag == "" {
		t.Fatalf("Create(%q, %q) returned an empty ETag", cal, name)
	}
	return etag
}

// checkObject asserts the name, ETag and content of obj, and that its
// lines end in CRLF as the stored data's did.
func checkObject(t *testing.T, obj caldav.Object, name, etag string, data []byte) {
	t.Helper()
	if obj.Name != name {
		t.Errorf("object name = %q, want %q", obj.Name, name)
	}
	if obj.ETag != etag {
		t.Errorf("%s: ETag = %q, want %q", name, obj.ETag, etag)
	}
	if got, want := contentLines(obj.Data), contentLines(data); !slices.Equal(got, want) {
		t.Errorf("%s: data differs\n got: %q\nwant: %q", name, got, want)
	}
	if hasBareLF(obj.Data) {
		t.Errorf("%s: data has line ends other than CRLF: %q", name, obj.Data)
	}
}

// checkObjects asserts that objs are exactly want, in any order.
func checkObjects(t *testing.T, op string, objs []caldav.Object, want map[string]caldav.Object) {
	t.Helper()
	seen := map[string]bool{}
	for _, o := range objs {
		w, ok := want[o.Name]
		if !ok || seen[o.Name] {
			t.Errorf("%s returned %q (unexpected or twice)", op, o.Name)
			continue
		}
		seen[o.Name] = true
		checkObject(t, o, w.Name, w.ETag, w.Data)
	}
	for n := range want {
		if !seen[n] {
			t.Errorf("%s left out %q", op, n)
		}
	}
}

// apply folds a Changes answer into view (name → ETag), as a client
// keeping a copy of the calendar would.
func apply(t *testing.T, view map[string]string, ch caldav.Changes) map[string]string {
	t.Helper()
	if ch.Token == "" {
		t.Errorf("Changes returned an empty token")
	}
	if ch.Full {
		if len(ch.Deleted) != 0 {
			t.Errorf("Full Changes with Deleted = %q", ch.Deleted)
		}
		view = nil
	}
	out := maps.Clone(view)
	if out == nil {
		out = map[string]string{}
	}
	seen := map[string]bool{}
	for _, r := range ch.Changed {
		if seen[r.Name] {
			t.Errorf("Changes lists %q twice", r.Name)
		}
		seen[r.Name] = true
		out[r.Name] = r.ETag
	}
	for _, n := range ch.Deleted {
		if seen[n] {
			t.Errorf("Changes lists %q as changed and deleted", n)
		}
		seen[n] = true
		delete(out, n)
	}
	return out
}

func checkView(t *testing.T, when string, view, want map[string]string) {
	t.Helper()
	if !maps.Equal(view, want) {
		t.Errorf("%s: view built from Changes = %v, want %v", when, view, want)
	}
}
