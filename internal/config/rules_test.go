package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// The quota and approval rules merge key by key
// like the others: global → site → room.
func TestQuotaRules(t *testing.T) {
	const y = `
rules:
  quota_per_week: 6h
  quota_ahead: 5
  quota_exempt: [bureau]
sites:
  - id: nantes
    name: Nantes
    timezone: Europe/Paris
    rules: {quota_longest: 3h, approval_within: 5d}
    rooms:
      - {id: loire, name: Loire, capacity: 10}
      - id: erdre
        name: Erdre
        capacity: 40
        rules:
          quota_scope: room
          quota_ahead: none
          quota_exempt: []
          approvers: [ca, bureau]
          checkin_within: 15m
`
	c, err := Parse("rules.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	loire, _ := c.RoomByID("loire")
	want := booking.Rules{
		Quota:          booking.Quota{PerWeek: 6 * time.Hour, Ahead: 5, Longest: 3 * time.Hour, Exempt: []string{"bureau"}},
		ApprovalWithin: 5 * 24 * time.Hour,
	}
	if !reflect.DeepEqual(loire.Rules, want) {
		t.Errorf("loire rules\n got %+v\nwant %+v", loire.Rules, want)
	}
	erdre, _ := c.RoomByID("erdre")
	want = booking.Rules{
		Quota:          booking.Quota{Scope: booking.ScopeRoom, PerWeek: 6 * time.Hour, Longest: 3 * time.Hour},
		Approvers:      []string{"ca", "bureau"},
		ApprovalWithin: 5 * 24 * time.Hour,
		CheckInWithin:  15 * time.Minute,
	}
	if !reflect.DeepEqual(erdre.Rules, want) {
		t.Errorf("erdre rules\n got %+v\nwant %+v", erdre.Rules, want)
	}

	for _, bad := range []struct{ yaml, says string }{
		{"quota_scope: building", "quota_scope: must be room or site"},
		{"quota_ahead: -2", "quota_ahead: must be a whole number"},
		{"quota_ahead: many", "quota_ahead: must be a whole number"},
		{"quota_per_week: often", "quota_per_week"},
		{"approval_within: soon", "approval_within"},
		{"checkin_within: later", "checkin_within"},
	} {
		_, err := Parse("bad.yaml", []byte(strings.Replace(y, "quota_ahead: 5", bad.yaml, 1)), nil)
		if err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("%s: got %v, want an error saying %q", bad.yaml, err, bad.says)
		}
	}
}
