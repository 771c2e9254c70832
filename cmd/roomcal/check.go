package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/roomcal/roomcal/internal/config"
)

// check validates the configuration (already done by Load) and reaches
// CalDAV and Redis, printing each finding in plain words.
func check(ctx context.Context, cfg *config.Config, out io.Writer) error {
	ok := true
	say := func(good bool, format string, args ...any) {
		mark := "ok  "
		if !good {
			mark = "FAIL"
			ok = false
		}
		fmt.Fprintf(out, "%s %s\n", mark, fmt.Sprintf(format, args...))
	}
	src := cfg.Source
	if cfg.Demo {
		src = "the built-in demo (no roomcal.yaml found)"
	}
	say(true, "configuration from %s: %d sites, %d rooms", src, len(cfg.Sites), len(cfg.Rooms))

	d, err := open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		say(false, "%v", err)
		return errReported
	}
	defer d.close()

	where := cfg.CalDAV.URL
	if cfg.CalDAV.Embedded() {
		where = "embedded store in " + cfg.DataDir
	}
	cctx, cancel := timeout(ctx)
	err = d.store.Ping(cctx)
	cancel()
	if err != nil {
		say(false, "calendar server %s does not answer: %v", where, err)
	} else {
		say(true, "calendar server %s answers", where)
		cctx, cancel := timeout(ctx)
		missing, err := missingCalendars(cctx, d.store, wantedCalendars(cfg))
		cancel()
		switch {
		case err != nil:
			say(false, "cannot list the calendars: %v", err)
		case len(missing) == 0:
			say(true, "every room has its calendar, and so do events and feed tokens")
		default:
			for _, c := range missing {
				say(false, "%s (%s) has no calendar %q: run `roomcal rooms sync`", c.What, c.Name, c.Path)
			}
		}
	}

	if cfg.RedisURL == "" {
		say(true, "Redis: embedded engine, the same Lua scripts in process (one instance only; set ROOMCAL_REDIS_URL for several)")
	} else {
		checkRedis(ctx, d, say)
	}
	if !ok {
		return errReported
	}
	return nil
}

// syncRooms creates the room calendars missing on the server.
func syncRooms(ctx context.Context, cfg *config.Config, out io.Writer) error {
	d, err := open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer d.close()
	cctx, cancel := timeout(ctx)
	defer cancel()
	missing, err := missingCalendars(cctx, d.store, wantedCalendars(cfg))
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		fmt.Fprintf(out, "every room already has its calendar (%d rooms), and so do events and feed tokens\n", len(cfg.Rooms))
		return nil
	}
	return createCalendars(cctx, d.store, missing, func(c calendarSpec, err error) {
		if err != nil {
			fmt.Fprintf(out, "FAIL %s: could not create calendar %q: %v\n", c.What, c.Path, err)
			return
		}
		fmt.Fprintf(out, "created calendar %q for %s (%s)\n", c.Path, c.What, c.Name)
	})
}
