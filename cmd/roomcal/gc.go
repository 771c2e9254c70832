package main

import "runtime/debug"

// defaultGCPercent is the garbage collector's target when GOGC is not
// set: the heap may grow 50% over what is live between collections, not
// 100%. roomcal's live heap is small (about 10 MB with ten rooms of 300
// events), so the collections this adds cost little CPU, and the resident
// memory after a burst of requests is ~9 MiB lower (BENCHMARKS.md,
// 2026-12-05 evening). GOGC, when set, wins as usual.
const defaultGCPercent = 50

// tuneGC applies defaultGCPercent unless the environment sets GOGC.
func tuneGC(lookup func(string) (string, bool)) {
	if _, set := lookup("GOGC"); set {
		return
	}
	debug.SetGCPercent(defaultGCPercent)
}
