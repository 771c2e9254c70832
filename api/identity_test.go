package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// TestHeaderModeTrust: in header mode the identity headers are believed
// from the trusted proxies only; from anyone else they are ignored (the
// caller is anonymous) and logged.
func TestHeaderModeTrust(t *testing.T) {
	tests := []struct {
		name    string
		trusted string
		status  int
		logged  bool
	}{
		{"from a trusted proxy", "127.0.0.1/32", http.StatusOK, false},
		{"from elsewhere", "10.0.0.0/8", http.StatusUnauthorized, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			srv := httptest.NewServer(New(Options{
				Catalog: testCatalog(t), AuthMode: AuthHeader,
				TrustedProxies: []netip.Prefix{netip.MustParsePrefix(tt.trusted)},
				Logger:         slog.New(slog.NewTextHandler(&logs, nil)),
			}))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/me", nil)
			req.Header.Set(HeaderUser, "mallory")
			req.Header.Set(HeaderGroups, "admins")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := strings.Contains(logs.String(), "identity headers from an untrusted peer ignored"); got != tt.logged {
				t.Fatalf("logged %v, want %v:\n%s", got, tt.logged, logs.String())
			}
		})
	}
}
