package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Languages the pages speak, the default first.
var languages = []string{"fr", "en"}

// langCookie remembers the language a member picked with the switch link.
const langCookie = "lang"

// catalogue is one language's messages, by key.
type catalogue map[string]string

// loadCatalogues reads i18n/<lang>.json for every language.
func loadCatalogues() (map[string]catalogue, error) {
	out := map[string]catalogue{}
	for _, l := range languages {
		b, err := files.ReadFile("i18n/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("web: catalogue %s: %w", l, err)
		}
		var c catalogue
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("web: catalogue %s: %w", l, err)
		}
		out[l] = c
	}
	return out, nil
}

// t returns the message key with {name} placeholders replaced by the
// pairs in args ("name", value, …). A missing key shows as itself, so
// that a forgotten message is seen, not blank (a test keeps the
// catalogues complete).
func (c catalogue) t(key string, args ...string) string {
	s, ok := c[key]
	if !ok {
		return key
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+args[i]+"}", args[i+1])
	}
	return s
}

// known reports whether l is a language the pages speak.
func known(l string) bool {
	for _, have := range languages {
		if have == l {
			return true
		}
	}
	return false
}

// chooseLang picks the language of a request: the lang cookie, else the
// best of Accept-Language, else French.
func chooseLang(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && known(ck.Value) {
		return ck.Value
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage returns the language of header (an Accept-Language
// value) with the highest weight among those the pages speak; French when
// none is.
func acceptLanguage(header string) string {
	type pick struct {
		lang  string
		q     float64
		order int
	}
	var picks []pick
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if !known(base) {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			picks = append(picks, pick{base, q, i})
		}
	}
	if len(picks) == 0 {
		return languages[0]
	}
	sort.SliceStable(picks, func(i, j int) bool { return picks[i].q > picks[j].q })
	return picks[0].lang
}
