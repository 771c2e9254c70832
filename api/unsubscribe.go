package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

// NoticeLinks makes and checks the links of the List-Unsubscribe header
// (and the footer) of notices: /desabonnement?t=TOKEN turns one kind of
// notice off for one member. The token is the member id and the kind,
// signed (HMAC-SHA256) with a key derived from the session key, so that
// every replica checks the links of every other; it needs no session
// (mail clients' one-click POST, RFC 8058, comes without one).
type NoticeLinks struct {
	base string
	key  []byte
}

// NewNoticeLinks returns the links under publicURL, signed with a key
// derived from secret (the session key).
func NewNoticeLinks(publicURL string, secret []byte) *NoticeLinks {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("roomcal notice unsubscribe links"))
	return &NoticeLinks{base: strings.TrimRight(publicURL, "/"), key: m.Sum(nil)}
}

func (l *NoticeLinks) sign(payload string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Token is the signed token of member and kind.
func (l *NoticeLinks) Token(member, kind string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + member))
	return payload + "." + l.sign(payload)
}

// Link is the unsubscribe link of member and kind.
func (l *NoticeLinks) Link(member, kind string) string {
	return l.base + "/desabonnement?t=" + l.Token(member, kind)
}

// parse checks a token and returns its member and kind.
func (l *NoticeLinks) parse(tok string) (member, kind string, ok bool) {
	payload, sig, found := strings.Cut(tok, ".")
	if !found || !hmac.Equal([]byte(sig), []byte(l.sign(payload))) {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", "", false
	}
	kind, member, found = strings.Cut(string(raw), "\x00")
	if !found || member == "" || !knownKind(kind) {
		return "", "", false
	}
	return member, kind, true
}

var unsubscribePage = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>roomcal : avis / notices</title></head>
<body style="font-family: sans-serif; font-size: 18px; line-height: 1.5; max-width: 36em; margin: 2em auto; padding: 0 1em">
{{if .Bad}}<h1>Lien non valable</h1><p>Ce lien de désabonnement n'est pas valable. Vous pouvez choisir vos avis sur <a href="/mes-reservations">votre page</a>.</p>
<p lang="en">This unsubscribe link is not valid. You can choose your notices on <a href="/mes-reservations">your page</a>.</p>
{{else if .Done}}<h1>C'est fait</h1><p>Vous ne recevrez plus d'avis « {{.KindFR}} ». Vous pouvez changer d'avis sur <a href="/mes-reservations">votre page</a>.</p>
<p lang="en">Done: you will no longer get “{{.KindEN}}” notices. You can change this on <a href="/mes-reservations">your page</a>.</p>
{{else}}<h1>Ne plus recevoir ces avis ?</h1><p>Avis « {{.KindFR}} » / “{{.KindEN}}” notices.</p>
<form method="post" action="/desabonnement?t={{.Token}}"><button type="submit" style="font-size: 18px; padding: 8px 16px">Ne plus les recevoir / Stop them</button></form>{{end}}
</body></html>
`))

func (s *Server) renderUnsubscribe(c *gin.Context, status int, data map[string]any) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := unsubscribePage.Execute(c.Writer, data); err != nil {
		s.log.WarnContext(c.Request.Context(), "unsubscribe page not written", "err", err)
	}
}

// unsubscribeForm shows what the link turns off, with a button: a GET
// changes nothing (mail scanners open links).
func (s *Server) unsubscribeForm(c *gin.Context) {
	tok := c.Query("t")
	_, kind, ok := s.opts.NoticeLinks.parse(tok)
	if !ok {
		s.renderUnsubscribe(c, http.StatusBadRequest, map[string]any{"Bad": true})
		return
	}
	s.renderUnsubscribe(c, http.StatusOK, map[string]any{"Token": tok,
		"KindFR": kindName(kind, "fr"), "KindEN": kindName(kind, "en")})
}

// unsubscribe turns the kind off (the button, or a mail client's
// one-click POST).
func (s *Server) unsubscribe(c *gin.Context) {
	member, kind, ok := s.opts.NoticeLinks.parse(c.Query("t"))
	if !ok {
		s.renderUnsubscribe(c, http.StatusBadRequest, map[string]any{"Bad": true})
		return
	}
	_, err := s.opts.Preferences.UpdatePreferences(c.Request.Context(), member, func(p *booking.Preferences) error {
		return p.SetNotice(kind, false)
	})
	if err != nil {
		writeError(c, err)
		return
	}
	s.renderUnsubscribe(c, http.StatusOK, map[string]any{"Done": true,
		"KindFR": kindName(kind, "fr"), "KindEN": kindName(kind, "en")})
}

func knownKind(kind string) bool {
	_, ok := booking.LookupNoticeSetting(kind)
	return ok
}

func kindName(kind, lng string) string {
	k, _ := booking.LookupNoticeSetting(kind)
	if lng == "en" {
		return k.EN
	}
	return k.FR
}
