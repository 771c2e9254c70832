package notices

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// What one message says, in the member's language.

var (
	frDays   = []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths = []string{"", "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

// When writes a start time as members read it: "lundi 14 décembre,
// 17:00" or "Monday 14 December, 17:00".
func When(t time.Time, lang string) string {
	if lang == "en" {
		return t.Format("Monday 2 January, 15:04")
	}
	return fmt.Sprintf("%s %d %s, %s", frDays[t.Weekday()], t.Day(), frMonths[t.Month()], t.Format("15:04"))
}

// span writes start and end: "lundi 14 décembre, 17:00 – 19:00".
func span(start, end time.Time, lang string) string {
	s := When(start, lang)
	if y1, m1, d1 := start.Date(); true {
		if y2, m2, d2 := end.Date(); y1 == y2 && m1 == m2 && d1 == d2 {
			return s + " – " + end.Format("15:04")
		}
	}
	return s + " – " + When(end, lang)
}

// texts of one kind: subject (with %s for "title, when"), first line.
type texts struct{ subject, lead string }

var kindTexts = map[string]map[string]texts{
	"fr": {
		KindPromoted:       {"Une place s'est libérée : %s", "Une place s'est libérée : vous êtes inscrit·e, votre place est confirmée."},
		KindEventChanged:   {"Événement modifié : %s", "L'événement auquel vous êtes inscrit·e a changé d'heure ou de lieu."},
		KindEventCancelled: {"Événement annulé : %s", "L'événement auquel vous étiez inscrit·e est annulé."},
		"confirmation_c":   {"Inscription confirmée : %s", "Votre inscription est confirmée."},
		"confirmation_w":   {"Sur liste d'attente : %s", "Vous êtes sur la liste d'attente ; nous vous écrirons si une place se libère."},
		KindBookingRemoved: {"Réservation supprimée : %s", "Votre réservation a été supprimée par quelqu'un d'autre (un·e administrateur·rice, ou directement dans l'agenda)."},
		kindAccepted:       {"Demande acceptée : %s", "Votre demande de réservation est acceptée : la salle est à vous."},
		kindRefused:        {"Demande refusée : %s", "Votre demande de réservation a été refusée ; le créneau est libéré."},
		kindLapsed:         {"Demande expirée : %s", "Personne n'a répondu à temps à votre demande de réservation : elle est annulée et le créneau est libéré."},
		kindMoved:          {"Réservation modifiée : %s", "Votre réservation a été déplacée ou raccourcie par quelqu'un d'autre (un·e administrateur·rice, ou directement dans l'agenda). Voici ses horaires à présent."},
		kindReleased:       {"Réservation raccourcie : %s", "Votre présence n'a pas été confirmée à temps : la fin du créneau a été libérée pour d'autres."},
		kindConflict:       {"Conflit sur votre réservation : %s", "Quelque chose a été ajouté directement dans l'agenda de la salle au même moment que votre réservation. Votre réservation est toujours là ; les administrateur·rice·s vont régler ce conflit."},
		kindReminderB:      {"Rappel, demain : %s", "Un rappel : vous avez réservé cette salle pour demain."},
		KindBooked:         {"Réservation confirmée : %s", "Votre réservation est enregistrée : la salle est à vous."},
		kindBookedPending:  {"Demande envoyée : %s", "Votre demande de réservation est enregistrée ; les approbateur·rice·s de la salle vont y répondre."},
		kindReminderE:      {"Rappel, demain : %s", "Un rappel : vous êtes inscrit·e à cet événement demain."},
	},
	"en": {
		KindPromoted:       {"A seat is yours: %s", "A seat was freed: you are registered, your seat is confirmed."},
		KindEventChanged:   {"Event changed: %s", "The event you registered for has a new time or place."},
		KindEventCancelled: {"Event cancelled: %s", "The event you registered for is cancelled."},
		"confirmation_c":   {"Registration confirmed: %s", "Your registration is confirmed."},
		"confirmation_w":   {"On the waiting list: %s", "You are on the waiting list; we will write if a seat is freed."},
		KindBookingRemoved: {"Booking removed: %s", "Your booking was removed by someone else (an administrator, or straight in the calendar)."},
		kindAccepted:       {"Request accepted: %s", "Your booking request is accepted: the room is yours."},
		kindRefused:        {"Request refused: %s", "Your booking request was refused; the slot is free again."},
		kindLapsed:         {"Request lapsed: %s", "Nobody answered your booking request in time: it is cancelled and the slot is free again."},
		kindMoved:          {"Booking changed: %s", "Your booking was moved or shortened by someone else (an administrator, or straight in the calendar). Here are its times now."},
		kindReleased:       {"Booking shortened: %s", "Your presence was not confirmed in time: the rest of the slot was released for others."},
		kindConflict:       {"Conflict on your booking: %s", "Something was put straight in the room's calendar at the same time as your booking. Your booking is still there; the administrators will settle the conflict."},
		kindReminderB:      {"Reminder, tomorrow: %s", "A reminder: you booked this room for tomorrow."},
		KindBooked:         {"Booking confirmed: %s", "Your booking is recorded: the room is yours."},
		kindBookedPending:  {"Request sent: %s", "Your booking request is recorded; the room's approvers will answer it."},
		kindReminderE:      {"Reminder, tomorrow: %s", "A reminder: you are registered for this event tomorrow."},
	},
}

var labels = map[string]map[string]string{
	"fr": {"hello": "Bonjour %s,", "what": "Quoi", "when": "Quand", "where": "Où", "link": "Voir la page", "sign": "— roomcal, les salles et événements de la coopérative",
		"off": "Ne plus recevoir ce type d'avis", "settings": "Choisir les avis que je reçois", "note": "Motif", "note_conflict": "L'autre réservation", "status_c": "Votre place : confirmée", "status_w": "Votre place : liste d'attente",
		"digest": "Vos avis du jour (%d)", "digest_lead": "Voici les changements de la journée, réunis en un message. Les invitations sont jointes."},
	"en": {"hello": "Hello %s,", "what": "What", "when": "When", "where": "Where", "link": "See the page", "sign": "— roomcal, the cooperative's rooms and events",
		"off": "Stop this kind of notice", "settings": "Choose which notices I get", "note": "Reason", "note_conflict": "The other booking", "status_c": "Your seat: confirmed", "status_w": "Your seat: waiting list",
		"digest": "Your notices of the day (%d)", "digest_lead": "Here are the day's changes, gathered in one message. The invitations are attached."},
}

func lang(l string) string {
	if l == "en" {
		return "en"
	}
	return "fr"
}

// Body is what compose needs of one notice.
type Body struct {
	Kind      string // a Kind; confirmation is told apart by Confirmed
	Lang      string
	Name      string // the member's name ("" for none)
	Title     string
	Start     time.Time
	End       time.Time
	Where     string // "Salle Loire, Nantes" or the event's location
	Confirmed bool   // the member's seat is confirmed (else waiting)
	URL       string // the page
	Off       string // the link that turns the kind off
	// Note is a refusal's reason, or the time of what a conflict is with.
	Note string
}

// The kinds of booking messages (booking.NoticeKind values, and the
// reminders).
const (
	kindAccepted  = string(booking.NoticeAccepted)
	kindRefused   = string(booking.NoticeRefused)
	kindLapsed    = string(booking.NoticeLapsed)
	kindMoved     = string(booking.NoticeMoved)
	kindReleased  = string(booking.NoticeReleased)
	kindConflict  = string(booking.NoticeConflict)
	kindReminderB = "reminder_booking"
	kindReminderE = "reminder_event"
	// kindBookedPending: KindBooked of a request (approvers answer it).
	kindBookedPending = "booked_pending"
)

func (b Body) texts() texts {
	k := b.Kind
	if k == KindConfirmation {
		k = "confirmation_w"
		if b.Confirmed {
			k = "confirmation_c"
		}
	}
	return kindTexts[lang(b.Lang)][k]
}

// Subject says it all: "Une place s'est libérée : Assemblée générale,
// lundi 14 décembre, 17:00".
func (b Body) Subject() string {
	return fmt.Sprintf(b.texts().subject, b.Title+", "+When(b.Start, lang(b.Lang)))
}

// lines are the facts of the notice, label and value.
func (b Body) lines() [][2]string {
	l := labels[lang(b.Lang)]
	out := [][2]string{{l["what"], b.Title}, {l["when"], span(b.Start, b.End, lang(b.Lang))}}
	if b.Where != "" {
		out = append(out, [2]string{l["where"], b.Where})
	}
	if b.Note != "" {
		label := l["note"]
		if b.Kind == kindConflict {
			label = l["note_conflict"]
		}
		out = append(out, [2]string{label, b.Note})
	}
	return out
}

func (b Body) status() string {
	switch b.Kind {
	case KindPromoted, KindEventChanged, KindConfirmation, kindReminderE:
	default:
		return ""
	}
	if b.Confirmed {
		return labels[lang(b.Lang)]["status_c"]
	}
	return labels[lang(b.Lang)]["status_w"]
}

// Text is the plain-text body.
func (b Body) Text() string {
	l := labels[lang(b.Lang)]
	var w strings.Builder
	if b.Name != "" {
		fmt.Fprintf(&w, l["hello"]+"\n\n", b.Name)
	}
	w.WriteString(b.texts().lead + "\n\n")
	for _, kv := range b.lines() {
		fmt.Fprintf(&w, "%s : %s\n", kv[0], kv[1])
	}
	if s := b.status(); s != "" {
		w.WriteString(s + "\n")
	}
	if b.URL != "" {
		fmt.Fprintf(&w, "\n%s : %s\n", l["link"], b.URL)
	}
	w.WriteString("\n" + l["sign"] + "\n")
	if b.Off != "" {
		fmt.Fprintf(&w, "%s : %s\n", l["off"], b.Off)
	}
	return w.String()
}

var htmlBody = template.Must(template.New("notice").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a; max-width: 36em">
{{if .Hello}}<p>{{.Hello}}</p>{{end}}
<p><strong>{{.Lead}}</strong></p>
<table role="presentation" style="border-collapse: collapse">
{{range .Lines}}<tr><th scope="row" style="text-align: left; padding: 2px 12px 2px 0">{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
{{if .Status}}<p>{{.Status}}</p>{{end}}
{{if .URL}}<p><a href="{{.URL}}" style="display: inline-block; padding: 8px 16px; background: #0b5394; color: #fff; text-decoration: none; border-radius: 4px">{{.LinkText}}</a></p>{{end}}
<p style="color: #555">{{.Sign}}</p>
{{if .Off}}<p style="font-size: 13px"><a href="{{.Off}}">{{.OffText}}</a></p>{{end}}
</body></html>
`))

// HTML is the HTML body.
func (b Body) HTML() string {
	l := labels[lang(b.Lang)]
	hello := ""
	if b.Name != "" {
		hello = fmt.Sprintf(l["hello"], b.Name)
	}
	var w bytes.Buffer
	err := htmlBody.Execute(&w, map[string]any{
		"Lang": lang(b.Lang), "Subject": b.Subject(), "Hello": hello, "Lead": b.texts().lead, "Lines": b.lines(),
		"Status": b.status(), "URL": b.URL, "LinkText": l["link"], "Sign": l["sign"], "Off": b.Off, "OffText": l["off"],
	})
	if err != nil {
		// The template is fixed and its data plain strings.
		panic(err)
	}
	return w.String()
}

// digest writes the daily digest of several notices.
func digest(items []Body, lng, name, settings string) (subject, text, html string) {
	lng = lang(lng)
	l := labels[lng]
	subject = fmt.Sprintf(l["digest"], len(items))
	var tw strings.Builder
	var hw bytes.Buffer
	if name != "" {
		fmt.Fprintf(&tw, l["hello"]+"\n\n", name)
	}
	tw.WriteString(l["digest_lead"] + "\n")
	hw.WriteString(`<!doctype html><html lang="` + lng + `"><head><meta charset="utf-8"><title>` + template.HTMLEscapeString(subject) + `</title></head><body style="font-family: sans-serif; font-size: 16px; line-height: 1.5; max-width: 36em">`)
	if name != "" {
		hw.WriteString("<p>" + template.HTMLEscapeString(fmt.Sprintf(l["hello"], name)) + "</p>")
	}
	hw.WriteString("<p>" + template.HTMLEscapeString(l["digest_lead"]) + "</p><ul>")
	for _, b := range items {
		fmt.Fprintf(&tw, "\n• %s\n", b.Subject())
		for _, kv := range b.lines()[1:] {
			fmt.Fprintf(&tw, "  %s : %s\n", kv[0], kv[1])
		}
		if b.URL != "" {
			fmt.Fprintf(&tw, "  %s\n", b.URL)
		}
		hw.WriteString("<li><strong>" + template.HTMLEscapeString(b.Subject()) + "</strong>")
		if b.Where != "" {
			hw.WriteString("<br>" + template.HTMLEscapeString(b.Where))
		}
		if b.URL != "" {
			hw.WriteString(`<br><a href="` + template.HTMLEscapeString(b.URL) + `">` + template.HTMLEscapeString(l["link"]) + "</a>")
		}
		hw.WriteString("</li>")
	}
	tw.WriteString("\n" + l["sign"] + "\n")
	hw.WriteString("</ul><p style=\"color: #555\">" + template.HTMLEscapeString(l["sign"]) + "</p>")
	if settings != "" {
		fmt.Fprintf(&tw, "%s : %s\n", l["settings"], settings)
		hw.WriteString(`<p style="font-size: 13px"><a href="` + template.HTMLEscapeString(settings) + `">` + template.HTMLEscapeString(l["settings"]) + "</a></p>")
	}
	hw.WriteString("</body></html>")
	return subject, tw.String(), hw.String()
}
