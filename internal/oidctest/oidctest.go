// Package oidctest runs a real OpenID provider in process, for tests: the
// op package of github.com/zitadel/oidc over httptest, with an in-memory
// storage of its own. It behaves like a Keycloak realm set up for roomcal:
//
//   - one confidential web client (client_secret_basic or _post), for the
//     authorization-code flow with PKCE;
//   - ID tokens that carry name, email, preferred_username and the groups
//     claim;
//   - access tokens that are JWTs signed with the provider's key, whose aud
//     is "account" (by default) and whose azp names the client, with the
//     same profile and groups claims;
//   - a login page that asks nothing: it signs in the user chosen with
//     LoginAs (the first user by default) and goes on at once;
//   - an end_session endpoint that records who logged out.
//
// Everything is in memory and ends with the test.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
)

// User is an account of the provider.
type User struct {
	ID       string // the sub claim
	Username string // preferred_username
	Name     string
	Email    string
	Groups   []string // as the groups claim lists them, e.g. "/organisers"
}

// Options configure a Provider; every field has a default.
type Options struct {
	ClientID     string // default "roomcal"
	ClientSecret string // default "roomcal-secret"
	// Public makes the client a public one: no secret, PKCE required.
	Public bool
	// GroupsClaim names the claim that lists a user's groups (default
	// "groups").
	GroupsClaim string
	// AccessTokenAudience is the aud of access tokens (default
	// ["account"], as Keycloak: the client is named by azp).
	AccessTokenAudience []string
	// AccessTokenTTL is how long access tokens last (default 5m).
	AccessTokenTTL time.Duration
	Users          []User
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's URL, its discovery document at
	// Issuer + "/.well-known/openid-configuration".
	Issuer       string
	ClientID     string
	ClientSecret string

	srv     *httptest.Server
	storage *storage
	op      *op.Provider
}

// testRedirect is the redirect URI Tokens uses; nothing listens there.
const testRedirectPath = "/test-client/callback"

// New starts a provider; it stops when the test ends.
func New(t testing.TB, opts Options) *Provider {
	t.Helper()
	p := NewUnstarted(t, opts)
	p.Start()
	return p
}

// NewUnstarted makes a provider whose address is known (Issuer) but that
// does not answer yet: connections wait until Start. It stops when the
// test ends.
func NewUnstarted(t testing.TB, opts Options) *Provider {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = "roomcal"
	}
	if opts.ClientSecret == "" && !opts.Public {
		opts.ClientSecret = "roomcal-secret"
	}
	if opts.Public {
		opts.ClientSecret = ""
	}
	if opts.GroupsClaim == "" {
		opts.GroupsClaim = "groups"
	}
	if opts.AccessTokenAudience == nil {
		opts.AccessTokenAudience = []string{"account"}
	}
	if opts.AccessTokenTTL == 0 {
		opts.AccessTokenTTL = 5 * time.Minute
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	st := &storage{
		opts:     opts,
		key:      signingKey{id: randomID(), key: key},
		requests: map[string]*authRequest{},
		codes:    map[string]string{},
		tokens:   map[string]token{},
		users:    map[string]User{},
		client: client{
			id: opts.ClientID, secret: opts.ClientSecret, public: opts.Public,
			redirects: []string{issuer + testRedirectPath},
		},
	}
	for _, u := range opts.Users {
		st.users[u.ID] = u
		if st.next == "" {
			st.next = u.ID
		}
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		t.Fatal(err)
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
	}, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{Issuer: issuer, ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, srv: srv, storage: st, op: provider}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.login)
	mux.HandleFunc("GET /logged-out", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("logged out")) })
	mux.Handle("/", provider)
	srv.Config.Handler = mux
	t.Cleanup(srv.Close)
	return p
}

// Start makes the provider answer.
func (p *Provider) Start() { p.srv.Start() }

// Register allows a redirect URI and a post-logout redirect URI for the
// client (either may be empty).
func (p *Provider) Register(redirectURI, postLogoutURI string) {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	if redirectURI != "" {
		p.storage.client.redirects = append(p.storage.client.redirects, redirectURI)
	}
	if postLogoutURI != "" {
		p.storage.client.postLogout = append(p.storage.client.postLogout, postLogoutURI)
	}
}

// LoginAs makes the login page sign in the user with that ID from now on;
// "" makes it refuse (the user cancels).
func (p *Provider) LoginAs(userID string) {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	p.storage.next = userID
}

// AuthRequest is what the provider was last asked for, as it stored it.
type AuthRequest struct {
	ClientID, RedirectURI, State, Nonce string
	Scopes                              []string
	CodeChallengeMethod                 oidc.CodeChallengeMethod
	CodeChallenge                       string
}

// LastAuthRequest returns the last authorization request received.
func (p *Provider) LastAuthRequest() (AuthRequest, bool) {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	r := p.storage.last
	if r == nil {
		return AuthRequest{}, false
	}
	out := AuthRequest{ClientID: r.clientID, RedirectURI: r.redirectURI, State: r.state, Nonce: r.nonce, Scopes: slices.Clone(r.scopes)}
	if r.challenge != nil {
		out.CodeChallengeMethod, out.CodeChallenge = r.challenge.Method, r.challenge.Challenge
	}
	return out, true
}

// Logouts returns the subjects whose sessions the end_session endpoint
// ended, in order.
func (p *Provider) Logouts() []string {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	return slices.Clone(p.storage.logouts)
}

// Tokens signs userID in through the whole code flow with PKCE, as a
// client of its own would, and returns the access token and the ID token.
func (p *Provider) Tokens(t testing.TB, userID string) (accessToken, idToken string) {
	t.Helper()
	p.LoginAs(userID)
	cfg := oauth2.Config{
		ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: p.Issuer + "/authorize", TokenURL: p.Issuer + "/oauth/token"},
		RedirectURL: p.Issuer + testRedirectPath,
		Scopes:      []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail},
	}
	verifier := oauth2.GenerateVerifier()
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == testRedirectPath {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := hc.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("oidctest: the login did not come back to the client: %s", resp.Status)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("oidctest: no code in %s", loc)
	}
	if p.ClientSecret == "" {
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := tok.Extra("id_token").(string)
	return tok.AccessToken, id
}

// Sign signs claims with the provider's own key, as a token of the
// provider, e.g. to make one that has already expired.
func (p *Provider) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	signer, err := op.SignerFromKey(&p.storage.key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := crypto.Sign(claims, signer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// login is the login page: it signs in the chosen user without asking.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	st := p.storage
	st.mu.Lock()
	req, ok := st.requests[id]
	user := st.next
	if ok && user != "" {
		req.userID, req.done, req.authTime = user, true, time.Now()
	}
	st.mu.Unlock()
	if !ok {
		http.Error(w, "no such auth request", http.StatusBadRequest)
		return
	}
	if user == "" {
		// As a user who cancels: back to the client with an error.
		u, _ := url.Parse(req.redirectURI)
		q := u.Query()
		q.Set("error", "access_denied")
		q.Set("state", req.state)
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), p.Issuer)
	http.Redirect(w, r, op.AuthCallbackURL(p.op)(ctx, id), http.StatusFound)
}

func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// storage is the provider's op.Storage, all in memory.
type storage struct {
	opts Options
	key  signingKey

	mu       sync.Mutex
	client   client
	users    map[string]User
	next     string // the user the login page signs in
	requests map[string]*authRequest
	last     *authRequest
	codes    map[string]string // code → request ID
	tokens   map[string]token  // access token ID → token
	logouts  []string
}

type token struct {
	subject, clientID string
	scopes            []string
	expires           time.Time
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

var errUnsupported = errors.New("oidctest: not offered by this provider")

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := &authRequest{
		id: randomID(), clientID: r.ClientID, redirectURI: r.RedirectURI, state: r.State, nonce: r.Nonce,
		scopes: r.Scopes, responseType: r.ResponseType, responseMode: r.ResponseMode,
		audience: s.opts.AccessTokenAudience, userID: userID,
	}
	if r.CodeChallenge != "" {
		req.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.requests[req.id] = req
	s.last = req
	c := *req
	return &c, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok {
		return nil, fmt.Errorf("auth request %q not found", id)
	}
	c := *r
	return &c, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid or already used")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := randomID()
	exp := time.Now().Add(s.opts.AccessTokenTTL)
	t := token{subject: r.GetSubject(), scopes: r.GetScopes(), expires: exp}
	if ar, ok := r.(*authRequest); ok {
		t.clientID = ar.clientID
	}
	s.tokens[id] = t
	return id, exp, nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnsupported
}

func (s *storage) TerminateSession(_ context.Context, userID, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logouts = append(s.logouts, userID)
	return nil
}

func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error { return nil }

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return &s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != s.client.id {
		return nil, fmt.Errorf("client %q not found", id)
	}
	c := s.client
	c.redirects, c.postLogout = slices.Clone(c.redirects), slices.Clone(c.postLogout)
	return &c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != s.client.id || secret != s.client.secret {
		return errors.New("wrong client or secret")
	}
	return nil
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	return s.userinfo(ui, r.GetSubject(), scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint.
func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errors.New("token invalid or expired")
	}
	return s.userinfo(ui, t.subject, t.scopes)
}

func (s *storage) userinfo(ui *oidc.UserInfo, userID string, scopes []string) error {
	s.mu.Lock()
	u, ok := s.users[userID]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("user %q not found", userID)
	}
	ui.Subject = u.ID
	if slices.Contains(scopes, oidc.ScopeProfile) {
		ui.Name, ui.PreferredUsername = u.Name, u.Username
	}
	if slices.Contains(scopes, oidc.ScopeEmail) {
		ui.Email, ui.EmailVerified = u.Email, true
	}
	ui.AppendClaims(s.opts.GroupsClaim, nonNil(u.Groups))
	return nil
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}

// GetPrivateClaimsFromScopes gives the access token's own claims: azp,
// the profile and the groups, as Keycloak puts them.
func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, userID, clientID string, _ []string) (map[string]any, error) {
	s.mu.Lock()
	u, ok := s.users[userID]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("user %q not found", userID)
	}
	return map[string]any{
		"azp": clientID, "typ": "Bearer",
		"name": u.Name, "preferred_username": u.Username, "email": u.Email,
		s.opts.GroupsClaim: nonNil(u.Groups),
	}, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}

func (s *storage) Health(context.Context) error { return nil }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// authRequest is an authorization request as stored.
type authRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes                                  []string
	responseType                            oidc.ResponseType
	responseMode                            oidc.ResponseMode
	challenge                               *oidc.CodeChallenge
	audience                                []string
	userID                                  string
	authTime                                time.Time
	done                                    bool
}

func (r *authRequest) GetID() string                         { return r.id }
func (r *authRequest) GetACR() string                        { return "" }
func (r *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (r *authRequest) GetAudience() []string                 { return r.audience }
func (r *authRequest) GetAuthTime() time.Time                { return r.authTime }
func (r *authRequest) GetClientID() string                   { return r.clientID }
func (r *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return r.challenge }
func (r *authRequest) GetNonce() string                      { return r.nonce }
func (r *authRequest) GetRedirectURI() string                { return r.redirectURI }
func (r *authRequest) GetResponseType() oidc.ResponseType    { return r.responseType }
func (r *authRequest) GetResponseMode() oidc.ResponseMode    { return r.responseMode }
func (r *authRequest) GetScopes() []string                   { return r.scopes }
func (r *authRequest) GetState() string                      { return r.state }
func (r *authRequest) GetSubject() string                    { return r.userID }
func (r *authRequest) Done() bool                            { return r.done }

// client is the one confidential web client.
type client struct {
	id, secret            string
	public                bool
	redirects, postLogout []string
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirects }
func (c *client) PostLogoutRedirectURIs() []string    { return c.postLogout }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string    { return "/login?authRequestID=" + url.QueryEscape(id) }
func (c *client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeJWT
}
func (c *client) IDTokenLifetime() time.Duration { return time.Hour }
func (c *client) DevMode() bool                  { return true } // http:// redirect URIs, as on httptest
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts the profile and email in the ID
// token even though an access token is issued, as Keycloak does.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k signingKey }

func (k publicKey) ID() string                         { return k.k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.k.key.PublicKey }
