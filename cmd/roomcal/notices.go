package main

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/mail"
	"github.com/roomcal/roomcal/internal/notices"
)

// noticeHints forwards the events service's writes to the notices
// worker, which is made after the service (it reads through it).
type noticeHints struct {
	w atomic.Pointer[notices.Worker]
}

func (h *noticeHints) hint(id string) {
	if w := h.w.Load(); w != nil {
		w.Hint(id)
	}
}

// removed records a booking removal in the outbox (before the booking
// service forgets it) and wakes the worker; nothing without mail.
func (h *noticeHints) removed(outbox notices.Outbox) func(context.Context, booking.Removal) error {
	return func(ctx context.Context, r booking.Removal) error {
		return h.record(ctx, outbox, notices.FromRemoval(r))
	}
}

func (h *noticeHints) record(ctx context.Context, outbox notices.Outbox, n notices.BookingNotice) error {
	w := h.w.Load()
	if w == nil {
		return nil
	}
	if err := outbox.Put(ctx, n); err != nil {
		return err
	}
	w.HintOutbox()
	return nil
}

// booked records the confirmation of a booking its owner just made in
// the outbox, if they turned confirmations on, and wakes the worker;
// nothing without mail. It runs after the answer (api.Options.Booked):
// a crash in the instant between the answer and this write loses the
// confirmation (it is opt-in, and the booking itself is safe).
func (h *noticeHints) booked(outbox notices.Outbox, prefs booking.PreferencesStore, log *slog.Logger) func(context.Context, booking.Booking) {
	return func(ctx context.Context, b booking.Booking) {
		if h.w.Load() == nil || prefs == nil || b.Organizer.ID == "" {
			return
		}
		p, err := prefs.Preferences(ctx, b.Organizer.ID)
		if err == nil && !p.Notice(notices.KindConfirmation, notices.Default(notices.KindConfirmation)) {
			return
		}
		if err == nil {
			err = h.record(ctx, outbox, notices.FromBooked(b, time.Now()))
		}
		if err != nil {
			log.WarnContext(ctx, "notices: the confirmation of a booking is not recorded", "booking", b.ID, "err", err)
		}
	}
}

// deletedEvent records, for each registrant of an event deleted straight
// in the calendar, a notice in the outbox (before the events service
// forgets the registrations) and wakes the worker; nothing without mail.
func (h *noticeHints) deletedEvent(outbox notices.Outbox) func(context.Context, events.Event, []events.Registration) error {
	return func(ctx context.Context, ev events.Event, regs []events.Registration) error {
		for _, r := range regs {
			if err := h.record(ctx, outbox, notices.FromDeletedEvent(ev, r)); err != nil {
				return err
			}
		}
		return nil
	}
}

// bookingNotifier records what the booking service is about to do to a
// member's booking without them (an approver's answer, a lapse, a
// no-show release, an admin's move, a move or a conflict found by a
// sync pass) in the outbox, before the change is written: the worker
// tells the owner once the record bears it out. Nothing without mail.
type bookingNotifier struct {
	hints  *noticeHints
	outbox notices.Outbox
}

var _ booking.Notifier = bookingNotifier{}

func (b bookingNotifier) BookingNotice(ctx context.Context, n booking.Notice) error {
	return b.hints.record(ctx, b.outbox, notices.FromBooking(n))
}

// catalogPlaces names rooms and sites for messages.
type catalogPlaces struct{ cat *booking.Catalog }

func (p catalogPlaces) Place(room string) (string, string) {
	r, err := p.cat.Room(room)
	if err != nil {
		return "", ""
	}
	s, err := p.cat.Site(r.SiteID)
	if err != nil {
		return r.Name, ""
	}
	return r.Name, s.Name
}

// noticeSetup is what a notices worker is made of.
type noticeSetup struct {
	mailer    notices.Mailer
	outbox    notices.Outbox
	bookings  notices.Bookings
	upcoming  notices.Upcoming
	eventList notices.EventList
	claims    notices.Claims
	events    notices.Events
	prefs     booking.PreferencesStore
	cat       *booking.Catalog
	links     *api.NoticeLinks
	publicURL string
	from      string
	dailyCap  int
	log       *slog.Logger
	// For tests: shorter waits (zero: the defaults).
	window, sweep, backoff time.Duration
	digestAt               func(time.Time) time.Time
	remindAt               func(time.Time) time.Time
	retention, pruneEvery  time.Duration
}

func newNoticeWorker(s noticeSetup) (*notices.Worker, error) {
	zone := time.UTC
	if sites := s.cat.Sites(); len(sites) > 0 && sites[0].Location != nil {
		zone = sites[0].Location
	}
	var unsub func(member, kind string) string
	if s.links != nil {
		unsub = s.links.Link
	}
	// The outbox also keeps the messages sent a day (the daily cap's
	// record, rebuilt from it after a flush).
	sent, _ := s.outbox.(notices.SentLog)
	return notices.New(notices.Options{
		Events: s.events, Mailer: s.mailer, Claims: s.claims, Invitations: caldav.IMIP{},
		Preferences: s.prefs, Places: catalogPlaces{s.cat}, PublicURL: s.publicURL, From: s.from,
		Unsubscribe: unsub, DailyCap: s.dailyCap, Sent: sent, Zone: zone, Logger: s.log,
		Outbox: s.outbox, Bookings: s.bookings, RoomZone: s.cat.Zone,
		Upcoming: s.upcoming, EventList: s.eventList, RemindAt: s.remindAt,
		Retention: s.retention, PruneEvery: s.pruneEvery,
		Window: s.window, Sweep: s.sweep, Backoff: s.backoff, DigestAt: s.digestAt,
	})
}

// noticeMailer is the SMTP sender of the configuration (nil when mail is
// off).
func noticeMailer(cfg *config.Config) (*mail.Sender, error) {
	if !cfg.SMTP.Enabled() {
		return nil, nil
	}
	return mail.New(cfg.SMTP, cfg.MailFrom)
}

// linkKey is the key unsubscribe links are signed with: derived from the
// session key, which every replica shares; without one (dev mode), a
// key of this process (links stop working after a restart).
func linkKey(cfg *config.Config, log *slog.Logger) []byte {
	if k := cfg.Auth.SessionKey.Reveal(); k != "" {
		return []byte(k)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	if cfg.SMTP.Enabled() {
		log.Warn("no ROOMCAL_SESSION_KEY: the unsubscribe links of notices work only until this process stops, and on no other replica")
	}
	return b
}
