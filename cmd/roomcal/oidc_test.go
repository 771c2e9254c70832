package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/oidctest"
	"github.com/roomcal/roomcal/internal/testenv"
)

// serveOIDC runs `roomcal serve` in oidc mode against issuer until the
// test ends, and returns its base URL and log once /readyz answers 200.
func serveOIDC(t *testing.T, issuer, clientID, secret string, register func(base string)) (string, *syncBuffer) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	base := "http://" + addr
	if register != nil {
		register(base)
	}
	env := config.MapEnv(map[string]string{
		"ROOMCAL_ADDR": addr, "ROOMCAL_DATA_DIR": filepath.Join(t.TempDir(), "data"), "ROOMCAL_PUBLIC_URL": base,
		"ROOMCAL_AUTH_MODE": "oidc", "ROOMCAL_OIDC_ISSUER": issuer,
		"ROOMCAL_OIDC_CLIENT_ID": clientID, "ROOMCAL_OIDC_CLIENT_SECRET": secret,
		"ROOMCAL_SESSION_KEY": "a session key of at least thirty-two characters",
	})
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, env, &out, &errs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d:\n%s", code, errs.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, errs.String())
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, &errs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready: %v\n%s", err, errs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, c *http.Client, url string, header map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestServeOIDC: serve in oidc mode, wired from the environment, signs a
// browser in through the provider and believes the provider's access
// tokens, and no identity header.
func TestServeOIDC(t *testing.T) {
	amina := oidctest.User{ID: "2b7c4a90-amina", Username: "amina", Name: "Amina Diallo", Email: "amina@example.org", Groups: []string{"/admins"}}
	idp := oidctest.New(t, oidctest.Options{Users: []oidctest.User{amina}})
	base, logs := serveOIDC(t, idp.Issuer, idp.ClientID, idp.ClientSecret, func(base string) { idp.Register(base+"/auth/callback", base+"/") })

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	code, body := get(t, browser, base+"/auth/login?next=/api/v1/me", nil)
	var me struct {
		ID    string   `json:"id"`
		Roles []string `json:"roles"`
		CSRF  string   `json:"csrf_token"`
	}
	if code != 200 || json.Unmarshal(body, &me) != nil || me.ID != amina.ID || me.CSRF == "" ||
		strings.Join(me.Roles, ",") != "member,organiser,admin" {
		t.Fatalf("sign-in: %d %s\n%s", code, body, logs)
	}

	access, _ := idp.Tokens(t, amina.ID)
	tests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"access token", map[string]string{"Authorization": "Bearer " + access}, 200},
		{"nothing", nil, 401},
		{"identity headers", map[string]string{"X-Remote-User": "amina", "X-Remote-Groups": "admins"}, 401},
		{"a token cut short", map[string]string{"Authorization": "Bearer " + access[:len(access)-4]}, 401},
	}
	for _, tt := range tests {
		if code, body := get(t, http.DefaultClient, base+"/api/v1/rooms", tt.header); code != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.name, code, tt.status, body)
		}
	}
	if l := logs.String(); strings.Contains(l, idp.ClientSecret) || strings.Contains(l, access[len(access)-20:]) {
		t.Errorf("the log holds a secret:\n%s", l)
	}
}

// TestServeOIDCIssuerDown: the issuer not answering does not stop serve;
// sign-in answers 503 meanwhile.
func TestServeOIDCIssuerDown(t *testing.T) {
	issuer := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)) // nobody listens
	base, logs := serveOIDC(t, issuer, "roomcal", "s", nil)
	if !strings.Contains(logs.String(), "issuer not reachable at start-up") {
		t.Errorf("not logged:\n%s", logs)
	}
	if code, body := get(t, http.DefaultClient, base+"/auth/login", nil); code != 503 {
		t.Errorf("sign-in: %d %s", code, body)
	}
}
