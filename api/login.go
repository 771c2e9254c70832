package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

// The dev mode's login page: anyone says who they are (a name, and the
// roles they want to try) and gets a session. It exists only in AuthDev
// mode; header and oidc modes do not register these routes.
//
// The login form has its own CSRF guard (a login CSRF would sign the
// victim in as the attacker): GET /login sets a random nonce in a cookie
// and puts its HMAC under the session key in a hidden field; POST /login
// wants both, and refuses a request whose Origin or Sec-Fetch-Site says
// it came from another site.
//
// The page works without JavaScript for signing in. Once a session is
// open, its writes (signing out, signing in as someone else) must carry
// the session's CSRF token in the X-CSRF-Token header (identify), which a
// plain form cannot send: login.js sends those two forms with fetch.
// Member ids are devIDPrefix and a slug of the name ("dev:amelie-n-diaye").

//go:embed templates/login.html templates/login.css templates/login.js
var loginFiles embed.FS

var (
	loginTemplate = template.Must(template.ParseFS(loginFiles, "templates/login.html"))
	loginCSS      = newAsset("templates/login.css", "text/css; charset=utf-8")
	loginJS       = newAsset("templates/login.js", "text/javascript; charset=utf-8")
)

// asset is a static file of the login page, served with a content hash
// in its URL and as its ETag.
type asset struct {
	body        []byte
	tag         string
	contentType string
}

func newAsset(name, contentType string) asset {
	b, err := loginFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(b)
	return asset{body: b, tag: hex.EncodeToString(h[:8]), contentType: contentType}
}

// url is the asset's address at path, versioned by its content.
func (a asset) url(path string) string { return path + "?v=" + a.tag }

func (a asset) serve(c *gin.Context) {
	etag := `"` + a.tag + `"`
	c.Header("ETag", etag)
	c.Header("Cache-Control", "public, max-age=86400")
	if c.GetHeader("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, a.contentType, a.body)
}

const (
	// loginCookie holds the login form's nonce.
	loginCookie = "roomcal_login"
	// loginTokenTTL is how long a login form stays usable.
	loginTokenTTL = time.Hour
	// maxNameRunes bounds the name typed in.
	maxNameRunes = 80
	// maxSlug bounds the slug part of a dev member id.
	maxSlug = 48
	// devIDPrefix starts the member ids the dev login page makes.
	devIDPrefix = "dev:"
)

// loginRoutes are the dev mode's login page routes.
func (s *Server) loginRoutes() []route {
	if s.opts.AuthMode != AuthDev {
		return nil
	}
	return []route{
		{http.MethodGet, "/login", Anyone, s.loginPage},
		{http.MethodPost, "/login", Anyone, s.login},
		{http.MethodPost, "/logout", Anyone, s.logout},
		{http.MethodGet, "/login.css", Anyone, loginCSS.serve},
		{http.MethodGet, "/login.js", Anyone, loginJS.serve},
	}
}

// loginView is what the login template shows.
type loginView struct {
	CSS, JS string
	Token   string
	Next    string
	MaxName int
	// Current is who is signed in, if anyone; SessionCSRF is their
	// session's token for the logout form (only with a session cookie).
	Current     *booking.Member
	SessionCSRF string
	// What was typed, shown again after an error.
	Name             string
	Organiser, Admin bool
	Error, ErrorEN   string
}

func (s *Server) loginPage(c *gin.Context) {
	v := loginView{Next: safeNext(c.Query("next"))}
	s.renderLogin(c, http.StatusOK, v)
}

// renderLogin renders the login page with a fresh login token.
func (s *Server) renderLogin(c *gin.Context, status int, v loginView) {
	nonce := randomToken(16)
	http.SetCookie(c.Writer, &http.Cookie{
		Name: loginCookie, Value: nonce, Path: "/login", MaxAge: int(loginTokenTTL / time.Second),
		HttpOnly: true, Secure: s.opts.SecureCookies || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	v.Token = s.loginToken(nonce)
	v.CSS, v.JS = loginCSS.url("/login.css"), loginJS.url("/login.js")
	v.MaxName = maxNameRunes
	if m, ok := member(c); ok {
		v.Current = &m
		if sv, ok := c.Get(sessionKey); ok {
			v.SessionCSRF = sv.(session).CSRF
		}
	}
	var buf bytes.Buffer
	if err := loginTemplate.Execute(&buf, v); err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// loginToken is the hidden field that goes with a nonce.
func (s *Server) loginToken(nonce string) string {
	mac := hmac.New(sha256.New, s.sessions.key)
	mac.Write([]byte("roomcal login form v1\n"))
	mac.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// loginFormOK checks the login form's CSRF guard.
func (s *Server) loginFormOK(r *http.Request) bool {
	if !sameOrigin(r) {
		return false
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	got := r.PostFormValue("login_token")
	return got != "" && hmac.Equal([]byte(got), []byte(s.loginToken(ck.Value)))
}

// sameOrigin refuses a request that the browser says came from another
// site. Browsers send Origin on form posts and Sec-Fetch-Site on every
// request; clients that send neither (curl, tests) rely on the token.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

func (s *Server) login(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(c, s.log, tooLarge(mbe.Limit))
			return
		}
		writeError(c, s.log, invalid("Formulaire illisible. / Unreadable form."))
		return
	}
	f := c.Request.PostForm
	v := loginView{Next: safeNext(f.Get("next")), Name: cleanName(f.Get("name"))}
	var groups []string
	for _, g := range []string{booking.GroupOrganisers, booking.GroupAdmins} {
		for _, have := range f["groups"] {
			if have == g {
				groups = append(groups, g)
				break
			}
		}
	}
	for _, g := range groups {
		v.Organiser = v.Organiser || g == booking.GroupOrganisers
		v.Admin = v.Admin || g == booking.GroupAdmins
	}
	if !s.loginFormOK(c.Request) {
		v.Error, v.ErrorEN = "Le formulaire a expiré ou vient d'ailleurs ; réessayez.", "The form expired or came from elsewhere; try again."
		s.renderLogin(c, http.StatusForbidden, v)
		return
	}
	id := slug(v.Name)
	if id == "" {
		v.Error, v.ErrorEN = "Indiquez un nom, avec au moins une lettre ou un chiffre.", "Give a name, with at least one letter or digit."
		s.renderLogin(c, http.StatusBadRequest, v)
		return
	}
	m := booking.Member{ID: devIDPrefix + id, Name: v.Name, Groups: groups}
	if _, err := s.sessions.issue(c, m, ""); err != nil {
		writeError(c, s.log, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: loginCookie, Value: "", Path: "/login", MaxAge: -1,
		HttpOnly: true, Secure: s.opts.SecureCookies || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	s.log.InfoContext(c.Request.Context(), "dev login", "member", m.ID, "groups", groups)
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, v.Next)
}

// logout ends the session and answers 303 to the login page; a client
// asking for JSON (a page's fetch, which sends the session's CSRF
// header) gets 200 and {"redirect": "/login"}, as from /auth/logout.
func (s *Server) logout(c *gin.Context) {
	s.sessions.clear(c)
	c.Header("Cache-Control", "no-store")
	if strings.Contains(c.GetHeader("Accept"), gin.MIMEJSON) {
		c.JSON(http.StatusOK, gin.H{"redirect": "/login"})
		return
	}
	c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext returns next if it is a path on this site (localPath), "/"
// otherwise: no open redirect.
func safeNext(next string) string {
	if !localPath(next) {
		return "/"
	}
	return next
}

// cleanName trims a typed name, folds runs of spaces and drops control
// characters; it is cut at maxNameRunes.
func cleanName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	if utf8.RuneCountInString(name) > maxNameRunes {
		name = strings.TrimSpace(string([]rune(name)[:maxNameRunes]))
	}
	return name
}

// foldAccents spells the accented letters of French and its neighbours
// without their accents, for ids.
var foldAccents = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae",
	'ç': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ñ': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'œ': "oe",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y", 'ß': "ss",
}

// slug makes the id part of a name: lower case, accents folded, letters
// and digits kept, anything else one dash ("Amélie N'Diaye" →
// "amelie-n-diaye"). Empty when the name has no letter or digit.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch f, ok := foldAccents[r]; {
		case ok:
			b.WriteString(f)
			dash = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= maxSlug {
			break
		}
	}
	out := b.String()
	if len(out) > maxSlug {
		out = out[:maxSlug]
		for !utf8.ValidString(out) {
			out = out[:len(out)-1]
		}
	}
	return strings.Trim(out, "-")
}
