package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// callAs makes one request as m (identity headers, believed from
// loopback in dev mode).
func (f *policyFixture) callAs(t *testing.T, id, groups, method, target, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(HeaderUser, id)
	req.Header.Set(HeaderName, id)
	req.Header.Set(HeaderGroups, groups)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestAdminSiteAdmins: a site admin (group admins-<site>) administers
// the rooms of that site and no other; what they may not do changes
// nothing.
func TestAdminSiteAdmins(t *testing.T) {
	f := newPolicyFixture(t)
	body := func(rev int, capacity int) string {
		return fmt.Sprintf(`{"site":"nantes","name":"Salle Loire","capacity":%d,"opening_hours":{"always":true},"revision":%d}`, capacity, rev)
	}
	tests := []struct {
		name, groups         string
		list                 int // rooms listed
		get, put, post, page int
	}{
		{"site admin of nantes", "admins-nantes", 1, 200, 200, 201, 200},
		{"site admin of another site", "admins-snz", 0, 403, 403, 403, 200},
		{"member of a group that merely starts so", "adminsnantes", -1, 403, 403, 403, 200},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := f.rooms.Get(t.Context(), *roleMembers[asAdmin], "loire")
			if err != nil {
				t.Fatal(err)
			}
			status, got := f.callAs(t, "sam", tt.groups, "GET", "/api/v1/admin/rooms", "")
			if tt.list < 0 {
				if status != 403 {
					t.Fatalf("list: %d %s, want 403", status, got)
				}
			} else {
				var rooms []adminRoomJSON
				if status != 200 || json.Unmarshal(got, &rooms) != nil || len(rooms) != tt.list {
					t.Fatalf("list: %d %s, want %d rooms", status, got, tt.list)
				}
			}
			if status, got := f.callAs(t, "sam", tt.groups, "GET", "/api/v1/admin/rooms/loire", ""); status != tt.get {
				t.Errorf("get: %d %s, want %d", status, got, tt.get)
			}
			if status, got := f.callAs(t, "sam", tt.groups, "PUT", "/api/v1/admin/rooms/loire", body(st.Revision, 40+i)); status != tt.put {
				t.Errorf("put: %d %s, want %d", status, got, tt.put)
			}
			after, _ := f.rooms.Get(t.Context(), *roleMembers[asAdmin], "loire")
			if changed := after.Revision != st.Revision; changed != (tt.put == 200) {
				t.Errorf("put answered %d, yet revision %d → %d", tt.put, st.Revision, after.Revision)
			}
			post := fmt.Sprintf(`{"id":"sam-%d","site":"nantes","name":"Petite","capacity":2,"opening_hours":{"always":true}}`, i)
			if status, got := f.callAs(t, "sam", tt.groups, "POST", "/api/v1/admin/rooms", post); status != tt.post {
				t.Errorf("post: %d %s, want %d", status, got, tt.post)
			}
		})
	}
}

// TestAdminRoomErrors: what the admin API refuses, with which problem,
// and that a refused change changes nothing.
func TestAdminRoomErrors(t *testing.T) {
	f := newPolicyFixture(t)
	admin := roleMembers[asAdmin]
	put := func(body string) (int, Problem) {
		status, got := f.callAs(t, admin.ID, "admins", "PUT", "/api/v1/admin/rooms/loire", body)
		var p Problem
		_ = json.Unmarshal(got, &p)
		return status, p
	}
	st, err := f.rooms.Get(t.Context(), *admin, "loire")
	if err != nil {
		t.Fatal(err)
	}
	rev := st.Revision
	ok := func(extra string) string {
		return fmt.Sprintf(`{"site":"nantes","name":"Salle Loire","capacity":12,"opening_hours":{"always":true},"revision":%d%s}`, rev, extra)
	}
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"no revision", `{"site":"nantes","name":"Salle Loire","capacity":12}`, 400, CodeInvalid},
		{"stale revision", fmt.Sprintf(`{"site":"nantes","name":"X","capacity":12,"revision":%d}`, rev+7), 409, CodeConflict},
		{"no name", fmt.Sprintf(`{"site":"nantes","name":"  ","capacity":12,"revision":%d}`, rev), 400, CodeInvalid},
		{"zero capacity", fmt.Sprintf(`{"site":"nantes","name":"Loire","capacity":0,"revision":%d}`, rev), 400, CodeInvalid},
		{"unknown site", fmt.Sprintf(`{"site":"lune","name":"Loire","capacity":3,"revision":%d}`, rev), 400, CodeInvalid},
		{"bad hour", fmt.Sprintf(`{"site":"nantes","name":"Loire","capacity":3,"opening_hours":{"mon":[{"from":"9h","to":"12:00"}]},"revision":%d}`, rev), 400, CodeInvalid},
		{"range ends before it starts", fmt.Sprintf(`{"site":"nantes","name":"Loire","capacity":3,"opening_hours":{"mon":[{"from":"12:00","to":"09:00"}]},"revision":%d}`, rev), 400, CodeInvalid},
		{"overlapping ranges", fmt.Sprintf(`{"site":"nantes","name":"Loire","capacity":3,"opening_hours":{"mon":[{"from":"08:00","to":"12:00"},{"from":"11:00","to":"13:00"}]},"revision":%d}`, rev), 400, CodeInvalid},
		{"closure ends before it starts", ok(`,"closures":[{"from":"2030-01-10","to":"2030-01-01"}]`), 400, CodeInvalid},
		{"bad closure date", ok(`,"closures":[{"from":"10/01/2030","to":"2030-01-11"}]`), 400, CodeInvalid},
		{"negative rule", ok(`,"rules":{"buffer_minutes":-5}`), 400, CodeInvalid},
		{"another id", ok(`,"id":"erdre"`), 400, CodeInvalid},
		{"unknown field", ok(`,"colour":"blue"`), 400, CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, p := put(tt.body)
			if status != tt.status || p.Code != tt.code {
				t.Fatalf("%d %+v, want %d %s", status, p, tt.status, tt.code)
			}
			if now, _ := f.rooms.Get(t.Context(), *admin, "loire"); now.Revision != rev {
				t.Fatalf("refused, yet the revision moved %d → %d", rev, now.Revision)
			}
		})
	}
	// A room of that id exists already; an id that is not one.
	for _, body := range []string{
		`{"id":"loire","site":"nantes","name":"Loire bis","capacity":3}`,
	} {
		if status, got := f.callAs(t, admin.ID, "admins", "POST", "/api/v1/admin/rooms", body); status != 409 {
			t.Errorf("POST %s: %d %s, want 409", body, status, got)
		}
	}
	for _, id := range []string{"Loire", "-x", "a b", "roomcal-settings", ""} {
		body := fmt.Sprintf(`{"id":%q,"site":"nantes","name":"X","capacity":3}`, id)
		if status, got := f.callAs(t, admin.ID, "admins", "POST", "/api/v1/admin/rooms", body); status != 400 {
			t.Errorf("POST id %q: %d %s, want 400", id, status, got)
		}
	}
	// A calendar of that name exists (the events calendar): refused, not
	// taken over.
	if status, got := f.callAs(t, admin.ID, "admins", "POST", "/api/v1/admin/rooms", `{"id":"evenements","site":"nantes","name":"X","capacity":3}`); status != 409 {
		t.Errorf("POST over the events calendar: %d %s, want 409", status, got)
	}
}

// TestAdminImportBodyLimit: the import takes a calendar export larger
// than the 64 KiB every other body is held to.
func TestAdminImportBodyLimit(t *testing.T) {
	f := newPolicyFixture(t)
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
	for i := 0; b.Len() < 3*maxBodyBytes; i++ {
		fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:old-%d@example.org\r\nDTSTAMP:20201101T090000Z\r\nSUMMARY:Réunion %d\r\nDTSTART:20200101T%02d0000Z\r\nDTEND:20200101T%02d3000Z\r\nEND:VEVENT\r\n", i, i, i%20, i%20)
	}
	b.WriteString("END:VCALENDAR\r\n")
	body, _ := json.Marshal(map[string]any{"ics": b.String(), "dry_run": true})
	status, got := f.callAs(t, "ada", "admins", "POST", "/api/v1/admin/rooms/loire/import", string(body))
	var rep importReportJSON
	if status != 200 || json.Unmarshal(got, &rep) != nil || len(rep.Imported) < 500 || !rep.DryRun {
		t.Fatalf("a %d KiB export: %d %s", len(body)>>10, status, clip(got))
	}
	if status, got := f.callAs(t, "ada", "admins", "POST", "/api/v1/admin/rooms", string(body)); status != 413 {
		t.Fatalf("the same body elsewhere: %d %s, want 413", status, clip(got))
	}
}

// TestAdminRulesApprovalQuota: approval and quotas are edited with the
// other rules, read back as written, and a bad scope is refused.
func TestAdminRulesApprovalQuota(t *testing.T) {
	f := newPolicyFixture(t)
	st, err := f.rooms.Get(t.Context(), *roleMembers[asAdmin], "loire")
	if err != nil {
		t.Fatal(err)
	}
	body := func(scope string) string {
		return fmt.Sprintf(`{"site":"nantes","name":"Salle Loire","capacity":12,"opening_hours":{"always":true},"revision":%d,
			"rules":{"max_duration_minutes":240,"approvers":["accueil"],"approval_within_days":3,"checkin_within_minutes":15,
			"quota":{"scope":%q,"per_week_minutes":360,"ahead":5,"longest_minutes":180,"exempt":["bureau"]}}}`, st.Revision, scope)
	}
	if status, got := f.callAs(t, "ada", "admins", "PUT", "/api/v1/admin/rooms/loire", body("planet")); status != 400 {
		t.Fatalf("bad scope: %d %s", status, got)
	}
	status, got := f.callAs(t, "ada", "admins", "PUT", "/api/v1/admin/rooms/loire", body("room"))
	if status != 200 {
		t.Fatalf("put: %d %s", status, got)
	}
	r, err := f.s.opts.Catalog.Room("loire")
	if err != nil {
		t.Fatal(err)
	}
	q := r.Rules.Quota
	if fmt.Sprint(r.Rules.Approvers) != "[accueil]" || r.Rules.ApprovalWithin != 72*time.Hour || r.Rules.CheckInWithin != 15*time.Minute || q.Scope != "room" ||
		q.PerWeek != 6*time.Hour || q.Ahead != 5 || q.Longest != 3*time.Hour || fmt.Sprint(q.Exempt) != "[bureau]" {
		t.Fatalf("rules in the catalog: %+v", r.Rules)
	}
	var back adminRoomJSON
	_, got = f.callAs(t, "ada", "admins", "GET", "/api/v1/admin/rooms/loire", "")
	if err := json.Unmarshal(got, &back); err != nil || back.Rules.Quota.PerWeekMinutes != 360 || back.Rules.ApprovalWithinDays != 3 {
		t.Fatalf("read back: %s", got)
	}
}
