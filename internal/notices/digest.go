package notices

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// sendDigests sends each member whose notices were held back by the
// daily cap (events', bookings', reminders') one message listing them,
// with every invitation attached, then marks each told. A member whose
// digest fails keeps the notices for the next attempt.
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
			for k, d := range items {
				if _, newer := w.deferred[member][k]; !newer {
					w.deferred[member][k] = d
				}
			}
			if at := w.opt.Now().Add(w.opt.Backoff); w.digestAt.IsZero() || at.Before(w.digestAt) {
				w.digestAt = at
			}
			w.mu.Unlock()
		}
	}
}

// digest sends one member's digest: the notices still owed as they were
// held back (the others are looked at anew).
func (w *Worker) digest(ctx context.Context, member string, items map[string]deferredNotice) error {
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var bodies []Body
	var atts []Attachment
	var in []deferredNotice
	again := func(ds []deferredNotice) {
		for _, d := range ds {
			if d.again != nil {
				d.again()
			}
		}
	}
	for _, k := range keys {
		d := items[k]
		owed, err := d.owed(ctx)
		if err != nil {
			return err
		}
		if !owed {
			again([]deferredNotice{d})
			continue
		}
		bodies = append(bodies, d.body)
		if len(d.msg.Calendar) > 0 {
			atts = append(atts, Attachment{Name: d.file + ".ics", ContentType: "application/ics", Data: d.msg.Calendar})
		}
		in = append(in, d)
	}
	if len(in) == 0 {
		return nil
	}
	first := in[0]
	day := w.opt.Now().In(w.opt.Zone).Format("2006-01-02")
	claim := candidate{claim: "notice-digest:" + member + ":" + day}
	ok, err := w.opt.Claims.Claim(ctx, claim.claim, claimTTL)
	if err != nil {
		return err
	}
	if !ok {
		again(in) // another replica sends its digest: what it leaves is looked at anew
		return nil
	}
	var marks []string
	for _, d := range in {
		marks = append(marks, d.msg.MessageID)
	}
	// A digest mixes kinds: its "stop" link is the member's notice
	// settings, where each kind is turned off.
	settings := w.link("/mes-reservations#notices")
	subject, text, html := digest(bodies, first.body.Lang, first.body.Name, settings)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = w.opt.Mailer.Send(sctx, Message{
		To: first.msg.To, Subject: subject, Text: text, HTML: html, Attachments: atts,
		MessageID: w.messageID("digest", day, member, fmt.Sprint(marks)), Date: w.opt.Now(), Lang: lang(first.body.Lang),
		Settings: settings,
	})
	if err != nil {
		w.release(ctx, claim)
		return err
	}
	w.sent.Add(1)
	w.digests.Add(1)
	w.log.InfoContext(ctx, "notice digest sent", "member", member, "notices", len(in))
	for _, d := range in {
		if err := d.told(ctx); err != nil {
			w.log.WarnContext(ctx, "notices: told mark of a digest's notice not written", "member", member, "err", err)
		}
	}
	w.release(ctx, claim) // told: a later digest of the day finds them so
	return nil
}
