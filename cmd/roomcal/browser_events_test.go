package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/testenv"
)

// The events page in a real browser (same needs as TestBrowserBooking):
// an organiser creates an event in a room with one seat and a waiting
// list, and reads in plain French that the same slot is then taken; a
// member registers (confirmed), another, in a browser context of their
// own, follows the event's own link and lands on the waiting list,
// position 1; the first unregisters and the second, after a refresh, is
// confirmed. The organiser sees the attendee list, downloads it as CSV,
// raises the number of seats and cancels the event, which the member then
// sees cancelled; an unknown event's page says so. An admin reads the
// conflicts page. Each page is checked with axe-core and saved as a
// screenshot (testdata/screenshots/e*.png).
func TestBrowserEvents(t *testing.T) {
	chromium, axe := browserNeeds(t)
	began := time.Now()
	base := startServe(t)

	olga := openBrowser(t, chromium, 90*time.Second)
	// newTab is another member's browser, a context of its own.
	newTab := func() *browserTab {
		b := &browserTab{}
		ctx, cancel := chromedp.NewContext(olga.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) { b.listen(ev) }))
		t.Cleanup(cancel)
		b.ctx = ctx
		if err := chromedp.Do(ctx); err != nil {
			t.Fatalf("a new browser context: %v", err)
		}
		return b
	}

	date := bookingDay().Format(time.DateOnly)
	const title = "Atelier compost"

	// 1. The organiser signs in and creates an event in the Salle Loire:
	// one seat, a waiting list.
	olga.loginEvents(t, base, "Olga Orga", "g-organisers")
	olga.waitText(t, "#ev-status", "Aucun événement prévu pour le moment")
	olga.check(t, axe, "e1-evenements-organisatrice")
	olga.do(t, "fill the event form",
		chromedp.SendKeys("#nf-title", title),
		chromedp.SetValue("#nf-date", date),
		chromedp.SetValue("#nf-start", "10:00"),
		chromedp.SetValue("#nf-end", "11:00"),
		chromedp.SetValue("#nf-room", "nantes-loire"),
		chromedp.SendKeys("#nf-capacity", "1"),
		chromedp.Click(`#ev-form button[type="submit"]`),
	)
	olga.waitText(t, "#nf-result", "L'événement « "+title+" » est créé")
	olga.waitText(t, "#ev-list", "Il reste 1 place sur 1")
	olga.waitText(t, "#ev-list", "Lieu : Salle Loire, Nantes — Île de Nantes")

	// The same slot again: the room is taken, and the message says when.
	olga.do(t, "the same slot again",
		chromedp.SendKeys("#nf-title", "Atelier doublon"),
		chromedp.SetValue("#nf-date", date),
		chromedp.SetValue("#nf-start", "10:30"),
		chromedp.SetValue("#nf-end", "11:30"),
		chromedp.SetValue("#nf-room", "nantes-loire"),
		chromedp.SendKeys("#nf-capacity", "5"),
		chromedp.Click(`#ev-form button[type="submit"]`),
	)
	msg := olga.waitText(t, "#nf-result", "Ce créneau est déjà pris")
	if !strings.Contains(msg, "Salle Loire") || !strings.Contains(msg, "de 10:00 à 11:00") {
		t.Errorf("conflict message %q does not say which slot is taken", msg)
	}
	olga.check(t, axe, "e2-evenement-cree-conflit", "status of 409")

	// 2. A member registers: confirmed, and the event is now full.
	amina := newTab()
	amina.loginEvents(t, base, "Amina Diallo", "")
	amina.waitText(t, "#ev-list", title)
	if n, err := chromedp.Run(amina.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#ev-form, #ev-list details.manage").length`)); err != nil || n != 0 {
		t.Errorf("a plain member sees %d organiser tool(s) (%v)", n, err)
	}
	amina.clickInEvent(t, title, "button.register")
	amina.waitText(t, "#ev-list", "C'est fait : vous êtes inscrit·e à « "+title+" »")
	amina.waitText(t, "#ev-list", "Vous êtes inscrit·e.")
	amina.waitText(t, "#ev-list", "Complet — la liste d'attente est ouverte")
	if shown, err := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#ev-list button")].filter(b => b.getClientRects().length > 0).map(b => b.textContent).join("|")`)); err != nil || shown != "Me désinscrire" {
		t.Errorf("once registered, the buttons shown are %q, want only Me désinscrire (%v)", shown, err)
	}
	amina.check(t, axe, "e3-inscrite")

	// 3. Another member follows the link of the event's own page, which
	// the organiser shares, signs in on the way, and lands on the
	// waiting list.
	link, err := chromedp.Run(olga.ctx, chromedp.Evaluate[string](`document.querySelector("#ev-list a.permalink")?.getAttribute("href") ?? ""`))
	if err != nil || !strings.HasPrefix(link, "/evenements/ev_") {
		t.Fatalf("the event's link is %q (%v)", link, err)
	}
	bruno := newTab()
	bruno.loginAt(t, base, link, "Bruno Martin", "")
	bruno.waitText(t, "main h1", "Événement")
	bruno.waitText(t, "#ev-list", title)
	if n, err := chromedp.Run(bruno.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#ev-list > li").length * 10 + document.querySelectorAll("#ev-list a.permalink, #ev-form").length`)); err != nil || n != 10 {
		t.Errorf("the event's page shows %d event(s) and %d link(s) or form(s), want the one event alone (%v)", n/10, n%10, err)
	}
	if got, err := chromedp.Run(bruno.ctx, chromedp.Evaluate[string](`document.title`)); err != nil || got != title+" — roomcal" {
		t.Errorf("the event's page is titled %q (%v)", got, err)
	}
	bruno.waitText(t, "#ev-list", "Complet — la liste d'attente est ouverte")
	bruno.waitText(t, "#ev-list", "S'inscrire sur la liste d'attente")
	bruno.clickInEvent(t, title, "button.register")
	bruno.waitText(t, "#ev-list", "Vous êtes sur la liste d'attente, position 1")
	bruno.waitText(t, "#ev-list", "Complet — liste d'attente : 1 personne")
	bruno.check(t, axe, "e4-liste-attente")

	// 4. The first unregisters; the second, after a refresh, is
	// confirmed.
	// Her seat is confirmed: leaving asks first, and "Non" keeps it.
	amina.clickInEvent(t, title, "button.unregister")
	amina.waitText(t, "#ev-list .confirm", "Vous avez une place confirmée à « "+title+" »")
	amina.check(t, axe, "e4b-desinscrire-confirmer")
	amina.clickInEvent(t, title, ".confirm-no")
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.className`)); f != "secondary unregister" {
		t.Errorf("after « Non » the focus is on %q, not « Me désinscrire »", f)
	}
	amina.clickInEvent(t, title, "button.unregister")
	amina.clickInEvent(t, title, ".confirm-yes")
	amina.waitText(t, "#ev-list", "vous n'êtes plus inscrit·e")
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.tagName`)); f == "BODY" {
		t.Errorf("after leaving, the focus fell to the page's body")
	}
	amina.waitText(t, "#ev-list", "Complet — la liste d'attente est ouverte")
	bruno.do(t, "refresh", chromedp.Click("#ev-refresh"))
	bruno.waitText(t, "#ev-status", "À jour à")
	bruno.waitText(t, "#ev-list", "Vous êtes inscrit·e.")

	// 5. The organiser: who registered, the CSV, more seats.
	olga.do(t, "manage", chromedp.Click("#ev-refresh"))
	olga.waitText(t, "#ev-status", "Liste à jour")
	olga.clickInEvent(t, title, "details.manage summary")
	olga.clickInEvent(t, title, ".manage .actions button:first-child")
	olga.waitText(t, "#ev-list .attendees", "Bruno Martin")
	olga.waitText(t, "#ev-list .attendees", "Confirmé·e")
	olga.clickInEvent(t, title, ".manage .actions button.csv")
	olga.waitText(t, "#ev-list", "La liste est téléchargée (inscriptions-ev_")
	olga.clickInEvent(t, title, ".manage .actions button.sheet")
	olga.waitText(t, "#ev-list", "La liste est téléchargée ("+title+" - ")
	olga.do(t, "raise the cap",
		chromedp.SetValue("#ev-list .manage input[type=number]", "3"),
		chromedp.Click("#ev-list .manage form.capacity button"),
	)
	olga.waitText(t, "#ev-list", "« "+title+" » a maintenant 3 places")
	olga.waitText(t, "#ev-list", "Il reste 2 places sur 3")
	olga.check(t, axe, "e5-gerer")

	// 6. Amina registers again and sees it in her seats; then the
	// organiser cancels the event, with a confirmation.
	amina.do(t, "refresh", chromedp.Click("#ev-refresh"))
	amina.waitText(t, "#ev-list", "Il reste 2 places sur 3")
	amina.clickInEvent(t, title, "button.register")
	amina.waitText(t, "#ev-list", "Il reste 1 place sur 3")
	olga.clickInEvent(t, title, ".cancel-box button.danger")
	olga.waitText(t, "#ev-list", "Annuler vraiment l'événement « "+title+" »")
	olga.check(t, axe, "e6-annuler-confirmer")
	olga.clickInEvent(t, title, ".confirm-yes")
	olga.waitText(t, "#ev-list", "L'événement « "+title+" » est annulé")
	olga.waitText(t, "#ev-list .seats", "Annulé")
	bruno.do(t, "refresh", chromedp.Click("#ev-refresh"))
	bruno.waitText(t, "#ev-list .seats", "Annulé")
	if n, err := chromedp.Run(bruno.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("#ev-list button")].filter(b => b.getClientRects().length > 0).length`)); err != nil || n != 0 {
		t.Errorf("a cancelled event still offers %d button(s) (%v)", n, err)
	}
	bruno.check(t, axe, "e7-annule")
	// An event that does not exist says so, and leads back to the list.
	bruno.do(t, "an unknown event", chromedp.Navigate(base+"/evenements/ev_inconnu"))
	bruno.waitText(t, "#ev-status", "Cet événement n'existe pas, ou plus")
	bruno.check(t, axe, "e7c-evenement-inconnu", "status of 404")
	bruno.do(t, "back to the list", chromedp.Click(`p.back a[href="/evenements"]`), chromedp.WaitVisible("#ev-list"))
	bruno.waitText(t, "#ev-list .seats", "Annulé")
	bruno.do(t, "English, 360 px wide", chromedp.Navigate(base+"/evenements?lang=en"), chromedp.EmulateViewport(360, 740))
	bruno.waitText(t, "#ev-list .seats", "Cancelled")
	bruno.check(t, axe, "e7b-events-en-360px")

	// 7. The conflicts page: admins only.
	olga.do(t, "conflicts as an organiser", chromedp.Navigate(base+"/conflits"), chromedp.WaitVisible("main h1"))
	olga.waitText(t, "main", "réservée aux administrateurs")
	ada := newTab()
	ada.loginEvents(t, base, "Ada Admin", "g-admins")
	ada.do(t, "conflicts", chromedp.Navigate(base+"/conflits"))
	ada.waitText(t, "#cf-status", "Aucun conflit")
	ada.check(t, axe, "e8-conflits")

	t.Logf("events browser test took %s", time.Since(began).Round(time.Millisecond))
}

// loginEvents signs in as name through the dev login page, with the role
// checkbox id (if any), landing on the events page.
func (b *browserTab) loginEvents(t *testing.T, base, name, role string) {
	t.Helper()
	b.loginAt(t, base, "/evenements", name, role)
}

// loginAt opens path, which sends to the dev login page, signs in as
// name with the role checkbox id (if any), and comes back to path, an
// events page.
func (b *browserTab) loginAt(t *testing.T, base, path, name, role string) {
	t.Helper()
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + path),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", name),
	}
	if role != "" {
		actions = append(actions, chromedp.Click("#"+role))
	}
	actions = append(actions, chromedp.Submit("#name"), chromedp.WaitVisible("#events"))
	b.do(t, "login as "+name, actions...)
}

// clickInEvent clicks the element sel in the card of the event titled
// title.
func (b *browserTab) clickInEvent(t *testing.T, title, sel string) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const li = [...document.querySelectorAll("#ev-list > li")].find(li => li.querySelector("h2")?.textContent === %q);
		const e = li?.querySelector(%q);
		if (!e || e.hidden || e.disabled) return false;
		e.focus();
		e.click();
		return true;
	})()`, title, sel)
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("no %s to click in the event %q: %v (console: %v)", sel, title, err, b.errors())
	}
}

// startServe runs `roomcal serve` in dev mode over an embedded store, and
// returns its base URL once it is ready.
func startServe(t *testing.T) string {
	t.Helper()
	return startServeWith(t, nil)
}

// onRadicale is the environment of a roomcal on a private Radicale (dev
// sign-in forced: a trial, as a test is), with more settings, once `rooms
// sync` has made the rooms' calendars there; and a client of that
// Radicale, to put or read objects behind roomcal's back.
func onRadicale(t *testing.T, more map[string]string) (map[string]string, caldav.Store) {
	t.Helper()
	home := testenv.RadicaleHome(t)
	vars := map[string]string{"ROOMCAL_CALDAV_URL": home.URL, "ROOMCAL_CALDAV_USER": home.User, "ROOMCAL_CALDAV_PASSWORD": home.Password,
		"ROOMCAL_AUTH_DEV_FORCE": "true"}
	for k, v := range more {
		vars[k] = v
	}
	var out, errs syncBuffer
	if code := run(context.Background(), []string{"rooms", "sync"}, config.MapEnv(vars), &out, &errs); code != 0 {
		t.Fatalf("rooms sync: %d\n%s%s", code, out.String(), errs.String())
	}
	store, err := caldav.NewClient(home.URL, caldav.ClientOptions{Username: home.User, Password: home.Password})
	if err != nil {
		t.Fatal(err)
	}
	return vars, store
}

// startServeWith is startServe with more settings in the environment.
func startServeWith(t *testing.T, more map[string]string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	base := "http://" + addr
	vars := map[string]string{"ROOMCAL_ADDR": addr, "ROOMCAL_DATA_DIR": filepath.Join(t.TempDir(), "data")}
	for k, v := range more {
		vars[k] = v
	}
	env := config.MapEnv(vars)
	srvCtx, stopSrv := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(srvCtx, []string{"serve"}, env, &out, &errs) }()
	t.Cleanup(func() {
		stopSrv()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready: %v\n%s", err, errs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
