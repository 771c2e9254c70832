package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

// Sessions of members signed in through a page (the dev login page, or
// OpenID Connect): a cookie holding who the member is, signed with a key
// every replica shares, so that any replica believes it and a Redis flush
// logs nobody out. A session ends when its cookie expires or the member
// signs out. Signing out ends every session of the member made before,
// on every device: the time is kept with the member's preferences on the
// calendar server (Options.SignOuts, cached in Redis), so that a copy of
// the cookie is refused by every replica, also after a Redis flush.
//
// Each session carries a random CSRF token: a write authenticated by the
// cookie must echo it in the X-CSRF-Token header (pages read it from
// GET /api/v1/me). API clients with a bearer token are not concerned.

// SessionCookie is the name of the session cookie.
const SessionCookie = "roomcal_session"

// HeaderCSRF carries the session's CSRF token on writes.
const HeaderCSRF = "X-CSRF-Token"

// session is what the cookie holds.
type session struct {
	Member  booking.Member `json:"m"`
	Expires time.Time      `json:"x"`
	// Issued is when the session was made, in Unix microseconds (a
	// session made just after a sign-out is not taken for one before).
	Issued int64  `json:"t"`
	CSRF   string `json:"c"`
	// IDToken is the provider's ID token hint for logout (OIDC), when it
	// fits in the cookie.
	IDToken string `json:"i,omitempty"`
}

// sessions issues and reads session cookies.
type sessions struct {
	key    []byte
	ttl    time.Duration
	secure bool // set the Secure attribute (served over TLS)
}

// errNoSession: no valid session cookie.
var errNoSession = errors.New("no valid session")

// maxCookie bounds a session cookie (browsers keep at most 4 KiB).
const maxCookie = 3800

// issue signs a new session for m and sets its cookie.
func (ss *sessions) issue(c *gin.Context, m booking.Member, idToken string) (session, error) {
	now := time.Now()
	s := session{Member: m, Expires: now.Add(ss.ttl).UTC().Truncate(time.Second), Issued: now.UnixMicro(), CSRF: randomToken(16), IDToken: idToken}
	v, err := ss.encode(s)
	if err == nil && len(v) > maxCookie && s.IDToken != "" {
		s.IDToken = "" // logout works without the hint
		v, err = ss.encode(s)
	}
	if err != nil {
		return session{}, err
	}
	if len(v) > maxCookie {
		return session{}, errors.New("session too large for a cookie (too many groups?)")
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: v, Path: "/", Expires: s.Expires, MaxAge: int(ss.ttl / time.Second),
		HttpOnly: true, Secure: ss.secure || c.Request.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	return s, nil
}

// clear removes the session cookie.
func (ss *sessions) clear(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: ss.secure || c.Request.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}

// errSeveralSessions: the request carries more than one session cookie.
// A site sharing the parent domain can set a cookie of the same name (for
// a narrower path, so that browsers send it first: cookie tossing) holding
// its own valid session; believing either would let it choose whose
// account the member's clicks act for.
var errSeveralSessions = errors.New("several session cookies")

// read returns the request's session, if its cookie is valid and not
// expired; errSeveralSessions if there is more than one session cookie,
// valid or not.
func (ss *sessions) read(r *http.Request) (session, error) {
	cks := r.CookiesNamed(SessionCookie)
	if len(cks) > 1 {
		return session{}, errSeveralSessions
	}
	if len(cks) == 0 || cks[0].Value == "" {
		return session{}, errNoSession
	}
	return ss.decode(cks[0].Value, time.Now())
}

func (ss *sessions) encode(s session) (string, error) {
	body, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(ss.sign(p)), nil
}

func (ss *sessions) decode(v string, now time.Time) (session, error) {
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return session{}, errNoSession
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, ss.sign(p)) {
		return session{}, errNoSession
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return session{}, errNoSession
	}
	var s session
	if err := json.Unmarshal(body, &s); err != nil || s.Member.ID == "" || !now.Before(s.Expires) {
		return session{}, errNoSession
	}
	return s, nil
}

func (ss *sessions) sign(payload string) []byte {
	mac := hmac.New(sha256.New, ss.key)
	mac.Write([]byte("roomcal session v1\n"))
	mac.Write([]byte(payload))
	return mac.Sum(nil)
}

// csrfOK reports whether a cookie-authenticated request may proceed:
// safe methods always; writes only with the session's token.
func csrfOK(r *http.Request, s session) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	got := r.Header.Get(HeaderCSRF)
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		// A plain HTML form (a page without JavaScript) sends it as a
		// field.
		got = r.PostFormValue("csrf_token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// SignOuts keeps when members signed out, for every replica and beyond a
// Redis flush (cmd/roomcal keeps it in the preferences on the calendar
// server, cached in Redis).
type SignOuts interface {
	// SignOut records that memberID signed out at at.
	SignOut(ctx context.Context, memberID string, at time.Time) error
	// SignedOutAt returns when memberID last signed out (zero: never).
	SignedOutAt(ctx context.Context, memberID string) (time.Time, error)
}

// errSignedOut: the session was made before its member signed out.
var errSignedOut = errors.New("session ended by a sign-out")

// current checks that sess was not ended by a sign-out of its member.
func (s *Server) current(ctx context.Context, sess session) error {
	if s.opts.SignOuts == nil {
		return nil
	}
	at, err := s.opts.SignOuts.SignedOutAt(ctx, sess.Member.ID)
	if err != nil {
		return fmt.Errorf("sign-outs of %s: %w", sess.Member.ID, err)
	}
	if !at.IsZero() && sess.Issued <= at.UnixMicro() {
		return errSignedOut
	}
	return nil
}

// signOut ends every session of the request's member made until now, on
// every replica. The cookie is cleared by the caller whatever happens.
func (s *Server) signOut(c *gin.Context) error {
	v, ok := c.Get(sessionKey)
	if !ok || s.opts.SignOuts == nil {
		return nil
	}
	sess := v.(session)
	if err := s.opts.SignOuts.SignOut(c.Request.Context(), sess.Member.ID, time.Now()); err != nil {
		return fmt.Errorf("sign out %s: %w", sess.Member.ID, err)
	}
	return nil
}
