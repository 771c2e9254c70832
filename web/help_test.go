package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
)

// TestHelpPage: the help page says every task in words in both
// languages, with or without its screenshots; it shows a picture only
// when the file of its language is in the help directory, and serves
// only those files.
func TestHelpPage(t *testing.T) {
	amina := booking.Member{ID: "amina", Name: "Amina"}
	page := api.Page{Name: api.PageHelp, Member: amina}
	tasks := map[string][]string{
		"fr": {"Comment faire ?", "Réserver une salle", "Déplacer une réservation", "Annuler une réservation",
			"S&#39;inscrire à un événement", "DAVx5", "iPhone", "Thunderbird", "Créer un nouveau lien"},
		"en": {"How do I…?", "Book a room", "Move a booking", "Cancel a booking", "Register for an event",
			"DAVx5", "iPhone", "Thunderbird", "Make a new link"},
	}

	// No directory, or an empty one: the words, no picture.
	for _, dir := range []string{"", t.TempDir()} {
		s := testSite(t)
		s.helpDir = dir
		for lang, want := range tasks {
			body := render(t, s, "/aide?lang="+lang, page, nil).Body.String()
			checkPage(t, body, want, []string{"<img", "/aide/images/"})
		}
		w := httptest.NewRecorder()
		s.ServeHelpImage(w, httptest.NewRequest("GET", "/aide/images/reserver-fr.png", nil), "reserver-fr.png")
		if w.Code != http.StatusNotFound {
			t.Errorf("dir %q: a missing picture answered %d", dir, w.Code)
		}
	}

	// Some pictures taken: those are shown, in their language only.
	dir := t.TempDir()
	png := []byte("\x89PNG\r\n\x1a\nnot really")
	for _, f := range []string{"reserver-fr.png", "agenda-fr.png", "reserver-en.png", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := testSite(t)
	s.helpDir = dir
	fr := render(t, s, "/aide", page, nil).Body.String()
	checkPage(t, fr, []string{`src="/aide/images/reserver-fr.png?v=`, `src="/aide/images/agenda-fr.png?v=`, `alt="La page d&#39;accueil`},
		[]string{"deplacer-fr.png", "reserver-en.png"})
	if n := strings.Count(fr, "<img"); n != 2 {
		t.Errorf("%d pictures in the French page, want 2", n)
	}
	en := render(t, s, "/aide?lang=en", page, nil).Body.String()
	if n := strings.Count(en, "<img"); n != 1 || !strings.Contains(en, "reserver-en.png") {
		t.Errorf("the English page shows %d picture(s), want reserver-en.png alone", n)
	}
	for _, c := range []struct {
		file   string
		status int
	}{
		{"reserver-fr.png", 200}, {"deplacer-fr.png", 404}, {"notes.txt", 404}, {"../web.go", 404}, {"reserver-de.png", 404},
	} {
		w := httptest.NewRecorder()
		s.ServeHelpImage(w, httptest.NewRequest("GET", "/aide/images/x", nil), c.file)
		if w.Code != c.status {
			t.Errorf("%s: %d, want %d", c.file, w.Code, c.status)
		}
		if c.status == 200 && (w.Header().Get("Content-Type") != "image/png" || w.Body.String() != string(png)) {
			t.Errorf("%s: %q, %q", c.file, w.Header().Get("Content-Type"), w.Body.String())
		}
	}

	// The start page leads to it.
	start := render(t, s, "/", api.Page{Name: api.PageStart, Member: amina}, nil).Body.String()
	checkPage(t, start, []string{`href="/aide"`}, nil)
}
