package gatetest

import (
	"time"

	"github.com/roomcal/roomcal/booking"
)

// OverlapCase is one case of the buffered overlap rule: does a booking
// of [Start, End) clash with a room busy over [BusyStart, BusyEnd) when
// Buffer must stay free between them? The rule is decided by the gate's
// Lua (lib.lua, Claim and Commit) and restated in Go where the domain
// needs it before asking the gate (booking.Busy.Overlaps, and the free
// time that availability offers). Every one of them is tested against
// this one table, so they cannot drift apart.
type OverlapCase struct {
	Name               string
	BusyStart, BusyEnd time.Time
	Start, End         time.Time
	Buffer             time.Duration
	Clash              bool
}

// OverlapBase is when the busy interval of every OverlapCase starts:
// a Monday at 10:00 UTC, far in the future.
var OverlapBase = time.Date(2031, 3, 10, 10, 0, 0, 0, time.UTC)

// OverlapCases are the cases, around a room busy 10:00–11:00.
var OverlapCases = func() []OverlapCase {
	at := func(h, m int) time.Time {
		return OverlapBase.Add(time.Duration(h-10)*time.Hour + time.Duration(m)*time.Minute)
	}
	ms := time.Millisecond
	busyS, busyE := at(10, 0), at(11, 0)
	c := func(name string, s, e time.Time, buffer time.Duration, clash bool) OverlapCase {
		return OverlapCase{Name: name, BusyStart: busyS, BusyEnd: busyE, Start: s, End: e, Buffer: buffer, Clash: clash}
	}
	return []OverlapCase{
		c("right after", at(11, 0), at(12, 0), 0, false),
		c("right before", at(9, 0), at(10, 0), 0, false),
		c("one ms into the end", at(11, 0).Add(-ms), at(12, 0), 0, true),
		c("one ms into the start", at(9, 0), at(10, 0).Add(ms), 0, true),
		c("inside", at(10, 15), at(10, 45), 0, true),
		c("covering", at(9, 0), at(12, 0), 0, true),
		c("same", at(10, 0), at(11, 0), 0, true),
		c("buffer kept after", at(11, 15), at(12, 0), 15*time.Minute, false),
		c("buffer short after", at(11, 14), at(12, 0), 15*time.Minute, true),
		c("buffer short by a ms after", at(11, 15).Add(-ms), at(12, 0), 15*time.Minute, true),
		c("buffer kept before", at(9, 0), at(9, 45), 15*time.Minute, false),
		c("buffer short before", at(9, 0), at(9, 46), 15*time.Minute, true),
		c("far away with a buffer", at(13, 0), at(14, 0), time.Hour, false),
		c("an hour's buffer just kept", at(12, 0), at(13, 0), time.Hour, false),
	}
}()

// Busy is the case's busy interval, as object ref.
func (c OverlapCase) Busy(ref string) booking.Busy {
	return booking.Busy{Ref: ref, Kind: booking.KindBooking, Start: c.BusyStart, End: c.BusyEnd}
}
