package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomcal/roomcal/web"
)

// helpImagesDir is where the help page's pictures go (git-ignored): the
// default ROOMCAL_HELP_IMAGES of `make run`, from the repository's root.
const helpImagesDir = "../../help-images"

// TestBrowserHelp takes the help page's pictures from the real pages (a
// member with a booking and an event to register for: the start page
// with its free rooms, "Mes réservations" with the move form and the
// cancel question, an event's card, the personal calendar link), in
// French and in English, into help-images/ — `make screenshots` runs it
// alone, `make test` with the others, so the pictures never show an
// older page than the code's. Then it checks the help page they
// illustrate, served from there: reached from the start page, every task
// in words and each picture loaded, at 1280 px and at 360 px (no
// sideways scrolling), in both languages, with axe-core (zero
// violations).
func TestBrowserHelp(t *testing.T) {
	chromium, axe := browserNeeds(t)
	dir, err := filepath.Abs(helpImagesDir)
	if err != nil {
		t.Fatal(err)
	}
	// Only this run's pictures: none of an older page stays behind.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := startServeWith(t, map[string]string{"ROOMCAL_HELP_IMAGES": dir})

	// What the pictures show: Claire has a booking, and an event has
	// seats left.
	day := bookingDay()
	at := func(h, m int) string {
		return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, day.Location()).Format(time.RFC3339)
	}
	claire := person{id: "dev:claire-dupont", name: "Claire Dupont"}
	if code, body := devCall(t, base, claire, "POST", "/api/v1/bookings", map[string]any{
		"room": "nantes-erdre", "start": at(14, 0), "end": at(15, 30), "title": "Point budget"}); code != http.StatusCreated {
		t.Fatalf("Claire's booking: %d %s", code, body)
	}
	orga := person{id: "dev:olga-orga", name: "Olga Orga", groups: "organisers"}
	if code, body := devCall(t, base, orga, "POST", "/api/v1/events", map[string]any{
		"title": "Assemblée de printemps", "start": at(10, 0), "end": at(12, 0), "room": "nantes-loire",
		"capacity": 30, "waitlist": true}); code != http.StatusCreated {
		t.Fatalf("the event: %d %s", code, body)
	}

	b := openBrowser(t, chromium, 120*time.Second)
	b.login(t, base, "Claire Dupont", "/")
	shot := func(name, sel string) {
		t.Helper()
		png, err := chromedp.Run(b.ctx, chromedp.Screenshot(sel))
		if err != nil {
			t.Fatalf("picture %s (%s): %v", name, sel, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.do(t, "a picture-sized window", chromedp.EmulateViewport(800, 900))
	for _, lang := range []string{"fr", "en"} {
		words := map[string]map[string]string{
			"fr": {"book": "Réserver", "move": "Déplacer ici", "cancel": "Annuler vraiment", "register": "S'inscrire"},
			"en": {"book": "Book", "move": "Move here", "cancel": "Really cancel", "register": "Register"},
		}[lang]
		b.do(t, "start page, "+lang, chromedp.Navigate(base+"/?lang="+lang), chromedp.WaitVisible("#results button.book"))
		b.waitText(t, "#results", words["book"])
		shot("reserver-"+lang, "#start")

		b.do(t, "move form, "+lang, chromedp.Navigate(base+"/mes-reservations"), chromedp.WaitVisible("#mine-table button.move"),
			chromedp.Click("#mine-table button.move"), chromedp.WaitVisible("#mine-table .move-form"))
		b.waitText(t, "#mine-table", words["move"])
		if lang == "fr" {
			// The picture shows the day and hours as a French reader
			// writes them.
			const day, start = "#mine-table .move-form input[type=date]", "#mine-table .move-form input[type=time]"
			value, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("`+day+`").value`))
			d, err := time.Parse(time.DateOnly, value)
			if shown := b.shownValue(t, day); err != nil || shown != d.Format("02/01/2006") {
				t.Errorf("the move form's day %s is drawn %q, want the French %s", value, shown, d.Format("02/01/2006"))
			}
			value, _ = chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("`+start+`").value`))
			if shown := b.shownValue(t, start); shown != value {
				t.Errorf("the move form's start %s is drawn %q, want the 24-hour %s", value, shown, value)
			}
		}
		shot("deplacer-"+lang, "#mine-table")

		b.do(t, "cancel question, "+lang, chromedp.Navigate(base+"/mes-reservations"), chromedp.WaitVisible("#mine-table button.danger"),
			chromedp.Click("#mine-table button.danger"), chromedp.WaitVisible("#mine-table .confirm"))
		b.waitText(t, "#mine-table", words["cancel"])
		shot("annuler-"+lang, "#mine-table")

		b.do(t, "calendar link, "+lang, chromedp.WaitVisible("#feed-new"), chromedp.Click("#feed-new"))
		if lang != "fr" { // a link exists since the French pass: the page asks first
			b.do(t, "replace the link", chromedp.WaitVisible("#feed-actions .confirm-yes"), chromedp.Click("#feed-actions .confirm-yes"))
		}
		b.do(t, "the link shown", chromedp.WaitVisible("#feed-link"))
		shot("agenda-"+lang, "#feed")

		b.do(t, "events, "+lang, chromedp.Navigate(base+"/evenements"), chromedp.WaitVisible("#ev-list > li button.register"))
		b.waitText(t, "#ev-list", words["register"])
		shot("evenement-"+lang, "#ev-list > li")
	}
	for _, name := range web.HelpImages {
		for _, lang := range []string{"fr", "en"} {
			if fi, err := os.Stat(filepath.Join(dir, name+"-"+lang+".png")); err != nil || fi.Size() < 1000 {
				t.Errorf("picture %s-%s: %v", name, lang, err)
			}
		}
	}

	// The help page, from the start page's link.
	loaded := `(() => { const imgs = [...document.querySelectorAll("#help img")];
		return imgs.filter(i => i.complete && i.naturalWidth > 100 && i.alt.length > 20).length * 100 + imgs.length; })()`
	checkHelp := func(what string, want []string) {
		t.Helper()
		body := b.waitText(t, "#help", want[0])
		for _, w := range want[1:] {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the help page lacks %q", what, w)
			}
		}
		ctx := b.ctx
		n, err := chromedp.Run(ctx, chromedp.Poll[int](loaded+` === 505 ? 505 : 0`, chromedp.WithPollingInterval(50*time.Millisecond)))
		if err != nil || n != 505 {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[int](loaded))
			t.Errorf("%s: %d of %d pictures loaded, want 5 of 5 (%v)", what, got/100, got%100, err)
		}
		if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`)); err != nil || w > 0 {
			t.Errorf("%s: the page scrolls sideways by %d px (%v)", what, w, err)
		}
	}
	fr := []string{"Réserver une salle", "Réserver chaque semaine ou chaque mois", "« Répéter cette réservation… »", "Déplacer une réservation", "Annuler une réservation", "S'inscrire à un événement",
		"DAVx5", "iPhone", "Thunderbird", "« Créer un nouveau lien »"}
	b.do(t, "desktop", chromedp.EmulateViewport(1280, 900))
	b.do(t, "the help link", chromedp.Navigate(base+"/?lang=fr"), chromedp.WaitVisible("#help-link"), chromedp.Click("#help-link"),
		chromedp.WaitVisible("#help"))
	b.waitText(t, "main h1", "Comment faire ?")
	checkHelp("French, 1280 px", fr)
	b.check(t, axe, "h1-aide-1280px")
	b.do(t, "phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateTouch), chromedp.Reload(), chromedp.WaitVisible("#help"))
	checkHelp("French, 360 px", fr)
	b.check(t, axe, "h2-aide-360px")
	en := []string{"Book a room", "Book every week or every month", "“Repeat this booking…”", "Move a booking", "Cancel a booking", "Register for an event", "DAVx5", "iPhone", "Thunderbird", "“Make a new link”"}
	b.do(t, "English", chromedp.Navigate(base+"/aide?lang=en"), chromedp.WaitVisible("#help"))
	b.waitText(t, "main h1", "How do I…?")
	checkHelp("English, 360 px", en)
	b.check(t, axe, "h3-help-en-360px")
	b.do(t, "English, desktop", chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible("#help"))
	checkHelp("English, 1280 px", en)
	b.check(t, axe, "h4-help-en-1280px")
}
