package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestUnsubscribeLink: the GET shows the kind and changes nothing; the
// one-click POST turns that kind off in the member's preferences, and
// only that kind; a token signed with another key, or altered, is
// refused.
func TestUnsubscribeLink(t *testing.T) {
	f := newPolicyFixture(t)
	ctx := context.Background()
	owner := roleMembers[asOwner].ID
	tok := f.s.opts.NoticeLinks.Token(owner, "event_changed")
	if link := f.s.opts.NoticeLinks.Link(owner, "event_changed"); !strings.HasSuffix(link, "/desabonnement?t="+tok) {
		t.Errorf("link %q", link)
	}
	resp, body := f.call(t, asAnon, http.MethodGet, "/desabonnement?t="+tok, "", false)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "événement déplacé ou modifié") || !strings.Contains(string(body), `method="post"`) {
		t.Errorf("GET: %d %s", resp.StatusCode, body)
	}
	p, err := f.s.opts.Preferences.Preferences(ctx, owner)
	if err != nil || len(p.Notices) != 0 {
		t.Fatalf("a GET changed the preferences: %+v %v", p, err)
	}
	resp, body = f.call(t, asAnon, http.MethodPost, "/desabonnement?t="+tok, "List-Unsubscribe=One-Click", true)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "C'est fait") {
		t.Errorf("POST: %d %s", resp.StatusCode, body)
	}
	p, err = f.s.opts.Preferences.Preferences(ctx, owner)
	if err != nil || p.Notice("event_changed", true) || !p.Notice("promoted", true) || len(p.Notices) != 1 {
		t.Errorf("preferences after unsubscribe: %+v %v", p, err)
	}
	other := NewNoticeLinks("", []byte("another key")).Token(owner, "promoted")
	for _, bad := range []string{other, tok[:len(tok)-2] + "xx", "x" + tok, "", NewNoticeLinks("", []byte("policy key")).Token(owner, "no_such_kind")} {
		resp, _ := f.call(t, asAnon, http.MethodPost, "/desabonnement?t="+bad, "List-Unsubscribe=One-Click", true)
		if resp.StatusCode != 400 {
			t.Errorf("token %q: %d, want 400", bad, resp.StatusCode)
		}
	}
	if p, _ := f.s.opts.Preferences.Preferences(ctx, owner); !p.Notice("promoted", true) {
		t.Error("a bad token changed the preferences")
	}
}
