package redisgate

import (
	"testing"
	"time"
)

// A rate window is counted in whole milliseconds, rounded up, so no
// window is 0 (a key that never expires).
func TestWindowMillis(t *testing.T) {
	for _, tc := range []struct {
		per  time.Duration
		want int64
	}{
		{time.Nanosecond, 1},
		{time.Millisecond, 1},
		{1500 * time.Microsecond, 2},
		{time.Second, 1000},
		{time.Minute + time.Nanosecond, 60001},
	} {
		if got := windowMillis(tc.per); got != tc.want {
			t.Errorf("windowMillis(%v) = %d, want %d", tc.per, got, tc.want)
		}
	}
}
