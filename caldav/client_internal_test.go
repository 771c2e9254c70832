package caldav

import (
	"net/url"
	"testing"
)

func TestETagWire(t *testing.T) {
	tests := []struct {
		wire   string
		opaque string
		weak   bool
		back   string // etagToWire(opaque)
	}{
		{`"abc"`, "abc", false, `"abc"`},
		{` "abc" `, "abc", false, `"abc"`},
		{`W/"abc"`, `W/"abc"`, true, `W/"abc"`},
		{`abc`, "abc", false, `"abc"`}, // unquoted (non-conformant) header
		{`""`, "", false, `""`},
		{``, "", false, `""`},
	}
	for _, tt := range tests {
		opaque, weak := etagFromWire(tt.wire)
		if opaque != tt.opaque || weak != tt.weak {
			t.Errorf("etagFromWire(%q) = %q, %v; want %q, %v", tt.wire, opaque, weak, tt.opaque, tt.weak)
		}
		if back := etagToWire(opaque); back != tt.back {
			t.Errorf("etagToWire(%q) = %q, want %q", opaque, back, tt.back)
		}
	}
}

func TestObjectName(t *testing.T) {
	c, err := NewClient("https://cloud.example.org/remote.php/dav/calendars/u/", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		href string
		name string
		ok   bool
	}{
		{"/remote.php/dav/calendars/u/salle-loire/a.ics", "a.ics", true},
		{"https://cloud.example.org/remote.php/dav/calendars/u/salle-loire/a.ics", "a.ics", true},
		{"/remote.php/dav/calendars/u/salle-loire/r%C3%A9union%201%2B1%40x.ics", "réunion 1+1@x.ics", true},
		{"/remote.php/dav/calendars/u/salle-loire/a%2Fb.ics", "a/b.ics", true},
		{"/nextcloud/remote.php/dav/calendars/u/salle-loire/a.ics", "a.ics", true}, // another base path behind a proxy
		{" /remote.php/dav/calendars/u/salle-loire/a.ics\n", "a.ics", true},
		{"/remote.php/dav/calendars/u/salle-loire/", "", false},
		{"/remote.php/dav/calendars/u/salle-loire", "", false},
		{"/remote.php/dav/calendars/u/salle-rhone/a.ics", "", false},
		{"/remote.php/dav/calendars/u/salle-loire/sub/a.ics", "", false},
		{"%zz", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		name, ok := c.objectName("salle-loire", tt.href)
		if name != tt.name || ok != tt.ok {
			t.Errorf("objectName(%q) = %q, %v; want %q, %v", tt.href, name, ok, tt.name, tt.ok)
		}
	}
}

func TestObjectURL(t *testing.T) {
	tests := []struct {
		home, cal, name, want string
	}{
		{"https://h/dav/calendars/u/", "salle-loire", "a.ics", "https://h/dav/calendars/u/salle-loire/a.ics"},
		{"https://h/dav/calendars/u", "salle loire", "réunion 1+1@x.ics", "https://h/dav/calendars/u/salle%20loire/r%C3%A9union%201+1@x.ics"},
		{"https://user:secret@h/dav/calendars/j%C3%B6rg/", "c", "a%41;b,c?.ics", "https://h/dav/calendars/j%C3%B6rg/c/a%2541%3Bb%2Cc%3F.ics"},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.home, ClientOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := c.objectURL(tt.cal, tt.name)
		if got != tt.want {
			t.Errorf("objectURL(%q, %q, %q) = %q, want %q", tt.home, tt.cal, tt.name, got, tt.want)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		if name, ok := c.objectName(tt.cal, u.EscapedPath()); !ok || name != tt.name {
			t.Errorf("objectName(objectURL) = %q, %v; want %q", name, ok, tt.name)
		}
	}
}

func TestCredentialsFromURL(t *testing.T) {
	c, err := NewClient("https://svc:app-pass@h/dav/calendars/svc/", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.user != "svc" || c.pass != "app-pass" || c.home.User != nil {
		t.Errorf("user %q pass %q home %v", c.user, c.pass, c.home)
	}
	c, err = NewClient("https://svc:app-pass@h/dav/", ClientOptions{Username: "other", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if c.user != "other" || c.pass != "p" {
		t.Errorf("options do not override URL credentials: %q %q", c.user, c.pass)
	}
}

func TestRestoreCRLF(t *testing.T) {
	tests := map[string]string{
		"A\nB\n":     "A\r\nB\r\n",
		"A\r\nB\r\n": "A\r\nB\r\n",
		"A\r\nB\nC":  "A\r\nB\r\nC",
		"\n":         "\r\n",
		"":           "",
	}
	for in, want := range tests {
		if got := string(restoreCRLF(in)); got != want {
			t.Errorf("restoreCRLF(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusCode(t *testing.T) {
	tests := map[string]int{
		"HTTP/1.1 404 Not Found": 404,
		" HTTP/1.1 200 OK ":      200,
		"HTTP/1.1 507":           507,
		"":                       0,
		"garbage":                0,
		"HTTP/1.1 abc":           0,
	}
	for in, want := range tests {
		if got := statusCode(in); got != want {
			t.Errorf("statusCode(%q) = %d, want %d", in, got, want)
		}
	}
}
