package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/roomcal/roomcal/booking"
)

// TestIdentityBounds: identity fields from a proxy's headers are bounded
// (id 200 bytes, name 200 characters, e-mail 254 bytes, 50 groups of 100
// bytes at most) and refused past the bound with a 400 saying which
// field, before anything is written; names lose their control and
// bidirectional control characters.
func TestIdentityBounds(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthHeader, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}})
	many := make([]string, booking.MaxGroups+1)
	for i := range many {
		many[i] = "g" + strings.Repeat("x", i%5)
	}
	tests := []struct {
		name                       string
		id, display, email, groups string
		status                     int
		detail                     string // a word the refusal must hold
		wantName                   string
	}{
		{"at the bounds", strings.Repeat("i", 200), strings.Repeat("é", 200), strings.Repeat("e", 244) + "@example.o", strings.Repeat("g", 100), 200, "", strings.Repeat("é", 200)},
		{"100 KB id", strings.Repeat("i", 100<<10), "Mallory", "", "", 400, "identifiant", ""},
		{"id of 201 bytes", strings.Repeat("i", 201), "Mallory", "", "", 400, "identifiant", ""},
		{"name of 201 characters", "m", strings.Repeat("é", 201), "", "", 400, "nom de membre", ""},
		{"e-mail of 255 bytes", "m", "M", strings.Repeat("e", 245) + "@example.o", "", 400, "e-mail", ""},
		{"group name of 101 bytes", "m", "M", "", strings.Repeat("g", 101), 400, "groupe", ""},
		{"51 groups", "m", "M", "", strings.Join(many, ","), 400, "groupes", ""},
		{"bidi controls in the name", "m", "Ma\u202elory\u2066 x\u2069", "", "", 200, "", "Malory x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/me", nil)
			req.Header.Set(HeaderUser, tt.id)
			req.Header.Set(HeaderName, tt.display)
			req.Header.Set(HeaderEmail, tt.email)
			req.Header.Set(HeaderGroups, tt.groups)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				Name, Code, Detail string
			}
			_ = json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %+v, want %d", resp.StatusCode, out, tt.status)
			}
			if tt.status == 400 && (out.Code != CodeInvalid || !strings.Contains(out.Detail, tt.detail)) {
				t.Fatalf("refusal %+v, want code invalid naming %q", out, tt.detail)
			}
			if tt.status == 200 && out.Name != tt.wantName {
				t.Fatalf("name %q, want %q", out.Name, tt.wantName)
			}
		})
	}
}

// TestOIDCIdentityBounds: the same bounds for a provider's token claims.
func TestOIDCIdentityBounds(t *testing.T) {
	o := &OIDCClient{cfg: OIDCConfig{GroupsClaim: "groups"}}
	if _, err := o.member(strings.Repeat("s", 201), map[string]any{}); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("sub of 201 bytes: %v, want ErrInvalid", err)
	}
	if _, err := o.member("s", map[string]any{"email": strings.Repeat("e", 300)}); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("e-mail of 300 bytes: %v, want ErrInvalid", err)
	}
	if _, err := o.member("s", map[string]any{"groups": []any{strings.Repeat("g", 101)}}); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("group of 101 bytes: %v, want ErrInvalid", err)
	}
	m, err := o.member("s", map[string]any{"name": "Ève\u202e Durand\u200f"})
	if err != nil || m.Name != "Ève Durand" {
		t.Errorf("name with bidi controls: %q, %v", m.Name, err)
	}
}
