package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
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
// api runs the form; Options.Pages draws it (ServeLogin), in the
// member's language. The page works without JavaScript. Once a session
// is open, its forms (signing out, signing in as someone else) carry the
// session's CSRF token as their csrf_token field (csrfOK).
// Member ids are devIDPrefix and a slug of the name ("dev:amelie-n-diaye").

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
	}
}

func (s *Server) loginPage(c *gin.Context) {
	s.renderLogin(c, http.StatusOK, LoginForm{Next: safeNext(c.Query("next"))})
}

// renderLogin has Options.Pages write the login page with a fresh login
// token. Without Pages there is no page to sign in on: 404, or the
// form's error as a problem.
func (s *Server) renderLogin(c *gin.Context, status int, f LoginForm) {
	c.Header("Cache-Control", "no-store")
	if s.opts.Pages == nil {
		switch f.Error {
		case LoginExpired:
			renderProblem(c, problem(status, CodeForbidden, "Le formulaire a expiré ou vient d'ailleurs ; réessayez. / The form expired or came from elsewhere; try again."))
		case LoginNoName:
			renderProblem(c, problem(status, CodeInvalid, "Indiquez un nom, avec au moins une lettre ou un chiffre. / Give a name, with at least one letter or digit."))
		default:
			renderProblem(c, problem(http.StatusNotFound, CodeNotFound, "Les pages ne sont pas servies ici. / Pages are not served here."))
		}
		return
	}
	nonce := randomToken(16)
	http.SetCookie(c.Writer, &http.Cookie{
		Name: loginCookie, Value: nonce, Path: "/login", MaxAge: int(loginTokenTTL / time.Second),
		HttpOnly: true, Secure: s.opts.SecureCookies || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	f.Token = s.loginToken(nonce)
	f.MaxName = maxNameRunes
	if m, ok := member(c); ok {
		f.Current = &m
		if sv, ok := c.Get(sessionKey); ok {
			f.SessionCSRF = sv.(session).CSRF
		}
	}
	s.opts.Pages.ServeLogin(c.Writer, c.Request, status, f)
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
			writeError(c, tooLarge(mbe.Limit))
			return
		}
		writeError(c, invalid("Formulaire illisible. / Unreadable form."))
		return
	}
	f := c.Request.PostForm
	v := LoginForm{Next: safeNext(f.Get("next")), Name: cleanName(f.Get("name"))}
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
		v.Error = LoginExpired
		s.renderLogin(c, http.StatusForbidden, v)
		return
	}
	id := slug(v.Name)
	if id == "" {
		v.Error = LoginNoName
		s.renderLogin(c, http.StatusBadRequest, v)
		return
	}
	m := booking.Member{ID: devIDPrefix + id, Name: v.Name, Groups: groups}
	if _, err := s.sessions.issue(c, m, ""); err != nil {
		writeError(c, err)
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
	if err := s.signOut(c); err != nil {
		writeError(c, err)
		return
	}
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
		if unicode.IsControl(r) || r == utf8.RuneError || booking.IsBidiControl(r) {
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
