package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/roomcal/roomcal/booking"
)

// Sign-in with OpenID Connect (AuthMode AuthOIDC).
//
// Pages: GET /auth/login sends the browser to the provider (authorization
// code with PKCE S256, a state and a nonce); GET /auth/callback checks the
// state, exchanges the code with the PKCE verifier, verifies the ID token
// and its nonce, and issues the session cookie (session.go); POST
// /auth/logout clears it and, when the provider has an end_session_endpoint,
// sends the browser there to end the provider's session too.
//
// The state, nonce, PKCE verifier, redirect URI and next page of a sign-in
// in progress travel in one short-lived cookie (oidcFlowCookie: 10 minutes,
// HttpOnly, SameSite=Lax so that it comes back on the provider's redirect,
// Path /auth/callback), HMAC-signed with the session key under a label of
// its own, so that it can never pass for a session cookie nor a session
// cookie for it. Nothing is kept server-side: any replica completes a
// sign-in another began. One sign-in at a time per browser: a second tab
// that starts one replaces the first's cookie.
//
// API clients: Authorization: Bearer <access token>. The token must be a
// JWT signed by one of the issuer's keys (its JWKS, fetched and cached by
// go-oidc), with the configured issuer, not expired, and meant for roomcal:
// its aud contains the client id, or its azp is the client id (Keycloak
// issues access tokens with aud "account" and azp the client). A token
// that looks like an ID token (a typ claim "ID", as Keycloak marks them, or
// an at_hash claim) is refused: ID tokens pass through browsers and logout
// URLs, and are not credentials for the API. Bearer requests need no CSRF
// token.
//
// Members: the ID is the sub claim; the name is name, else
// preferred_username, else email, else sub; groups come from the claim
// named by OIDCConfig.GroupsClaim, a leading "/" removed (Keycloak's full
// group paths: "/organisers" is the group organisers).
//
// Discovery: NewOIDCClient tries it at start-up within DiscoveryTimeout.
// When the issuer cannot be reached then, roomcal starts all the same and
// logs it; each sign-in or bearer token retries discovery (at most once
// per RetryInterval), answering 503 unavailable until the issuer answers.
// Sessions already issued keep working meanwhile. A provider outage during
// a deployment thus does not stop roomcal; a wrong issuer URL shows as an
// error in the log at start-up and on every retry.

// AuthOIDC is the OpenID Connect identity mode.
const AuthOIDC = "oidc"

// OIDCConfig configures the OpenID Connect client.
type OIDCConfig struct {
	Issuer   string
	ClientID string
	// ClientSecret authenticates a confidential client; empty, roomcal
	// is a public client, which PKCE protects.
	ClientSecret string
	// GroupsClaim names the claim listing the member's groups (default
	// "groups").
	GroupsClaim string
	// PublicURL is roomcal's address without a trailing slash, from which
	// the redirect URI (PublicURL/auth/callback) and the post-logout
	// redirect URI (PublicURL/) are made; empty: from each request's Host.
	PublicURL string
	// Scopes asked for (default openid, profile, email).
	Scopes []string
	// HTTPClient makes the calls to the provider (default: a client with a
	// 10s timeout).
	HTTPClient *http.Client
	// DiscoveryTimeout bounds the discovery at start-up and each retry
	// (default 10s); RetryInterval is the least time between two attempts
	// (default 10s).
	DiscoveryTimeout time.Duration
	RetryInterval    time.Duration
	Logger           *slog.Logger
}

// OIDCClient is roomcal as an OpenID Connect client and resource server.
// It is safe for concurrent use.
type OIDCClient struct {
	cfg OIDCConfig
	log *slog.Logger

	mu      sync.Mutex
	p       *oidcProvider
	lastTry time.Time // of the last discovery attempt
}

// oidcProvider is what discovery gives.
type oidcProvider struct {
	provider   *oidc.Provider
	idTokens   *oidc.IDTokenVerifier
	access     *oidc.IDTokenVerifier
	endSession string
}

// errProviderDown: the issuer could not be discovered.
var errProviderDown = errors.New("identity provider unreachable")

// NewOIDCClient makes the client and tries discovery once, within
// DiscoveryTimeout. A failed discovery is logged, not returned: it is
// retried when needed (see above). The error is for a configuration
// without an issuer or a client id.
func NewOIDCClient(ctx context.Context, cfg OIDCConfig) (*OIDCClient, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("oidc: issuer and client id are required")
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.DiscoveryTimeout == 0 {
		cfg.DiscoveryTimeout = 10 * time.Second
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	o := &OIDCClient{cfg: cfg, log: cfg.Logger, lastTry: time.Now()}
	p, err := o.discover(ctx)
	if err != nil {
		o.log.ErrorContext(ctx, "oidc: issuer not reachable at start-up; roomcal starts, and sign-in retries it (answering 503 until it answers)",
			"issuer", cfg.Issuer, "err", err)
		return o, nil
	}
	o.p = p
	o.log.InfoContext(ctx, "oidc: issuer discovered", "issuer", cfg.Issuer, "end_session", p.endSession != "")
	return o, nil
}

// provider returns the discovered provider, discovering it if need be.
// It fails with errProviderDown (the cause is logged) when the issuer
// cannot be discovered, without trying again before RetryInterval.
func (o *OIDCClient) provider(ctx context.Context) (*oidcProvider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.p != nil {
		return o.p, nil
	}
	if time.Since(o.lastTry) < o.cfg.RetryInterval {
		return nil, errProviderDown
	}
	o.lastTry = time.Now()
	p, err := o.discover(ctx)
	if err != nil {
		o.log.WarnContext(ctx, "oidc: issuer still not reachable", "issuer", o.cfg.Issuer, "err", err)
		return nil, errProviderDown
	}
	o.log.InfoContext(ctx, "oidc: issuer discovered", "issuer", o.cfg.Issuer, "end_session", p.endSession != "")
	o.p = p
	return p, nil
}

// discover fetches the issuer's discovery document, within
// DiscoveryTimeout.
func (o *OIDCClient) discover(ctx context.Context) (*oidcProvider, error) {
	dctx, cancel := context.WithTimeout(o.httpContext(context.WithoutCancel(ctx)), o.cfg.DiscoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, o.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, err
	}
	return &oidcProvider{
		provider: p,
		idTokens: p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}),
		// The audience of access tokens is checked by verifyAccess. Both
		// verifiers share the provider's cache of keys.
		access:     p.Verifier(&oidc.Config{SkipClientIDCheck: true}),
		endSession: meta.EndSession,
	}, nil
}

// httpContext gives calls to the provider the client's HTTP client.
func (o *OIDCClient) httpContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.cfg.HTTPClient)
}

// verifyAccess checks a bearer access token and returns its member.
// Errors are errProviderDown, or say why the token is refused (without
// the token).
func (o *OIDCClient) verifyAccess(ctx context.Context, raw string) (booking.Member, error) {
	p, err := o.provider(ctx)
	if err != nil {
		return booking.Member{}, err
	}
	if iss, ok := unverifiedIssuer(raw); ok && iss != "" && iss != o.cfg.Issuer {
		// Said before the signature is checked: the log tells why, and
		// a token of another issuer does not make go-oidc fetch our keys
		// again in search of its key.
		return booking.Member{}, fmt.Errorf("issued by another provider (%.100q), not %q", iss, o.cfg.Issuer)
	}
	tok, err := p.access.Verify(o.httpContext(ctx), raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return booking.Member{}, fmt.Errorf("expired at %s", exp.Expiry.UTC().Format(time.RFC3339))
		}
		return booking.Member{}, err
	}
	claims := map[string]any{}
	if err := tok.Claims(&claims); err != nil {
		return booking.Member{}, fmt.Errorf("claims: %v", err)
	}
	azp, _ := claims["azp"].(string)
	if !slices.Contains(tok.Audience, o.cfg.ClientID) && azp != o.cfg.ClientID {
		return booking.Member{}, fmt.Errorf("not meant for client %q (aud %q, azp %q)", o.cfg.ClientID, tok.Audience, azp)
	}
	if typ, _ := claims["typ"].(string); strings.EqualFold(typ, "ID") || tok.AccessTokenHash != "" {
		return booking.Member{}, errors.New("an ID token, not an access token")
	}
	return o.member(tok.Subject, claims)
}

// unverifiedIssuer reads the iss claim of a JWT without checking
// anything: only to say why a token is refused.
func unverifiedIssuer(raw string) (string, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", false
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(body, &c) != nil {
		return "", false
	}
	return c.Iss, true
}

// member makes the member a token's claims describe.
func (o *OIDCClient) member(sub string, claims map[string]any) (booking.Member, error) {
	if sub == "" {
		return booking.Member{}, errors.New("no sub claim")
	}
	str := func(k string) string { s, _ := claims[k].(string); return strings.TrimSpace(s) }
	m := booking.Member{ID: sub, Email: str("email")}
	for _, n := range []string{str("name"), str("preferred_username"), m.Email, sub} {
		if n = cleanIdentityText(n); n != "" {
			m.Name = n
			break
		}
	}
	m.Groups = groupsOf(claims[o.cfg.GroupsClaim])
	if err := booking.CheckMember(m); err != nil {
		return booking.Member{}, fmt.Errorf("claims: %w", err)
	}
	return m, nil
}

// groupsOf reads a groups claim: a list of names, or one name; a leading
// "/" (Keycloak's full path) is removed.
func groupsOf(v any) []string {
	var raw []string
	switch g := v.(type) {
	case string:
		raw = []string{g}
	case []any:
		for _, e := range g {
			if s, ok := e.(string); ok {
				raw = append(raw, s)
			}
		}
	}
	var out []string
	for _, g := range raw {
		if g = strings.TrimPrefix(strings.TrimSpace(g), "/"); g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// oidcRoutes are the OpenID Connect sign-in routes, served in oidc mode
// only.
func (s *Server) oidcRoutes() []route {
	if s.opts.AuthMode != AuthOIDC || s.opts.OIDC == nil {
		return nil
	}
	return []route{
		{http.MethodGet, "/auth/login", Anyone, s.oidcLogin},
		{http.MethodGet, "/auth/callback", Anyone, s.oidcCallback},
		{http.MethodPost, "/auth/logout", Anyone, s.oidcLogout},
	}
}

// oidcFlowCookie holds a sign-in in progress.
const (
	oidcFlowCookie = "roomcal_oidc"
	oidcFlowPath   = "/auth/callback"
	oidcFlowTTL    = 10 * time.Minute
)

// oidcFlow is what the flow cookie holds.
type oidcFlow struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Redirect string    `json:"r"` // the redirect URI sent, to send it again
	Next     string    `json:"p"` // the local page to go to afterwards
	Expires  time.Time `json:"x"`
}

// oidcBase is roomcal's public address for this request.
func (s *Server) oidcBase(c *gin.Context) string {
	if u := s.opts.OIDC.cfg.PublicURL; u != "" {
		return u
	}
	scheme := "http"
	if c.Request.TLS != nil || s.opts.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// localPath reports whether next is a path on this site (and not
// "//host", "/\host" or an absolute URL: no open redirects).
func localPath(next string) bool {
	if len(next) > 1024 || !utf8.ValidString(next) || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return false
	}
	if strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return false
	}
	u, err := url.Parse(next)
	// The path as decoded too: "/%2F%2Fhost" is no way out either.
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil &&
		!strings.HasPrefix(u.Path, "//") && !strings.HasPrefix(u.Path, "/\\")
}

func (s *Server) oauth2Config(p *oidcProvider, redirect string) *oauth2.Config {
	cfg := s.opts.OIDC.cfg
	ep := p.provider.Endpoint()
	if cfg.ClientSecret == "" {
		// A public client (PKCE only): client_id in the form, no
		// Authorization header with an empty password.
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Endpoint: ep, RedirectURL: redirect, Scopes: cfg.Scopes,
	}
}

func unavailableProvider() *Problem {
	return problem(http.StatusServiceUnavailable, CodeUnavailable,
		"Le fournisseur d'identité ne répond pas, réessayez dans un instant. / The identity provider is unavailable, try again shortly.")
}

func (s *Server) oidcLogin(c *gin.Context) {
	next := c.Query("next")
	if next == "" {
		next = "/"
	}
	if !localPath(next) {
		writeError(c, invalid("next doit être un chemin de ce site, comme /reservations / next must be a path on this site, like /bookings"))
		return
	}
	p, err := s.opts.OIDC.provider(c.Request.Context())
	if err != nil {
		renderProblem(c, unavailableProvider())
		return
	}
	f := oidcFlow{
		State: randomToken(32), Nonce: randomToken(32), Verifier: oauth2.GenerateVerifier(),
		Redirect: s.oidcBase(c) + "/auth/callback", Next: next,
		Expires: time.Now().Add(oidcFlowTTL).UTC().Truncate(time.Second),
	}
	v, err := s.encodeFlow(f)
	if err != nil {
		writeError(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: oidcFlowCookie, Value: v, Path: oidcFlowPath, MaxAge: int(oidcFlowTTL / time.Second),
		HttpOnly: true, Secure: s.sessions.secure || c.Request.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	target := s.oauth2Config(p, f.Redirect).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, target)
}

func (s *Server) clearFlow(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: oidcFlowCookie, Value: "", Path: oidcFlowPath, MaxAge: -1,
		HttpOnly: true, Secure: s.sessions.secure || c.Request.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) oidcCallback(c *gin.Context) {
	ctx := c.Request.Context()
	refuse := func(status int, reason string, args ...any) {
		s.log.WarnContext(ctx, "oidc sign-in refused", append([]any{"reason", reason, "peer", c.Request.RemoteAddr}, args...)...)
		if status == http.StatusBadRequest {
			renderProblem(c, invalid("La connexion a expiré ou a été commencée ailleurs ; recommencez. / The sign-in expired or was started elsewhere; start again."))
			return
		}
		renderProblem(c, problem(http.StatusUnauthorized, CodeUnauthenticated,
			"La connexion a échoué ; recommencez. / Sign-in failed; start again."))
	}
	f, err := s.readFlow(c.Request)
	if err != nil {
		refuse(http.StatusBadRequest, "no valid sign-in cookie (expired, or from another browser)")
		return
	}
	state := c.Query("state")
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 {
		refuse(http.StatusBadRequest, "state does not match")
		return
	}
	s.clearFlow(c) // one use only
	if e := c.Query("error"); e != "" {
		refuse(http.StatusUnauthorized, "the provider answered an error", "error", e, "description", c.Query("error_description"))
		return
	}
	code := c.Query("code")
	if code == "" {
		refuse(http.StatusBadRequest, "no code")
		return
	}
	p, err := s.opts.OIDC.provider(ctx)
	if err != nil {
		renderProblem(c, unavailableProvider())
		return
	}
	xctx, cancel := context.WithTimeout(s.opts.OIDC.httpContext(ctx), 15*time.Second)
	defer cancel()
	tok, err := s.oauth2Config(p, f.Redirect).Exchange(xctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			refuse(http.StatusUnauthorized, "code exchange refused", "error", re.ErrorCode, "description", re.ErrorDescription)
			return
		}
		s.log.ErrorContext(ctx, "oidc: code exchange failed", "err", err)
		renderProblem(c, unavailableProvider())
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		refuse(http.StatusUnauthorized, "no id_token in the token response")
		return
	}
	idt, err := p.idTokens.Verify(xctx, raw)
	if err != nil {
		refuse(http.StatusUnauthorized, "id token not valid", "err", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		refuse(http.StatusUnauthorized, "nonce does not match")
		return
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			refuse(http.StatusUnauthorized, "at_hash does not match the access token")
			return
		}
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		refuse(http.StatusUnauthorized, "id token claims", "err", err)
		return
	}
	m, err := s.opts.OIDC.member(idt.Subject, claims)
	if errors.Is(err, booking.ErrInvalid) {
		writeError(c, fmt.Errorf("oidc: %w", err)) // 400, saying which field is too long
		return
	}
	if err != nil {
		refuse(http.StatusUnauthorized, "id token", "err", err)
		return
	}
	if _, err := s.sessions.issue(c, m, raw); err != nil {
		writeError(c, fmt.Errorf("oidc: session for %s: %w", m.ID, err))
		return
	}
	s.log.InfoContext(ctx, "signed in with oidc", "member", m.ID, "groups", m.Groups)
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, f.Next)
}

// oidcLogout ends the session. It answers 303 to the provider's
// end_session_endpoint (with id_token_hint, client_id and
// post_logout_redirect_uri) when the provider has one, else to "/"; a
// client asking for JSON (Accept: application/json, as a page's fetch
// would, since the write needs its CSRF header) gets 200 and
// {"redirect": URL} instead, to go there itself.
func (s *Server) oidcLogout(c *gin.Context) {
	idToken := ""
	if v, ok := c.Get(sessionKey); ok {
		idToken = v.(session).IDToken
	}
	s.sessions.clear(c)
	if err := s.signOut(c); err != nil {
		writeError(c, err)
		return
	}
	target := "/"
	if p, err := s.opts.OIDC.provider(c.Request.Context()); err == nil && p.endSession != "" {
		if u, err := url.Parse(p.endSession); err == nil {
			q := u.Query()
			q.Set("client_id", s.opts.OIDC.cfg.ClientID)
			q.Set("post_logout_redirect_uri", s.oidcBase(c)+"/")
			if idToken != "" {
				q.Set("id_token_hint", idToken)
			}
			u.RawQuery = q.Encode()
			target = u.String()
		}
	}
	c.Header("Cache-Control", "no-store")
	if strings.Contains(c.GetHeader("Accept"), gin.MIMEJSON) {
		c.JSON(http.StatusOK, gin.H{"redirect": target})
		return
	}
	c.Redirect(http.StatusSeeOther, target)
}

func (s *Server) encodeFlow(f oidcFlow) (string, error) {
	body, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.signFlow(p)), nil
}

func (s *Server) readFlow(r *http.Request) (oidcFlow, error) {
	ck, err := r.Cookie(oidcFlowCookie)
	if err != nil {
		return oidcFlow{}, err
	}
	p, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return oidcFlow{}, errNoSession
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.signFlow(p)) {
		return oidcFlow{}, errNoSession
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return oidcFlow{}, errNoSession
	}
	var f oidcFlow
	if err := json.Unmarshal(body, &f); err != nil || f.State == "" || !time.Now().Before(f.Expires) {
		return oidcFlow{}, errNoSession
	}
	return f, nil
}

// signFlow signs a flow cookie with the session key, under a label that
// session cookies do not use.
func (s *Server) signFlow(payload string) []byte {
	mac := hmac.New(sha256.New, s.sessions.key)
	mac.Write([]byte("roomcal oidc flow v1\n"))
	mac.Write([]byte(payload))
	return mac.Sum(nil)
}
