package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/memgate"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// deps are the adapters chosen by the configuration.
type deps struct {
	store    caldav.Store
	gate     booking.Gate
	pingGate func(context.Context) error
	close    func()
}

// open connects the calendar store (a CalDAV server, or the embedded
// store in DataDir) and the gate (Redis, or the in-process stand-in).
func open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*deps, error) {
	d := &deps{close: func() {}}
	if cfg.CalDAV.Embedded() {
		fs, err := caldav.OpenFileStoreWithOptions(cfg.DataDir, caldav.FileStoreOptions{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("embedded calendar store in %s: %w", cfg.DataDir, err)
		}
		d.store = fs
		closeStore := func() { _ = fs.Close() }
		d.close = closeStore
	} else {
		c, err := caldav.NewClient(cfg.CalDAV.URL, caldav.ClientOptions{
			Username: cfg.CalDAV.User,
			Password: cfg.CalDAV.Password.Reveal(),
			Logger:   log,
		})
		if err != nil {
			return nil, fmt.Errorf("caldav client: %w", err)
		}
		d.store = c
	}
	if cfg.RedisURL == "" {
		g := memgate.New()
		d.gate = g
		d.pingGate = func(context.Context) error { return nil }
	} else {
		rc, err := redisgate.Dial(ctx, cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		g := redisgate.New(rc)
		d.gate = g
		d.pingGate = func(ctx context.Context) error { return rc.Ping(ctx).Err() }
		closeStore := d.close
		d.close = func() { _ = rc.Close(); closeStore() }
	}
	return d, nil
}

// missingCalendars lists the rooms whose calendar the store lacks.
func missingCalendars(ctx context.Context, store caldav.Store, rooms []booking.Room) ([]booking.Room, error) {
	cals, err := store.Calendars(ctx)
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	have := map[string]bool{}
	for _, c := range cals {
		have[c.Name] = true
	}
	var missing []booking.Room
	for _, r := range rooms {
		if !have[r.Calendar] {
			missing = append(missing, r)
		}
	}
	return missing, nil
}

// createCalendars makes the missing room calendars; an ErrExists (created
// meanwhile by someone else) is not a failure.
func createCalendars(ctx context.Context, store caldav.Store, rooms []booking.Room, report func(booking.Room, error)) error {
	var errs []error
	for _, r := range rooms {
		err := store.CreateCalendar(ctx, r.Calendar, r.Name)
		if errors.Is(err, caldav.ErrExists) {
			err = nil
		}
		report(r, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("room %s: %w", r.ID, err))
		}
	}
	return errors.Join(errs...)
}
