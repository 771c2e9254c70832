package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want int
	}{
		{"GOGC unset: roomcal's default", map[string]string{}, defaultGCPercent},
		{"GOGC set: the runtime's reading of it stays", map[string]string{"GOGC": "200"}, 100},
		{"GOGC set empty: still the operator's choice", map[string]string{"GOGC": ""}, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			tuneGC(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if got := debug.SetGCPercent(100); got != tc.want {
				t.Errorf("GC percent = %d, want %d", got, tc.want)
			}
		})
	}
}
