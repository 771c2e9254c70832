package web

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The help page, "Comment faire ?": short tasks in words, each with a
// screenshot of the page it speaks of when there is one. The screenshots
// are not in git (the project keeps no generated file there) and not in
// the binary: the browser test that checks the help page takes them from
// the real pages (cmd/roomcal/browser_help_test.go; `make screenshots`
// runs it alone, `make test` with the others) into a directory that
// Options.HelpImages names (ROOMCAL_HELP_IMAGES, ./help-images by
// default), and the pages serve them from there at /aide/images/. So
// they never show an older page than the code's, and a clean clone's
// `make run` serves the page as text until they are taken.

// HelpImages are the help page's pictures, by name; the file of each is
// NAME-LANG.png (reserver-fr.png, reserver-en.png…).
var HelpImages = []string{"reserver", "deplacer", "annuler", "evenement", "agenda"}

// helpData is what help.html shows: the URL of each picture present in
// the page's language ("" when there is none).
type helpData struct {
	Images map[string]string
}

func (s *Site) helpData(lang string) helpData {
	d := helpData{Images: map[string]string{}}
	if s.helpDir == "" {
		return d
	}
	for _, name := range HelpImages {
		file := name + "-" + lang + ".png"
		fi, err := os.Stat(filepath.Join(s.helpDir, file))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		// The version makes a new screenshot a new URL.
		d.Images[name] = "/aide/images/" + file + "?v=" + strconv.FormatInt(fi.ModTime().Unix(), 36)
	}
	return d
}

// helpFile says whether file is one of the help pictures' names.
func helpFile(file string) bool {
	name, ok := strings.CutSuffix(file, ".png")
	if !ok {
		return false
	}
	for _, n := range HelpImages {
		for _, l := range languages {
			if name == n+"-"+l {
				return true
			}
		}
	}
	return false
}

// ServeHelpImage implements api.Pages: the picture file of the help page,
// read from Options.HelpImages; 404 for any other name, or when it is not
// there.
func (s *Site) ServeHelpImage(w http.ResponseWriter, r *http.Request, file string) {
	if s.helpDir == "" || !helpFile(file) {
		http.Error(w, "404 — image introuvable / image not found", http.StatusNotFound)
		return
	}
	f, err := os.Open(filepath.Join(s.helpDir, file))
	if err != nil {
		http.Error(w, "404 — image introuvable / image not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.Error(w, "404 — image introuvable / image not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, file, fi.ModTime(), f)
}
