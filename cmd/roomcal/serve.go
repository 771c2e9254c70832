package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/notices"
	"github.com/roomcal/roomcal/web"
)

// shutdownGrace is how long in-flight requests get to finish on SIGTERM.
const shutdownGrace = 20 * time.Second

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	log.Info("starting roomcal", "config", cfg)
	if cfg.Auth.Mode == config.AuthDev && !cfg.CalDAV.Embedded() && !cfg.Auth.DevForce {
		return errors.New("ROOMCAL_AUTH_MODE=dev lets anyone say who they are: it is refused with a real CalDAV server " +
			"(ROOMCAL_CALDAV_URL). Use header or oidc, or set ROOMCAL_AUTH_DEV_FORCE=true for a trial")
	}
	d, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.close()

	sctx, cancel := timeout(ctx)
	missing, err := missingCalendars(sctx, d.store, wantedCalendars(cfg))
	cancel()
	switch {
	case err != nil:
		log.Warn("cannot list calendars yet; the service starts and /readyz reports it", "err", err)
	case len(missing) > 0 && cfg.CalDAV.Embedded():
		sctx, cancel := timeout(ctx)
		err = createCalendars(sctx, d.store, missing, func(c calendarSpec, err error) {
			if err == nil {
				log.Info("created calendar in the embedded store", "for", c.What, "calendar", c.Path)
			}
		})
		cancel()
		if err != nil {
			return err
		}
	case len(missing) > 0:
		for _, c := range missing {
			log.Warn("calendar missing on the CalDAV server: run `roomcal rooms sync`", "for", c.What, "calendar", c.Path)
		}
	}

	if !cfg.SMTP.Enabled() {
		log.Info("no ROOMCAL_SMTP_URL: no notices are sent by e-mail")
	}

	cat, err := booking.NewCatalog(cfg.Sites, cfg.Rooms)
	if err == nil {
		d.sites.cat.Store(cat)
	}
	if err != nil {
		return err
	}
	// Rooms edited in the admin pages: their records, in their
	// calendars, win over roomcal.yaml (the seed).
	admin, err := booking.NewRoomAdmin(booking.AdminOptions{
		Catalog: cat, Store: caldav.NewRoomSettingsStore(d.store, log, cfg.EventsCalendar, tokensCalendar),
		Gate: d.gate, Notices: d.notices, Logger: log, RefreshInterval: cfg.SyncInterval,
	})
	if err != nil {
		return err
	}
	lctx, cancel := timeout(ctx)
	if err := admin.Load(lctx); err != nil {
		log.Warn("cannot read the rooms' settings yet; roomcal.yaml's are used until the next pass", "err", err)
	}
	cancel()
	cals := caldav.NewRoomCalendars(d.store, log)
	hints := &noticeHints{}
	outbox := caldav.NewNoticeOutbox(d.store, tokensCalendar)
	// With mail, each room's bookings to come and the events to come
	// with their registrants are kept in the tokens calendar, so that a
	// deletion straight in the calendar is told even after a Redis
	// flush.
	var index booking.BookingIndex
	var roster events.Roster
	if cfg.SMTP.Enabled() {
		index = caldav.NewBookingIndex(d.store, tokensCalendar)
		roster = caldav.NewEventRoster(d.store, tokensCalendar)
	}
	svc, err := booking.NewService(booking.Options{
		Catalog: cat, Calendar: cals, Gate: d.gate, Recurrence: cals, Importer: caldav.NewRoomImports(d.store),
		Logger: log, SyncInterval: cfg.SyncInterval, Removed: hints.removed(outbox),
		Notifier: bookingNotifier{hints: hints, outbox: outbox}, Index: index,
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	// Retiring a room checks, or cancels, its bookings ahead.
	admin.SetBookings(svc)
	evs, err := events.NewService(events.Options{
		Calendar: caldav.NewEventCalendar(d.store, cfg.EventsCalendar, eventZone(cat), log),
		Gate:     d.events, Rooms: svc, Logger: log, SyncInterval: cfg.SyncInterval, Zone: eventZone(cat),
		Changed: hints.hint, Deleted: hints.deletedEvent(outbox), Roster: roster,
	})
	if err != nil {
		return err
	}
	defer evs.Close()
	var oidcClient *api.OIDCClient
	if cfg.Auth.Mode == config.AuthOIDC {
		// Discovery is tried now, within its timeout; an issuer that
		// does not answer is logged and retried at the first sign-in
		// (api/oidc.go), so that a provider outage does not stop roomcal.
		oidcClient, err = api.NewOIDCClient(ctx, api.OIDCConfig{
			Issuer: cfg.Auth.OIDC.Issuer, ClientID: cfg.Auth.OIDC.ClientID,
			ClientSecret: cfg.Auth.OIDC.ClientSecret.Reveal(), GroupsClaim: cfg.Auth.OIDC.GroupsClaim,
			PublicURL: cfg.PublicURL, Logger: log,
		})
		if err != nil {
			return err
		}
	}
	prefs := lockedPreferences{PreferencesStore: caldav.NewMemberPreferences(d.store, tokensCalendar), gate: d.gate}
	links := api.NewNoticeLinks(cfg.PublicURL, linkKey(cfg, log))
	mailer, err := noticeMailer(cfg)
	if err != nil {
		return err
	}
	var worker *notices.Worker
	var noticeStats api.NoticeStats
	if mailer != nil {
		worker, err = newNoticeWorker(noticeSetup{
			mailer: mailer, outbox: outbox, bookings: svc, upcoming: svc, eventList: evs, claims: d.claims, events: evs, prefs: prefs, cat: cat, links: links,
			publicURL: cfg.PublicURL, from: cfg.MailFrom, dailyCap: cfg.NoticeDailyCap, log: log,
		})
		if err != nil {
			return err
		}
		hints.w.Store(worker)
		noticeStats = worker
		log.Info("notices are sent by e-mail", "smtp", cfg.SMTP.String(), "from", cfg.MailFrom, "daily_cap", cfg.NoticeDailyCap)
	}
	handler := api.New(api.Options{
		Logger: log, Catalog: cat, Bookings: svc, Events: evs,
		Feeds: caldav.FeedEncoder{}, FeedTokens: lockedFeedTokens{FeedTokens: caldav.NewFeedTokens(d.store, tokensCalendar), gate: d.gate}, PublicURL: cfg.PublicURL,
		Preferences: prefs, SignOuts: signOuts{prefs: prefs, cache: d.signOuts},
		NoticeLinks: links, Notices: noticeStats, Booked: hints.booked(outbox, prefs, log),
		AuthMode: string(cfg.Auth.Mode), TrustedProxies: cfg.Auth.TrustedProxies, OIDC: oidcClient,
		SessionKey:    []byte(cfg.Auth.SessionKey.Reveal()),
		SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"),
		Limiter:       d.limiter,
		RateLimit:     cfg.RateLimit.N, RatePer: cfg.RateLimit.Per,
		Ready:     []api.Check{{Name: "caldav", Ping: d.store.Ping}, {Name: "redis", Ping: d.pingGate}},
		Pages:     web.New(web.Options{Logger: log, Catalog: cat, Preferences: prefs, HelpImages: cfg.HelpImages}),
		RoomAdmin: admin,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	var wg sync.WaitGroup
	syncCtx, stopSync := context.WithCancel(context.WithoutCancel(ctx))
	wg.Add(3)
	go func() {
		defer wg.Done()
		svc.RunSync(syncCtx)
	}()
	if worker != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker.Run(syncCtx)
		}()
	}
	go func() {
		defer wg.Done()
		admin.RunRefresh(syncCtx)
	}()
	go func() {
		defer wg.Done()
		evs.RunSync(syncCtx)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("roomcal is listening", "url", "http://"+ln.Addr().String(), "auth", cfg.Auth.Mode,
		"calendars", map[bool]string{true: "embedded in " + cfg.DataDir, false: cfg.CalDAV.URL}[cfg.CalDAV.Embedded()],
		"redis", redisSummary(ctx, cfg, d))

	select {
	case err := <-errc:
		stopSync()
		wg.Wait()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "grace", shutdownGrace)
	shctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(shctx)
	stopSync()
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
