package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/mail"
	"github.com/roomcal/roomcal/internal/notices"
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
	checkMail(ctx, cfg, say)
	if !ok {
		return errReported
	}
	return nil
}

// checkMail says whether notices can go out: the SMTP server greets
// (and takes the credentials), or mail is off.
func checkMail(ctx context.Context, cfg *config.Config, say func(bool, string, ...any)) {
	if !cfg.SMTP.Enabled() {
		say(true, "mail: no ROOMCAL_SMTP_URL, no notices are sent")
		return
	}
	s, err := mail.New(cfg.SMTP, cfg.MailFrom)
	if err != nil {
		say(false, "mail: %v", err)
		return
	}
	cctx, cancel := timeout(ctx)
	defer cancel()
	if err := s.Ping(cctx); err != nil {
		say(false, "mail: %v", err)
		return
	}
	say(true, "mail: SMTP server %s answers; notices go out as %s", cfg.SMTP, cfg.MailFrom)
}

// mailTest sends a test message to address.
func mailTest(ctx context.Context, cfg *config.Config, address string, out io.Writer) error {
	if !cfg.SMTP.Enabled() {
		return errors.New("no SMTP server: set ROOMCAL_SMTP_URL and ROOMCAL_MAIL_FROM")
	}
	s, err := mail.New(cfg.SMTP, cfg.MailFrom)
	if err != nil {
		return err
	}
	cctx, cancel := timeout(ctx)
	defer cancel()
	err = s.Send(cctx, notices.Message{
		To:      address,
		Subject: "roomcal : message d'essai / test message",
		Text: "Ce message d'essai montre que roomcal peut envoyer des avis.\n" +
			"This test message shows that roomcal can send notices.\n",
		Lang: "fr",
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sent a test message to %s through %s\n", address, cfg.SMTP)
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
