package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/notices"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// deps are the adapters chosen by the configuration.
type deps struct {
	store    caldav.Store
	gate     booking.Gate
	events   events.Gate
	pingGate func(context.Context) error
	limiter  api.Limiter // counts each member's writes (issue 5)
	signOuts *redisgate.SignOuts
	// notices tells every replica that a room's settings changed.
	notices booking.RoomNotices
	claims  notices.Claims
	// sites groups the gate's keys by site (siteSlots); serve points it
	// at the live catalog.
	sites *siteLookup
	close func()
}

// open connects the calendar store (a CalDAV server, or the embedded
// store in DataDir) and the gate (Redis, or the embedded engine).
func open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*deps, error) {
	d := &deps{close: func() {}, sites: configSites(cfg)}
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
		// The embedded engine runs the same Lua scripts as Redis would:
		// one implementation of every decision.
		e, err := redisgate.StartEmbedded()
		if err != nil {
			d.close()
			return nil, err
		}
		rc := e.Client()
		d.gate = redisgate.New(rc, siteSlots(d.sites.site))
		d.events = redisgate.NewEventGate(rc)
		d.limiter = redisgate.NewLimiter(rc)
		d.signOuts = redisgate.NewSignOuts(rc, signOutCacheTTL)
		d.notices = redisgate.NewRoomNotices(rc, "")
		d.claims = redisgate.NewNoticeClaims(rc)
		d.pingGate = func(ctx context.Context) error { return rc.Ping(ctx).Err() }
		closeStore := d.close
		d.close = func() { e.Close(); closeStore() }
	} else {
		rc, err := redisgate.Dial(ctx, cfg.RedisURL, redisgate.AsCluster(cfg.RedisCluster))
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		g := redisgate.New(rc, append(redisOptions(), siteSlots(d.sites.site))...)
		d.gate = g
		d.events = redisgate.NewEventGate(rc, redisOptions()...)
		d.limiter = redisgate.NewLimiter(rc)
		d.signOuts = redisgate.NewSignOuts(rc, signOutCacheTTL, redisOptions()...)
		d.notices = redisgate.NewRoomNotices(rc, "")
		d.claims = redisgate.NewNoticeClaims(rc, redisOptions()...)
		d.pingGate = func(ctx context.Context) error { return rc.Ping(ctx).Err() }
		closeStore := d.close
		d.close = func() { _ = rc.Close(); closeStore() }
	}
	return d, nil
}

// calendarSpec is one calendar the configuration needs on the server.
type calendarSpec struct {
	What string // "room ID" or "events", for messages
	Path string
	Name string
}

// tokensCalendar keeps the personal feed tokens (hashed): a calendar of
// the service account, never shared.
const tokensCalendar = "roomcal-jetons"

// wantedCalendars lists the room calendars and the events calendar.
func wantedCalendars(cfg *config.Config) []calendarSpec {
	out := make([]calendarSpec, 0, len(cfg.Rooms)+1)
	for _, r := range cfg.Rooms {
		out = append(out, calendarSpec{What: "room " + r.ID, Path: r.Calendar, Name: r.Name})
	}
	return append(out,
		calendarSpec{What: "events", Path: cfg.EventsCalendar, Name: "Événements"},
		calendarSpec{What: "feed tokens", Path: tokensCalendar, Name: "roomcal : jetons d'abonnement (ne pas partager)"})
}

// missingCalendars lists the wanted calendars the store lacks.
func missingCalendars(ctx context.Context, store caldav.Store, want []calendarSpec) ([]calendarSpec, error) {
	cals, err := store.Calendars(ctx)
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	have := map[string]bool{}
	for _, c := range cals {
		have[c.Name] = true
	}
	var missing []calendarSpec
	for _, c := range want {
		if !have[c.Path] {
			missing = append(missing, c)
		}
	}
	return missing, nil
}

// createCalendars makes the missing calendars; an ErrExists (created
// meanwhile by someone else) is not a failure.
func createCalendars(ctx context.Context, store caldav.Store, cals []calendarSpec, report func(calendarSpec, error)) error {
	var errs []error
	for _, c := range cals {
		err := store.CreateCalendar(ctx, c.Path, c.Name)
		if errors.Is(err, caldav.ErrExists) {
			err = nil
		}
		report(c, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.What, err))
		}
	}
	return errors.Join(errs...)
}

// eventZone gives the time zone of events: their room's site's, or, for
// an event not held in a room, the first site's (the organisation's).
func eventZone(cat *booking.Catalog) func(room string) *time.Location {
	return func(room string) *time.Location {
		if loc := cat.Zone(room); loc != nil {
			return loc
		}
		if sites := cat.Sites(); len(sites) > 0 && sites[0].Location != nil {
			return sites[0].Location
		}
		return time.UTC
	}
}
