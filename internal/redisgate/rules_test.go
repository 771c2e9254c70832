package redisgate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// The buffered overlap rule has one table (gatetest.OverlapCases): the
// gate's Lua, which decides, and booking.Busy.Overlaps, which restates
// it in Go, must both answer every case as the table says.
func TestOverlapRuleOneTable(t *testing.T) {
	g := redisgate.New(gatetest.Embedded(t).Client())
	ctx := context.Background()
	for i, tc := range gatetest.OverlapCases {
		t.Run(tc.Name, func(t *testing.T) {
			if got := tc.Busy("x").Overlaps(tc.Start, tc.End, tc.Buffer); got != tc.Clash {
				t.Errorf("booking.Busy.Overlaps = %v, want %v", got, tc.Clash)
			}
			room := "rule" + string(rune('a'+i))
			snap := booking.Snapshot{Token: "t", Objects: map[string]booking.ObjectState{"x": {ETag: "1", Busy: []booking.Busy{tc.Busy("x")}}}}
			if err := g.Load(ctx, room, snap); err != nil {
				t.Fatal(err)
			}
			err := g.Claim(ctx, room, booking.Claim{HoldID: "h", TTL: time.Minute, Buffer: tc.Buffer,
				Intervals: []booking.Busy{{Start: tc.Start, End: tc.End, Kind: booking.KindBooking}}})
			var ce *booking.ConflictError
			switch {
			case tc.Clash && !errors.As(err, &ce):
				t.Errorf("gate Claim = %v, want a conflict", err)
			case !tc.Clash && err != nil:
				t.Errorf("gate Claim = %v, want no conflict", err)
			}
		})
	}
}
