package notices

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/roomcal/roomcal/events"
)

// sendDigests sends each member whose notices were held back by the
// daily cap one message listing them, with every invitation attached,
// then writes their Told marks. A member whose digest fails keeps the
// notices for the next attempt.
func (w *Worker) sendDigests(ctx context.Context) {
	w.mu.Lock()
	todo := w.deferred
	w.deferred = map[string]map[string]deferredNotice{}
	w.digestAt = time.Time{}
	w.mu.Unlock()
	for member, items := range todo {
		if err := w.digest(ctx, member, items); err != nil {
			w.failed.Add(1)
			w.log.WarnContext(ctx, "notices: digest not sent; tried again", "member", member, "err", err)
			w.mu.Lock()
			if w.deferred[member] == nil {
				w.deferred[member] = map[string]deferredNotice{}
			}
			for id, d := range items {
				if _, newer := w.deferred[member][id]; !newer {
					w.deferred[member][id] = d
				}
			}
			if at := w.opt.Now().Add(w.opt.Backoff); w.digestAt.IsZero() || at.Before(w.digestAt) {
				w.digestAt = at
			}
			w.mu.Unlock()
		}
	}
}

// digest sends one member's digest.
func (w *Worker) digest(ctx context.Context, member string, items map[string]deferredNotice) error {
	ids := make([]string, 0, len(items))
	for id := range items {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var bodies []Body
	var atts []Attachment
	var name, email, lng string
	marks := map[string]string{}
	for _, id := range ids {
		d := items[id]
		rec, err := w.opt.Events.Record(ctx, id)
		if err != nil {
			continue // gone or unreadable: the next look at the event decides
		}
		var reg *events.Registration
		for i, r := range rec.Registrations {
			if r.Member == member {
				reg = &rec.Registrations[i]
			}
		}
		// Still owed, and about the same state; else the event's next
		// look decides again.
		if reg == nil || reg.Told != d.before || events.Mark(*reg, rec.Event) != d.mark {
			w.schedule(id, w.opt.Now())
			continue
		}
		if lng == "" {
			lng = "fr"
			if w.opt.Preferences != nil {
				if p, err := w.opt.Preferences.Preferences(ctx, member); err == nil && p.Lang != "" {
					lng = p.Lang
				}
			}
		}
		c := candidate{reg: *reg, kind: d.kind, mark: d.mark, lang: lng, before: d.before}
		name, email = reg.Name, reg.Email
		bodies = append(bodies, w.body(rec, c))
		method := "REQUEST"
		if d.kind == KindEventCancelled {
			method = "CANCEL"
		}
		ics, err := w.opt.Invitations.Invitation(method, w.entry(rec, c))
		if err != nil {
			return fmt.Errorf("invitation for event %s: %w", id, err)
		}
		atts = append(atts, Attachment{Name: id + ".ics", ContentType: "application/ics", Data: ics})
		marks[id] = d.mark
	}
	if len(bodies) == 0 {
		return nil
	}
	day := w.opt.Now().In(w.opt.Zone).Format("2006-01-02")
	claim := candidate{claim: "notice-digest:" + member + ":" + day + ":" + fmt.Sprint(len(bodies))}
	ok, err := w.opt.Claims.Claim(ctx, claim.claim, claimTTL)
	if err != nil {
		return err
	}
	if !ok {
		return nil // another replica sends it
	}
	subject, text, html := digest(bodies, lng, name, "")
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = w.opt.Mailer.Send(sctx, Message{
		To: address(name, email), Subject: subject, Text: text, HTML: html, Attachments: atts,
		MessageID: w.messageID("digest", day, member, fmt.Sprint(marks)), Date: w.opt.Now(), Lang: lang(lng),
	})
	if err != nil {
		w.release(ctx, claim)
		return err
	}
	w.sent.Add(1)
	w.digests.Add(1)
	for id, mark := range marks {
		w.writeTold(ctx, id, map[string]string{member: mark})
	}
	return nil
}
