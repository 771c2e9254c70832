package booking

import (
	"sync/atomic"
	"time"
)

// TimingBounds are the upper bounds of Timings' buckets (each bucket
// counts the durations up to its bound; one more bucket counts the rest).
// They span a quiet sync pass of one room (a few milliseconds) to a full
// reading of a large calendar (tens of seconds).
var TimingBounds = [...]time.Duration{
	time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// Timings counts durations into the buckets of TimingBounds, with their
// count and sum: what a Prometheus histogram exposes. It is safe for
// concurrent use; its zero value is ready.
type Timings struct {
	buckets [len(TimingBounds) + 1]atomic.Int64 // not cumulative; the last one is past every bound
	sum     atomic.Int64                        // nanoseconds
}

// Observe counts one duration.
func (t *Timings) Observe(d time.Duration) {
	i := 0
	for i < len(TimingBounds) && d > TimingBounds[i] {
		i++
	}
	t.buckets[i].Add(1)
	t.sum.Add(int64(d))
}

// Snapshot returns what was observed so far.
func (t *Timings) Snapshot() TimingsSnapshot {
	var s TimingsSnapshot
	var run int64
	for i := range TimingBounds {
		run += t.buckets[i].Load()
		s.Cumulative[i] = run
	}
	s.Count = run + t.buckets[len(TimingBounds)].Load()
	s.Sum = time.Duration(t.sum.Load())
	return s
}

// TimingsSnapshot is a reading of Timings. Its buckets and Count agree
// (Count is their total); Sum, read after them, may include an
// observation made meanwhile.
type TimingsSnapshot struct {
	// Cumulative[i] counts the durations up to TimingBounds[i].
	Cumulative [len(TimingBounds)]int64
	Count      int64
	Sum        time.Duration
}

// serviceStats are the figures Stats reports: the answer memo's use and
// the time sync passes take.
type serviceStats struct {
	answerHits, answerMisses, answerUncached atomic.Int64
	roomSyncs, syncPasses                    Timings
}

// Stats are what this process's Service did since it started (exported
// as metrics).
type Stats struct {
	// AnswerHits counts availability answers given again from the memo,
	// AnswerMisses those made and kept there, AnswerUncached those made
	// and not kept (a live hold in them, or read straight from a
	// calendar the gate does not cover).
	AnswerHits, AnswerMisses, AnswerUncached int64
	// RoomSyncs times each sync pass over one room's calendar that this
	// process made (SyncRoom, when no other replica held the room);
	// SyncPasses times each round of RunSync over every room.
	RoomSyncs, SyncPasses TimingsSnapshot
}

// Stats returns the figures since the Service started.
func (s *Service) Stats() Stats {
	return Stats{
		AnswerHits:     s.stats.answerHits.Load(),
		AnswerMisses:   s.stats.answerMisses.Load(),
		AnswerUncached: s.stats.answerUncached.Load(),
		RoomSyncs:      s.stats.roomSyncs.Snapshot(),
		SyncPasses:     s.stats.syncPasses.Snapshot(),
	}
}
