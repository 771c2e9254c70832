package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestPreferences: a member's preferences start empty, change by PATCH
// (fields replace, notices merge, dismiss adds), refuse what is unknown
// with 400 and keep what was there, and the site of a booking becomes
// the one the start page opens on.
func TestPreferences(t *testing.T) {
	f := newPolicyFixture(t)
	get := func() preferencesJSON {
		t.Helper()
		resp, body := f.call(t, asMember, http.MethodGet, "/api/v1/me/preferences", "", false)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET: %d %s, Cache-Control %q", resp.StatusCode, body, resp.Header.Get("Cache-Control"))
		}
		var p preferencesJSON
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := get(); p.Site != "" || p.Lang != "" || len(p.Notices) != 0 || len(p.Dismissed) != 0 || p.UpdatedAt != nil {
		t.Fatalf("before anything: %+v", p)
	}
	patches := []struct {
		body string
		want int
	}{
		{`{"site":"nantes","lang":"en","notices":{"reminders":true}}`, 200},
		{`{"notices":{"promoted":false},"dismiss":"promoted:ev_1"}`, 200},
		{`{"site":"paris"}`, 400},
		{`{"lang":"de"}`, 400},
		{`{"notices":{"Rappel!":true}}`, 400},
		{`{"dismiss":""}`, 400},
		{`{"colour":"blue"}`, 400},
		{`{"site":"nantes"}}`, 400},
	}
	for _, p := range patches {
		if resp, body := f.call(t, asMember, http.MethodPatch, "/api/v1/me/preferences", p.body, false); resp.StatusCode != p.want {
			t.Fatalf("PATCH %s: %d %s, want %d", p.body, resp.StatusCode, body, p.want)
		}
	}
	p := get()
	if p.Site != "nantes" || p.Lang != "en" || !p.Notices["reminders"] || p.Notices["promoted"] ||
		len(p.Notices) != 2 || fmt.Sprint(p.Dismissed) != "[promoted:ev_1]" || p.UpdatedAt == nil {
		t.Fatalf("after the patches: %+v", p)
	}

	// A booking remembers its site, after the answer.
	if resp, body := f.call(t, asMember, http.MethodPatch, "/api/v1/me/preferences", `{"site":""}`, false); resp.StatusCode != 200 {
		t.Fatalf("clear the site: %d %s", resp.StatusCode, body)
	}
	start, end := f.slot()
	if resp, body := f.call(t, asMember, http.MethodPost, "/api/v1/bookings",
		fmt.Sprintf(`{"room":"loire","start":%q,"end":%q,"title":"Point"}`, start.Format(time.RFC3339), end.Format(time.RFC3339)), false); resp.StatusCode != 201 {
		t.Fatalf("book: %d %s", resp.StatusCode, body)
	}
	for deadline := time.Now().Add(10 * time.Second); get().Site != "nantes"; {
		if time.Now().After(deadline) {
			t.Fatalf("the booking's site was not remembered: %+v", get())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p := get(); p.Lang != "en" || !p.Notices["reminders"] {
		t.Fatalf("remembering the site lost other choices: %+v", p)
	}
}
