package booking_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsPointInward keeps the imports pointing inward (DESIGN.md,
// "Packages"): the domain packages are free of HTTP, Redis, CalDAV and
// iCalendar code, and the HTTP edge (api, which may use gin and net/http)
// reaches the calendars and the gate only through the ports it or the
// domain declares, never through their adapters. cmd/roomcal wires the
// adapters in.
func TestImportsPointInward(t *testing.T) {
	const mod = "github.com/roomcal/roomcal/"
	adapters := []string{
		"github.com/redis/", "github.com/alicebob/", // go-redis, the embedded engine
		"github.com/emersion/",   // go-webdav, go-ical
		"github.com/teambition/", // rrule-go
		mod + "caldav", mod + "internal/", mod + "cmd/",
	}
	tests := []struct {
		name      string
		pkgs      []string
		forbidden []string
	}{
		{
			name: "domain",
			pkgs: []string{mod + "booking", mod + "events"},
			forbidden: append([]string{"net/http", "github.com/gin-gonic/", "gopkg.in/yaml", mod + "api", mod + "web"},
				adapters...),
		},
		{name: "api", pkgs: []string{mod + "api"}, forbidden: adapters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command("go", append([]string{"list", "-deps"}, tt.pkgs...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < len(tt.pkgs) {
				t.Fatalf("go list listed %d packages for %v: %s", len(deps), tt.pkgs, out)
			}
			for _, dep := range deps {
				for _, f := range tt.forbidden {
					if strings.HasPrefix(dep, f) {
						t.Errorf("%v depends on %s", tt.pkgs, dep)
					}
				}
			}
		})
	}
}
