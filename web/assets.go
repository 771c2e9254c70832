package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// files holds the templates, the catalogues and the static files. The
// static folder holds the pages' own CSS and JavaScript, and vendor/ when
// `make assets` has filled it (git ignores it; a build without it embeds
// no vendor file and the pages say so).
//
//go:embed templates i18n static
var files embed.FS

// Vendor files the pages use, as `make assets` names them.
const (
	calendarJS  = "event-calendar.min.js"
	calendarCSS = "event-calendar.min.css"
)

// asset is one static file, served at /static/{tag}/{name}.
type asset struct {
	body        []byte
	tag         string
	contentType string
}

// loadAssets reads every file under static/ (vendor/ included), keyed by
// base name; names must be unique across folders.
func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	modules, own := sha256.New(), map[string]bool{}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct := contentType(p)
		if ct == "" {
			return nil // .gitkeep, source maps, licences
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		out[path.Base(p)] = asset{body: b, tag: hex.EncodeToString(h[:8]), contentType: ct}
		if ownModule(p) {
			own[path.Base(p)] = true
			modules.Write([]byte(p))
			modules.Write(b)
		}
		return nil
	})
	// The pages' own scripts are ES modules importing each other by
	// relative URL ("./common.js"): they share one tag, made of them all,
	// so an import resolves under its importer's tag and a change to any
	// of them changes every URL (they are cached as immutable).
	tag := hex.EncodeToString(modules.Sum(nil)[:8])
	for name, a := range out {
		if own[name] {
			a.tag = tag
			out[name] = a
		}
	}
	return out, err
}

// ownModule reports whether p is one of the pages' own scripts (not a
// vendor file).
func ownModule(p string) bool {
	return strings.HasSuffix(p, ".js") && !strings.HasPrefix(p, "static/vendor/")
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	}
	return ""
}

// assetURL is the address of the static file name ("" when it is not
// there, e.g. a vendor file of a build without `make assets`).
func (s *Site) assetURL(name string) string {
	a, ok := s.assets[name]
	if !ok {
		return ""
	}
	return "/static/" + a.tag + "/" + name
}

// ServeStatic implements api.Pages: the file name if tag is its content's
// tag, kept by browsers for a year (its URL changes with its content).
func (s *Site) ServeStatic(w http.ResponseWriter, r *http.Request, tag, name string) {
	a, ok := s.assets[name]
	if !ok || a.tag != tag {
		http.Error(w, "404 — fichier introuvable / file not found", http.StatusNotFound)
		return
	}
	etag := `"` + a.tag + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	_, _ = w.Write(a.body)
}
