package notices

import (
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/events"
)

func TestClassify(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 14, 17, 0, 0, 0, paris)
	ev := events.Event{ID: "ev_1", Start: start, End: start.Add(2 * time.Hour), Location: "Hangar"}
	moved := ev
	moved.Start, moved.End = ev.Start.Add(time.Hour), ev.End.Add(time.Hour)
	cancelled := ev
	cancelled.Settings.Cancelled = true
	conf := events.Registration{Member: "m", Status: events.Confirmed}
	wait := events.Registration{Member: "m", Status: events.Waitlisted}
	mark := events.Mark
	tests := []struct {
		name      string
		told, cur string
		kind      string
		baseline  bool
	}{
		{"nothing changed", mark(conf, ev), mark(conf, ev), "", false},
		{"predates notices", "", mark(conf, ev), "", true},
		{"unreadable", "zz", mark(conf, ev), "", true},
		{"new, nothing since: a confirmation (opt-in)", events.NewPrefix + mark(conf, ev), mark(conf, ev), KindConfirmation, false},
		{"new on the list, then promoted", events.NewPrefix + mark(wait, ev), mark(conf, ev), KindPromoted, false},
		{"promoted", mark(wait, ev), mark(conf, ev), KindPromoted, false},
		{"promoted and moved: one promotion", mark(wait, ev), mark(conf, moved), KindPromoted, false},
		{"moved", mark(conf, ev), mark(conf, moved), KindEventChanged, false},
		{"moved while waiting", mark(wait, ev), mark(wait, moved), KindEventChanged, false},
		{"cancelled", mark(conf, ev), mark(conf, cancelled), KindEventCancelled, false},
		{"cancelled while waiting", mark(wait, ev), mark(wait, cancelled), KindEventCancelled, false},
		{"new, then cancelled", events.NewPrefix + mark(conf, ev), mark(conf, cancelled), KindEventCancelled, false},
		{"told of the cancellation already", mark(conf, cancelled), mark(wait, cancelled), "", true},
		{"confirmed back to waiting", mark(conf, ev), mark(wait, ev), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, baseline := classify(tt.told, tt.cur)
			if kind != tt.kind || baseline != tt.baseline {
				t.Errorf("classify(%q, %q) = %q, %v; want %q, %v", tt.told, tt.cur, kind, baseline, tt.kind, tt.baseline)
			}
		})
	}
}

func TestMessageTexts(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 14, 17, 0, 0, 0, paris)
	b := Body{Kind: KindPromoted, Name: "Claire", Title: "Assemblée générale", Start: start, End: start.Add(2 * time.Hour),
		Where: "Salle Loire, Nantes", Confirmed: true, URL: "https://salles.example.coop/evenements/ev_1", Off: "https://salles.example.coop/desabonnement?t=x"}
	if got := b.Subject(); got != "Une place s'est libérée : Assemblée générale, lundi 14 décembre, 17:00" {
		t.Errorf("subject %q", got)
	}
	text := b.Text()
	for _, want := range []string{"Bonjour Claire,", "Quand : lundi 14 décembre, 17:00 – 19:00", "Où : Salle Loire, Nantes", "Votre place : confirmée",
		"Voir la page : https://salles.example.coop/evenements/ev_1", "Ne plus recevoir ce type d'avis : https://salles.example.coop/desabonnement?t=x"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	b.Title = `Fête <script>`
	if h := b.HTML(); strings.Contains(h, "<script>") || !strings.Contains(h, `lang="fr"`) || !strings.Contains(h, "Fête &lt;script&gt;") {
		t.Errorf("HTML not escaped:\n%s", h)
	}
	b.Lang, b.Title = "en", "General meeting"
	if got := b.Subject(); got != "A seat is yours: General meeting, Monday 14 December, 17:00" {
		t.Errorf("English subject %q", got)
	}
	b.Kind, b.Confirmed, b.Lang = KindConfirmation, false, "fr"
	if got := b.Subject(); !strings.HasPrefix(got, "Sur liste d'attente : ") {
		t.Errorf("confirmation while waiting: %q", got)
	}
	subject, text, html := digest([]Body{b, b}, "fr", "Claire", "")
	if subject != "Vos avis du jour (2)" || strings.Count(text, "• ") != 2 || strings.Count(html, "<li>") != 2 {
		t.Errorf("digest %q\n%s\n%s", subject, text, html)
	}
}
