package main

// The two engines the gate's Lua scripts run on: Redis (the one `make
// bench` starts) and the embedded engine (miniredis in process, what
// roomcal uses without ROOMCAL_REDIS_URL). Every section that times the
// gate runs on each engine asked for with -engines.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// engine is an open gate engine: a client, and how to flush everything
// it holds.
type engine struct {
	name   string // "Redis" or "embedded"
	client redis.UniversalClient
	flush  func(ctx context.Context) error
	close  func()
}

// engineNames are the values -engines takes.
var engineNames = []string{"redis", "embedded"}

// parseEngines reads -engines.
func parseEngines(v string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f != "redis" && f != "embedded" {
			return nil, fmt.Errorf("-engines lists redis and embedded, not %q", f)
		}
		out = append(out, f)
	}
	return out, nil
}

// openEngine opens the engine called name: Redis at redisURL, or a fresh
// embedded engine.
func openEngine(ctx context.Context, name, redisURL string) (*engine, error) {
	switch name {
	case "redis":
		rc, err := redisgate.Dial(ctx, redisURL)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		return &engine{name: "Redis", client: rc,
			flush: func(ctx context.Context) error { return rc.FlushAll(ctx).Err() },
			close: func() { _ = rc.Close() }}, nil
	case "embedded":
		e, err := redisgate.StartEmbedded()
		if err != nil {
			return nil, err
		}
		return &engine{name: "embedded", client: e.Client(),
			flush: func(context.Context) error { e.FlushAll(); return nil },
			close: e.Close}, nil
	}
	return nil, fmt.Errorf("unknown engine %q", name)
}

// claimResult is what the claims benchmark measured.
type claimResult struct {
	claims, conflicts, errs int64
	took                    time.Duration
	lat                     []time.Duration // of each Claim call
	firstErr                string
}

// benchClaims claims and at once releases one free half-hour in the
// rooms (loaded already) from workers goroutines for dur (at most
// maxPerWorker claims each): the gate's decision alone, without the
// calendar. Each worker keeps to its own room and days, so that claims
// do not clash with one another; a clash with a seeded event counts as
// a conflict (a decision all the same).
func benchClaims(ctx context.Context, g booking.Gate, rooms []booking.Room, workers int, dur time.Duration) claimResult {
	const maxPerWorker = 200_000
	var res claimResult
	var mu sync.Mutex
	var claims, conflicts, errs atomic.Int64
	var first atomic.Value
	base := time.Now().In(paris).AddDate(0, 0, 3)
	base = time.Date(base.Year(), base.Month(), base.Day(), 23, 0, 0, 0, paris)
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			room := rooms[w%len(rooms)].ID
			firstDay := (w / len(rooms)) * 60
			lat := make([]time.Duration, 0, 4096)
			for n := 0; n < maxPerWorker && time.Now().Before(deadline); n++ {
				s := base.AddDate(0, 0, firstDay+n%60)
				id := fmt.Sprintf("bench-%d-%d", w, n)
				t := time.Now()
				err := g.Claim(ctx, room, booking.Claim{HoldID: id, TTL: time.Minute,
					Intervals: []booking.Busy{{Start: s, End: s.Add(30 * time.Minute), Kind: booking.KindBooking, Title: "Banc d'essai"}}})
				lat = append(lat, time.Since(t))
				var ce *booking.ConflictError
				switch {
				case err == nil:
					claims.Add(1)
					if err := g.Release(ctx, room, id); err != nil {
						errs.Add(1)
						first.CompareAndSwap(nil, "release: "+err.Error())
					}
				case errors.As(err, &ce):
					conflicts.Add(1)
				default:
					errs.Add(1)
					first.CompareAndSwap(nil, "claim: "+err.Error())
				}
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.took = time.Since(start)
	res.claims, res.conflicts, res.errs = claims.Load(), conflicts.Load(), errs.Load()
	if v := first.Load(); v != nil {
		res.firstErr = v.(string)
	}
	sort.Slice(res.lat, func(i, j int) bool { return res.lat[i] < res.lat[j] })
	return res
}
