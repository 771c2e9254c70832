package api

import (
	"encoding/json"
	"net/http"
)

// stubPages stands in for package web in api's tests: it writes what api
// hands it as JSON, so that tests read the fields of the login form and
// the pages. Package web's tests render the real pages, and the browser
// tests in cmd/roomcal use them.
type stubPages struct{}

// stubAnswer is what stubPages writes.
type stubAnswer struct {
	Page   string     `json:"page"`
	Member string     `json:"member,omitempty"`
	Form   *LoginForm `json:"form,omitempty"`
	SignIn string     `json:"sign_in,omitempty"`
}

var _ Pages = stubPages{}

func writeStub(w http.ResponseWriter, status int, a stubAnswer) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

func (stubPages) ServePage(w http.ResponseWriter, _ *http.Request, p Page) {
	writeStub(w, http.StatusOK, stubAnswer{Page: p.Name, Member: p.Member.ID})
}

func (stubPages) ServeStatic(w http.ResponseWriter, r *http.Request, _, _ string) {
	http.NotFound(w, r)
}

func (stubPages) ServeHelpImage(w http.ResponseWriter, r *http.Request, _ string) {
	http.NotFound(w, r)
}

func (stubPages) ServeLogin(w http.ResponseWriter, _ *http.Request, status int, f LoginForm) {
	writeStub(w, status, stubAnswer{Page: "login", Form: &f})
}

func (stubPages) ServeSignIn(w http.ResponseWriter, _ *http.Request, signInURL string) {
	writeStub(w, http.StatusUnauthorized, stubAnswer{Page: "signin", SignIn: signInURL})
}
