package booking_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImportsNoEdges keeps the domain packages free of HTTP, Redis,
// CalDAV and iCalendar code: they declare ports, adapters implement them.
func TestDomainImportsNoEdges(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/roomcal/roomcal/booking", "github.com/roomcal/roomcal/events").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"net/http", "github.com/gin-gonic/", "github.com/redis/", "github.com/emersion/",
		"github.com/teambition/", "gopkg.in/yaml", "github.com/roomcal/roomcal/caldav",
		"github.com/roomcal/roomcal/api", "github.com/roomcal/roomcal/internal/",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("the domain depends on %s", dep)
			}
		}
	}
}
