package booking_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
)

// A series is previewed date by date without writing anything: dates
// taken (overlapping, or closer than the room's buffer) and dates the
// rules refuse are named, and the preview says "taken" exactly when
// booking that date alone meets a conflict. Booking the series without
// them writes one object whose EXDATEs are those dates, and the gate
// holds the other dates only; without them, nothing is written.
func TestSeriesPreviewAndSkip(t *testing.T) {
	f := newRoomFixture(t, booking.Rules{Buffer: 15 * time.Minute, MaxAhead: 32 * 24 * time.Hour})
	ctx := context.Background()
	day := func(n int, h, m int) time.Time { return time.Date(2026, 11, 26+n, h, m, 0, 0, time.UTC) }
	single := func(who booking.Member, s, e time.Time) (booking.Booking, error) {
		return f.svc.Book(ctx, who, booking.Request{Room: "ag", Start: s, End: e, Title: "Point de " + who.Name})
	}
	// In the way of Thursdays 10:00–12:00: an overlap on the 2nd, a
	// booking 10 minutes after the end (inside the 15-minute buffer) on
	// the 4th; 20 minutes after on the 3rd leaves it free.
	for _, b := range [][2]time.Time{{day(7, 10, 30), day(7, 11, 0)}, {day(21, 12, 10), day(21, 13, 0)}, {day(14, 12, 20), day(14, 13, 0)}} {
		if _, err := single(bob, b[0], b[1]); err != nil {
			t.Fatal(err)
		}
	}
	objects := func() int {
		ch, err := f.store.Changes(ctx, "ag", "")
		if err != nil {
			t.Fatal(err)
		}
		return len(ch.Changed)
	}
	before := objects()
	series := booking.Request{Room: "ag", Start: day(0, 10, 0), End: day(0, 12, 0), Recurrence: "FREQ=WEEKLY;COUNT=6"}
	dates, err := f.svc.Preview(ctx, ann, series)
	if err != nil {
		t.Fatal(err)
	}
	if len(dates) != 6 {
		t.Fatalf("preview: %d dates, want 6", len(dates))
	}
	wantTaken := map[int]bool{1: true, 3: true}
	for i, d := range dates {
		if !d.Start.Equal(day(7*i, 10, 0)) {
			t.Errorf("date %d starts %v", i, d.Start)
		}
		if got := len(d.With) > 0; got != wantTaken[i] {
			t.Errorf("date %d (%v): taken %v, want %v (%+v)", i, d.Start, got, wantTaken[i], d.With)
		}
	}
	// The 6th (31 December) is past the 32 days ahead the room allows.
	if r := dates[5].Refused; r == nil || r.Rule != booking.RuleMaxAhead {
		t.Errorf("date 5: refused %+v, want max_ahead", dates[5].Refused)
	}
	if n := objects(); n != before {
		t.Fatalf("the preview wrote: %d objects, had %d", n, before)
	}
	// The preview decides as the booking does: each free date may be
	// booked alone, each taken one meets a conflict.
	for i, d := range dates[:5] {
		b, err := single(carla, d.Start, d.End)
		var ce *booking.ConflictError
		switch {
		case wantTaken[i] && !errors.As(err, &ce):
			t.Errorf("date %d is taken in the preview, booking it alone: %v", i, err)
		case !wantTaken[i] && err != nil:
			t.Errorf("date %d is free in the preview, booking it alone: %v", i, err)
		case err == nil:
			if err := f.svc.Cancel(ctx, carla, b.ID); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Not at all: the series as it is meets the conflicts; nothing is
	// written.
	before = objects()
	series.Title = "Chorale"
	var ce *booking.ConflictError
	series.Recurrence = "FREQ=WEEKLY;COUNT=5"
	if _, err := f.svc.Book(ctx, ann, series); !errors.As(err, &ce) {
		t.Fatalf("the series with its taken dates: %v, want a conflict", err)
	}
	if n := objects(); n != before {
		t.Fatalf("a refused series wrote: %d objects, had %d", n, before)
	}
	// A date that is not the rule's is refused.
	series.Skip = []time.Time{day(8, 10, 0)}
	if _, err := f.svc.Book(ctx, ann, series); !errors.Is(err, booking.ErrInvalid) {
		t.Fatalf("skipping a date outside the series: %v, want invalid", err)
	}
	// Without the taken dates.
	series.Skip = []time.Time{dates[3].Start, dates[1].Start}
	b, err := f.svc.Book(ctx, ann, series)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Skipped) != 2 || !b.Skipped[0].Equal(dates[1].Start) || !b.Skipped[1].Equal(dates[3].Start) {
		t.Errorf("booking skips %v", b.Skipped)
	}
	obj, err := f.store.Get(ctx, "ag", caldav.ObjectName(b.ID))
	if err != nil {
		t.Fatal(err)
	}
	it, err := caldav.ParseObject(obj, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if ex := it.Master().ExDates; len(ex) != 2 || !ex[0].Equal(dates[1].Start) || !ex[1].Equal(dates[3].Start) {
		t.Errorf("EXDATE in the calendar: %v", ex)
	}
	got, err := f.svc.Get(ctx, ann, b.ID)
	if err != nil || len(got.Skipped) != 2 {
		t.Fatalf("read back: %+v %v", got.Skipped, err)
	}
	list, err := f.svc.List(ctx, booking.Filter{Organizer: "ann", From: day(0, 0, 0), To: day(40, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var starts []time.Time
	for _, x := range list {
		starts = append(starts, x.Start)
	}
	if len(starts) != 3 || !starts[0].Equal(dates[0].Start) || !starts[1].Equal(dates[2].Start) || !starts[2].Equal(dates[4].Start) {
		t.Errorf("the series holds %v, want dates 0, 2 and 4", starts)
	}
	// Renaming it keeps what it skips.
	title := "Chorale du jeudi"
	if _, err := f.svc.Move(ctx, ann, b.ID, booking.Change{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.Get(ctx, ann, b.ID); err != nil || len(got.Skipped) != 2 {
		t.Fatalf("renamed: skips %v %v", got.Skipped, err)
	}
	// A skipped date is free for someone else.
	if _, err := single(carla, day(21, 10, 0), day(21, 11, 0)); err != nil {
		t.Errorf("the 4th date is skipped by the series, yet booking it: %v", err)
	}
	if _, err := f.svc.Preview(ctx, ann, booking.Request{Room: "ag", Start: day(0, 10, 0), End: day(0, 12, 0), Recurrence: "FREQ=WEEKLY;COUNT=1"}); err == nil {
		t.Error("a preview of a series of one date should be refused as booking it is")
	}
}

// A single booking made a series (Change.Recurrence) and a series' date
// left out (SkipDate), on the embedded engines: the booking's own slot
// is not checked against the rules again when it becomes the series'
// first date (here it starts within the room's notice), the preview
// for it (Request.Repeats) does not count that slot taken by itself, a
// skipped date is free for others at once and the others stay held;
// what cannot be done is said.
func TestRepeatAndSkipDate(t *testing.T) {
	f := newRoomFixture(t, booking.Rules{MinNotice: 2 * time.Hour})
	ctx := context.Background()
	day := func(n, h, m int) time.Time { return time.Date(2026, 11, 26+n, h, m, 0, 0, time.UTC) }
	b, err := f.svc.Book(ctx, ann, booking.Request{Room: "ag", Start: day(0, 10, 0), End: day(0, 12, 0), Title: "Chorale"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Book(ctx, bob, booking.Request{Room: "ag", Start: day(14, 10, 30), End: day(14, 11, 0), Title: "Atelier"}); err != nil {
		t.Fatal(err)
	}
	const rule = "FREQ=WEEKLY;COUNT=4"
	taken := func(repeats string) (out []int) {
		t.Helper()
		dates, err := f.svc.Preview(ctx, ann, booking.Request{Room: "ag", Start: day(0, 10, 0), End: day(0, 12, 0), Recurrence: rule, Repeats: repeats})
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range dates {
			if !d.Free() {
				out = append(out, i)
			}
		}
		return out
	}
	if got := fmt.Sprint(taken("")); got != "[0 2]" {
		t.Errorf("preview of a new series: %s taken, want [0 2]", got)
	}
	// The morning of the booking: within the room's two hours' notice,
	// which a new series starting then would break.
	now := day(0, 9, 0)
	f.now.Store(&now)
	if got := fmt.Sprint(taken(b.ID)); got != "[2]" {
		t.Errorf("preview of the booking made a series: %s taken, want [2]", got)
	}
	r := rule
	var ce *booking.ConflictError
	if _, err := f.svc.Move(ctx, ann, b.ID, booking.Change{Recurrence: &r}); !errors.As(err, &ce) {
		t.Fatalf("the series over Bob's date: %v, want a conflict", err)
	}
	if _, err := f.svc.Move(ctx, ann, b.ID, booking.Change{Skip: []time.Time{day(14, 10, 0)}}); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("skip without recurrence: %v, want invalid", err)
	}
	s, err := f.svc.Move(ctx, ann, b.ID, booking.Change{Recurrence: &r, Skip: []time.Time{day(14, 10, 0)}})
	if err != nil {
		t.Fatalf("the booking made a series without Bob's date: %v", err)
	}
	if s.Recurrence != rule || len(s.Skipped) != 1 {
		t.Errorf("the series: %q skipping %v", s.Recurrence, s.Skipped)
	}
	if _, err := f.svc.Move(ctx, ann, b.ID, booking.Change{Recurrence: &r}); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("a series made a series again: %v, want invalid", err)
	}
	if _, err := f.svc.Book(ctx, carla, booking.Request{Room: "ag", Start: day(7, 10, 0), End: day(7, 11, 0), Title: "Carla"}); !errors.As(err, &ce) {
		t.Fatalf("Carla on the series' second date: %v, want a conflict", err)
	}

	for _, tt := range []struct {
		name  string
		who   booking.Member
		start time.Time
		want  error
	}{
		{"someone else's series", bob, day(7, 10, 0), booking.ErrForbidden},
		{"no date of the series", ann, day(7, 11, 0), booking.ErrInvalid},
		{"a date skipped already", ann, day(14, 10, 0), booking.ErrInvalid},
	} {
		if _, err := f.svc.SkipDate(ctx, tt.who, b.ID, tt.start); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := f.svc.SkipDate(ctx, ann, b.ID, day(7, 10, 0)); err != nil {
		t.Fatalf("leaving the second date out: %v", err)
	}
	if _, err := f.svc.Book(ctx, carla, booking.Request{Room: "ag", Start: day(7, 10, 0), End: day(7, 11, 0), Title: "Carla"}); err != nil {
		t.Errorf("Carla on the freed date: %v", err)
	}
	if _, err := f.svc.Book(ctx, carla, booking.Request{Room: "ag", Start: day(21, 10, 0), End: day(21, 11, 0), Title: "Carla"}); !errors.As(err, &ce) {
		t.Errorf("Carla on the series' last date: %v, want a conflict", err)
	}
	// Once the first date is over it cannot be left out; the last one
	// left cannot either (the booking is cancelled instead).
	later := day(0, 13, 0)
	f.now.Store(&later)
	if _, err := f.svc.SkipDate(ctx, ann, b.ID, day(0, 10, 0)); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("a date that is over: %v, want invalid", err)
	}
	single, err := f.svc.Book(ctx, ann, booking.Request{Room: "ag", Start: day(1, 14, 0), End: day(1, 15, 0), Title: "Seule"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SkipDate(ctx, ann, single.ID, day(1, 14, 0)); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("a date of a booking that is no series: %v, want invalid", err)
	}
}
