package caldav_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/storetest"
)

// TestFileStoreConformance runs the Store conformance suite, the one the
// Client passes against Radicale, on a fresh data directory per subtest.
func TestFileStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) caldav.Store {
		return fsOpen(t, t.TempDir(), caldav.FileStoreOptions{})
	})
}

// fsOpen opens a FileStore on dir and closes it at the end of the test.
func fsOpen(t *testing.T, dir string, opts caldav.FileStoreOptions) *caldav.FileStore {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	s, err := caldav.OpenFileStoreWithOptions(dir, opts)
	if err != nil {
		t.Fatalf("OpenFileStore(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// fsReopen closes s (a restart) and opens its data directory again.
func fsReopen(t *testing.T, s *caldav.FileStore, opts caldav.FileStoreOptions) *caldav.FileStore {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return fsOpen(t, s.Dir(), opts)
}

// fsEvent is a small valid calendar object.
func fsEvent(uid, summary string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//roomcal//filestore test//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20250101T000000Z\r\n" +
		"DTSTART:20250601T090000Z\r\nDTEND:20250601T100000Z\r\nSUMMARY:" + summary + "\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n")
}

// fsNewCalendar creates a calendar in a fresh store and returns both.
func fsNewCalendar(t *testing.T, opts caldav.FileStoreOptions) (*caldav.FileStore, string) {
	t.Helper()
	s := fsOpen(t, t.TempDir(), opts)
	if err := s.CreateCalendar(context.Background(), "salle-loire", "Salle Loire"); err != nil {
		t.Fatalf("CreateCalendar: %v", err)
	}
	return s, "salle-loire"
}

func fsCreate(t *testing.T, s caldav.Store, cal, name string, data []byte) string {
	t.Helper()
	etag, err := s.Create(context.Background(), cal, name, data)
	if err != nil {
		t.Fatalf("Create %s/%s: %v", cal, name, err)
	}
	if etag == "" {
		t.Fatalf("Create %s/%s: empty ETag", cal, name)
	}
	return etag
}

func fsChanges(t *testing.T, s caldav.Store, cal, token string) caldav.Changes {
	t.Helper()
	ch, err := s.Changes(context.Background(), cal, token)
	if err != nil {
		t.Fatalf("Changes(%q): %v", token, err)
	}
	return ch
}

// fsWantChanges compares a delta with the names expected to be changed
// (with their ETags) and deleted.
func fsWantChanges(t *testing.T, got caldav.Changes, changed map[string]string, deleted []string) {
	t.Helper()
	if got.Full {
		t.Errorf("Changes: Full, want a delta")
	}
	gotChanged := map[string]string{}
	for _, r := range got.Changed {
		gotChanged[r.Name] = r.ETag
	}
	if fmt.Sprint(gotChanged) != fmt.Sprint(changed) {
		t.Errorf("Changed = %v, want %v", gotChanged, changed)
	}
	if !slices.Equal(got.Deleted, deleted) {
		t.Errorf("Deleted = %q, want %q", got.Deleted, deleted)
	}
}

func TestFileStoreReopenKeepsDataETagsAndTokens(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	ea := fsCreate(t, s, cal, "a.ics", fsEvent("a", "A"))
	eb := fsCreate(t, s, cal, "b.ics", fsEvent("b", "B"))
	fsCreate(t, s, cal, "c.ics", fsEvent("c", "C"))
	mid := fsChanges(t, s, cal, "").Token

	eb2, err := s.Update(ctx, cal, "b.ics", fsEvent("b", "B2"), eb)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.Delete(ctx, cal, "c.ics", ""); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	ed := fsCreate(t, s, cal, "d.ics", fsEvent("d", "D"))
	last := fsChanges(t, s, cal, "").Token

	s = fsReopen(t, s, caldav.FileStoreOptions{})

	cals, err := s.Calendars(ctx)
	if err != nil {
		t.Fatalf("Calendars: %v", err)
	}
	if want := []caldav.CalendarInfo{{Name: cal, DisplayName: "Salle Loire"}}; !slices.Equal(cals, want) {
		t.Errorf("Calendars = %v, want %v", cals, want)
	}
	for name, want := range map[string]struct {
		etag string
		data []byte
	}{
		"a.ics": {ea, fsEvent("a", "A")},
		"b.ics": {eb2, fsEvent("b", "B2")},
		"d.ics": {ed, fsEvent("d", "D")},
	} {
		obj, err := s.Get(ctx, cal, name)
		if err != nil {
			t.Fatalf("Get %s after reopen: %v", name, err)
		}
		if obj.ETag != want.etag || !bytes.Equal(obj.Data, want.data) {
			t.Errorf("Get %s after reopen = %q %q, want %q %q", name, obj.ETag, obj.Data, want.etag, want.data)
		}
	}
	if _, err := s.Get(ctx, cal, "c.ics"); !errors.Is(err, caldav.ErrNotFound) {
		t.Errorf("Get deleted c.ics after reopen: %v, want ErrNotFound", err)
	}

	// Tokens from before the restart still answer with the right delta.
	fsWantChanges(t, fsChanges(t, s, cal, mid), map[string]string{"b.ics": eb2, "d.ics": ed}, []string{"c.ics"})
	fsWantChanges(t, fsChanges(t, s, cal, last), map[string]string{}, nil)

	// And the history goes on from where it was.
	ee := fsCreate(t, s, cal, "e.ics", fsEvent("e", "E"))
	if ee == ea || ee == eb || ee == eb2 || ee == ed {
		t.Errorf("ETag %q after reopen repeats an earlier one", ee)
	}
	ch := fsChanges(t, s, cal, last)
	fsWantChanges(t, ch, map[string]string{"e.ics": ee}, nil)
	if ch.Token == last {
		t.Errorf("token did not move after a write: %q", ch.Token)
	}
	// The old ETag of b.ics is still refused after the restart.
	if _, err := s.Update(ctx, cal, "b.ics", fsEvent("b", "B3"), eb); !errors.Is(err, caldav.ErrPrecondition) {
		t.Errorf("Update with a stale ETag after reopen: %v, want ErrPrecondition", err)
	}
}

// TestFileStoreCrashLeftovers simulates what a crash at each step of a
// write leaves on disk, by editing the data directory of a closed store.
func TestFileStoreCrashLeftovers(t *testing.T) {
	ctx := context.Background()
	type before struct {
		s     *caldav.FileStore
		dir   string // the calendar's folder
		etag  string // of a.ics, holding fsEvent("a", "A")
		token string
	}
	tests := []struct {
		name  string
		crash func(t *testing.T, b before)
		check func(t *testing.T, s *caldav.FileStore, b before)
	}{{
		name: "temporary file of an interrupted write",
		crash: func(t *testing.T, b before) {
			fsWriteFile(t, filepath.Join(b.dir, ".tmp-123456"), []byte("BEGIN:VCALENDAR\r\nBEGIN:VEV"))
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			fsWantObjects(t, s, "salle-loire", map[string]string{"a.ics": b.etag})
			fsWantChanges(t, fsChanges(t, s, "salle-loire", b.token), map[string]string{}, nil)
			if _, err := os.Stat(filepath.Join(b.dir, ".tmp-123456")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("leftover temporary file still there after open: %v", err)
			}
		},
	}, {
		name: "temporary folder of an interrupted calendar creation",
		crash: func(t *testing.T, b before) {
			if err := os.MkdirAll(filepath.Join(filepath.Dir(b.dir), ".tmp-cal-99", "x"), 0o750); err != nil {
				t.Fatal(err)
			}
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			cals, err := s.Calendars(ctx)
			if err != nil {
				t.Fatalf("Calendars: %v", err)
			}
			if len(cals) != 1 || cals[0].Name != "salle-loire" {
				t.Errorf("Calendars = %v, want salle-loire only", cals)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(b.dir), ".tmp-cal-99")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("leftover temporary folder still there after open: %v", err)
			}
		},
	}, {
		name: "torn last line of the change log",
		crash: func(t *testing.T, b before) {
			fsAppendFile(t, filepath.Join(b.dir, ".changes.log"), []byte(`{"seq":9,"name":"zz.ic`))
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			fsWantObjects(t, s, "salle-loire", map[string]string{"a.ics": b.etag})
			fsWantChanges(t, fsChanges(t, s, "salle-loire", b.token), map[string]string{}, nil)
			// The log takes appends again.
			e := fsCreate(t, s, "salle-loire", "b.ics", fsEvent("b", "B"))
			s2 := fsReopen(t, s, caldav.FileStoreOptions{})
			fsWantChanges(t, fsChanges(t, s2, "salle-loire", b.token), map[string]string{"b.ics": e}, nil)
		},
	}, {
		name: "unterminated zeros at the end of the change log",
		crash: func(t *testing.T, b before) {
			fsAppendFile(t, filepath.Join(b.dir, ".changes.log"), make([]byte, 40))
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			fsWantObjects(t, s, "salle-loire", map[string]string{"a.ics": b.etag})
			fsWantChanges(t, fsChanges(t, s, "salle-loire", b.token), map[string]string{}, nil)
		},
	}, {
		// A complete line that does not parse is not a torn append: the
		// log is damaged, and rebuilt under a new epoch.
		name: "last line of the change log zeroed",
		crash: func(t *testing.T, b before) {
			fsAppendFile(t, filepath.Join(b.dir, ".changes.log"), append(make([]byte, 40), '\n'))
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			fsWantInvalidToken(t, s, "salle-loire", b.token)
			obj, err := s.Get(ctx, "salle-loire", "a.ics")
			if err != nil || !bytes.Equal(obj.Data, fsEvent("a", "A")) || obj.ETag == b.etag {
				t.Errorf("Get after the log was rebuilt = %q %q, %v; want the data kept under a new ETag", obj.ETag, obj.Data, err)
			}
		},
	}, {
		name: "object renamed into place, change log not written",
		crash: func(t *testing.T, b before) {
			fsWriteFile(t, filepath.Join(b.dir, "a.ics"), fsEvent("a", "A changed"))
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			obj, err := s.Get(ctx, "salle-loire", "a.ics")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(obj.Data, fsEvent("a", "A changed")) || obj.ETag == b.etag {
				t.Errorf("Get = %q %q, want the new data with a new ETag (old %q)", obj.ETag, obj.Data, b.etag)
			}
			fsWantChanges(t, fsChanges(t, s, "salle-loire", b.token), map[string]string{"a.ics": obj.ETag}, nil)
		},
	}, {
		name: "new object renamed into place, change log not written",
		crash: func(t *testing.T, b before) {
			fsWriteFile(t, filepath.Join(b.dir, "b.ics"), fsEvent("b", "B"))
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			obj, err := s.Get(ctx, "salle-loire", "b.ics")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			fsWantChanges(t, fsChanges(t, s, "salle-loire", b.token), map[string]string{"b.ics": obj.ETag}, nil)
			// Its UID is known: another object cannot take it.
			_, err = s.Create(ctx, "salle-loire", "other.ics", fsEvent("b", "dup"))
			if he := (*caldav.HTTPError)(nil); !errors.As(err, &he) || he.Status != http.StatusConflict {
				t.Errorf("Create with the UID of the recovered object: %v, want a 409 HTTPError", err)
			}
		},
	}, {
		name: "object removed, tombstone not written",
		crash: func(t *testing.T, b before) {
			if err := os.Remove(filepath.Join(b.dir, "a.ics")); err != nil {
				t.Fatal(err)
			}
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			fsWantObjects(t, s, "salle-loire", map[string]string{})
			fsWantChanges(t, fsChanges(t, s, "salle-loire", b.token), map[string]string{}, []string{"a.ics"})
		},
	}, {
		name: "change log lost",
		crash: func(t *testing.T, b before) {
			if err := os.Remove(filepath.Join(b.dir, ".changes.log")); err != nil {
				t.Fatal(err)
			}
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			fsWantInvalidToken(t, s, "salle-loire", b.token)
			ch := fsChanges(t, s, "salle-loire", "")
			if !ch.Full || len(ch.Changed) != 1 || ch.Changed[0].Name != "a.ics" || ch.Changed[0].ETag == b.etag {
				t.Errorf("full listing = %+v, want a.ics with a new ETag", ch)
			}
		},
	}, {
		name: "change log damaged in the middle",
		crash: func(t *testing.T, b before) {
			path := filepath.Join(b.dir, ".changes.log")
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitAfter(string(raw), "\n")
			lines[1] = "garbage\n"
			fsWriteFile(t, path, []byte(strings.Join(lines, "")))
		},
		check: func(t *testing.T, s *caldav.FileStore, b before) {
			fsWantInvalidToken(t, s, "salle-loire", b.token)
			obj, err := s.Get(ctx, "salle-loire", "a.ics")
			if err != nil || !bytes.Equal(obj.Data, fsEvent("a", "A")) {
				t.Errorf("Get after the log was rebuilt = %q, %v; want the data kept", obj.Data, err)
			}
			kept, _ := filepath.Glob(filepath.Join(b.dir, ".changes.log.damaged-*"))
			if len(kept) != 1 {
				t.Errorf("damaged log kept aside as %q, want one file", kept)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
			b := before{s: s, dir: filepath.Join(s.Dir(), cal)}
			b.etag = fsCreate(t, s, cal, "a.ics", fsEvent("a", "A"))
			b.token = fsChanges(t, s, cal, "").Token
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			tt.crash(t, b)
			tt.check(t, fsOpen(t, s.Dir(), caldav.FileStoreOptions{}), b)
		})
	}
}

func fsWriteFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func fsAppendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// fsWantObjects checks that Query lists exactly the given objects (name
// to ETag).
func fsWantObjects(t *testing.T, s caldav.Store, cal string, want map[string]string) {
	t.Helper()
	objs, err := s.Query(context.Background(), cal, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	got := map[string]string{}
	for _, o := range objs {
		got[o.Name] = o.ETag
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("objects = %v, want %v", got, want)
	}
}

func fsWantInvalidToken(t *testing.T, s caldav.Store, cal, token string) {
	t.Helper()
	ch, err := s.Changes(context.Background(), cal, token)
	if !errors.Is(err, caldav.ErrInvalidSyncToken) {
		t.Errorf("Changes(%q) = %+v, %v; want ErrInvalidSyncToken", token, ch, err)
	}
}

func TestFileStoreRejectsInvalidNames(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	etag := fsCreate(t, s, cal, "a.ics", fsEvent("a", "A"))
	badCalendars := []string{
		"", ".", "..", "../salle-loire", "a/b", `a\b`, "a..b", ".hidden", "a b", "é", "a\x00b", "a:b",
		strings.Repeat("x", 201),
	}
	badObjects := []string{
		"", ".", "..", "a/b", "../salle-loire", "/etc/passwd", `a\b`, "a\x00b", "a\nb", "a\x7fb", "\xff.ics",
		strings.Repeat("x", 201), strings.Repeat("é", 40), // 80 bytes, 240 in its file name
	}
	ops := []struct {
		name string
		bad  []string
		call func(bad string) error
	}{
		{"CreateCalendar", badCalendars, func(n string) error { return s.CreateCalendar(ctx, n, "x") }},
		{"Get calendar", badCalendars, func(n string) error { _, err := s.Get(ctx, n, "a.ics"); return err }},
		{"Changes calendar", badCalendars, func(n string) error { _, err := s.Changes(ctx, n, ""); return err }},
		{"Query calendar", badCalendars, func(n string) error { _, err := s.Query(ctx, n, time.Now(), time.Now().Add(time.Hour)); return err }},
		{"Create calendar", badCalendars, func(n string) error { _, err := s.Create(ctx, n, "b.ics", fsEvent("b", "B")); return err }},
		{"Create object", badObjects, func(n string) error { _, err := s.Create(ctx, cal, n, fsEvent("b", "B")); return err }},
		{"Update object", badObjects, func(n string) error { _, err := s.Update(ctx, cal, n, fsEvent("a", "A"), etag); return err }},
		{"Delete object", badObjects, func(n string) error { return s.Delete(ctx, cal, n, "") }},
		{"Get object", badObjects, func(n string) error { _, err := s.Get(ctx, cal, n); return err }},
		{"MultiGet object", badObjects, func(n string) error { _, err := s.MultiGet(ctx, cal, []string{"a.ics", n}); return err }},
	}
	for _, op := range ops {
		for _, name := range op.bad {
			t.Run(fmt.Sprintf("%s/%q", op.name, name), func(t *testing.T) {
				err := op.call(name)
				var ne *caldav.InvalidNameError
				if !errors.As(err, &ne) {
					t.Fatalf("error = %v, want an *InvalidNameError", err)
				}
				if ne.Name != name || !strings.Contains(err.Error(), "invalid") {
					t.Errorf("error %q does not name %q", err, name)
				}
			})
		}
	}
	// Nothing was written anywhere by the refused calls.
	fsWantObjects(t, s, cal, map[string]string{"a.ics": etag})
	entries, err := os.ReadDir(filepath.Dir(s.Dir()))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("the parent of the data directory holds %d entries, want only the data directory", len(entries))
	}
}

// Object names are what servers take; their files are safe names.
func TestFileStoreObjectNamesMapToSafeFiles(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	tests := []struct{ name, file string }{
		{"8f3c0f5e-2b7a-4f0e-9a57-0d6e3c2f1a9b.ics", "8f3c0f5e-2b7a-4f0e-9a57-0d6e3c2f1a9b.ics"},
		{"A-z_0.9@x+y~z.ics", "A-z_0.9@x+y~z.ics"},
		{"réunion 1+1@salle.ics", "r%C3%A9union%201+1@salle.ics"},
		{"a b,c;d=e.ics", "a%20b%2Cc%3Bd%3De.ics"},
		{"x%41.ics", "x%2541.ics"},
		{".hidden.ics", "%2Ehidden.ics"},
		{"..ics", "%2E.ics"},
		{"...", "%2E.."},
		{"a:b*c?d\"e<f>g|h", "a%3Ab%2Ac%3Fd%22e%3Cf%3Eg%7Ch"},
	}
	want := map[string]string{}
	for i, tt := range tests {
		data := fsEvent(fmt.Sprint("u", i), tt.name)
		want[tt.name] = fsCreate(t, s, cal, tt.name, data)
		raw, err := os.ReadFile(filepath.Join(s.Dir(), cal, tt.file))
		if err != nil || !bytes.Equal(raw, data) {
			t.Errorf("file %s of %q = %q, %v; want the object's data", tt.file, tt.name, raw, err)
		}
	}
	s = fsReopen(t, s, caldav.FileStoreOptions{})
	fsWantObjects(t, s, cal, want)
	for _, tt := range tests {
		if err := s.Delete(ctx, cal, tt.name, want[tt.name]); err != nil {
			t.Errorf("Delete(%q): %v", tt.name, err)
		}
	}
	files, err := os.ReadDir(filepath.Join(s.Dir(), cal))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Name(), ".") {
			t.Errorf("file %s left after deleting every object", f.Name())
		}
	}
}

func TestFileStoreTokenCompaction(t *testing.T) {
	ctx := context.Background()
	opts := caldav.FileStoreOptions{MaxTombstones: 2}
	s, cal := fsNewCalendar(t, opts)
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		fsCreate(t, s, cal, n+".ics", fsEvent(n, n))
	}
	old := fsChanges(t, s, cal, "").Token
	for _, n := range []string{"a", "b"} {
		if err := s.Delete(ctx, cal, n+".ics", ""); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	// Two tombstones are within the limit: the old token still works.
	fsWantChanges(t, fsChanges(t, s, cal, old), map[string]string{}, []string{"a.ics", "b.ics"})
	afterB := fsChanges(t, s, cal, "").Token

	// The third deletion goes over the limit: the older tombstones (a, b)
	// are forgotten, and so are the tokens from before them.
	if err := s.Delete(ctx, cal, "c.ics", ""); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	fsWantInvalidToken(t, s, cal, old)
	fsWantChanges(t, fsChanges(t, s, cal, afterB), map[string]string{}, []string{"c.ics"})
	full := fsChanges(t, s, cal, "")
	if len(full.Changed) != 2 || full.Changed[0].Name != "d.ics" || full.Changed[1].Name != "e.ics" {
		t.Errorf("full listing after compaction = %+v, want d.ics and e.ics", full.Changed)
	}

	// The same after a restart: the compaction point is on disk.
	s = fsReopen(t, s, opts)
	fsWantInvalidToken(t, s, cal, old)
	fsWantChanges(t, fsChanges(t, s, cal, afterB), map[string]string{}, []string{"c.ics"})
	ed := fsCreate(t, s, cal, "f.ics", fsEvent("f", "f"))
	fsWantChanges(t, fsChanges(t, s, cal, full.Token), map[string]string{"f.ics": ed}, nil)
}

func TestFileStoreInvalidTokens(t *testing.T) {
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	fsCreate(t, s, cal, "a.ics", fsEvent("a", "A"))
	token := fsChanges(t, s, cal, "").Token
	epoch, _, _ := strings.Cut(strings.TrimPrefix(token, "roomcal-fs:"), ":")
	if err := s.CreateCalendar(context.Background(), "other", ""); err != nil {
		t.Fatal(err)
	}
	otherToken := fsChanges(t, s, "other", "").Token
	for _, tok := range []string{
		"http://sabre.io/ns/sync/1",
		"roomcal-fs:",
		"roomcal-fs:" + epoch,
		"roomcal-fs:" + epoch + ":x",
		"roomcal-fs:" + epoch + ":-1",
		"roomcal-fs:" + epoch + ":2", // ahead of the calendar
		"roomcal-fs:0000000000000000:1",
		otherToken, // another calendar's history
	} {
		t.Run(tok, func(t *testing.T) { fsWantInvalidToken(t, s, cal, tok) })
	}
	if !strings.HasPrefix(token, "roomcal-fs:") || !strings.HasSuffix(token, ":1") {
		t.Errorf("token %q, want roomcal-fs:<epoch>:1 after one write", token)
	}
}

func TestFileStoreConcurrentWritersOnDifferentObjects(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	const n = 32
	etags := make([]string, n)
	run := func(step func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = step(i) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent writers: %v", err)
		}
	}
	name := func(i int) string { return fmt.Sprintf("o%02d.ics", i) }
	run(func(i int) (err error) {
		etags[i], err = s.Create(ctx, cal, name(i), fsEvent(name(i), "v1"))
		return err
	})
	start := fsChanges(t, s, cal, "").Token
	run(func(i int) (err error) {
		etags[i], err = s.Update(ctx, cal, name(i), fsEvent(name(i), "v2"), etags[i])
		return err
	})
	want := map[string]string{}
	for i := range n {
		want[name(i)] = etags[i]
	}
	fsWantChanges(t, fsChanges(t, s, cal, start), want, nil)
	fsWantObjects(t, s, cal, want)
	s = fsReopen(t, s, caldav.FileStoreOptions{})
	fsWantObjects(t, s, cal, want)
}

func TestFileStoreConcurrentConditionalWritesHaveOneWinner(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	fsCreate(t, s, cal, "a.ics", fsEvent("a", "v0"))
	const n = 16
	// Each case runs after the previous one; every writer holds the ETag
	// a.ics had before the race.
	tests := []struct {
		name  string
		write func(etag string, i int) error
	}{
		{"Create", func(_ string, i int) error {
			_, err := s.Create(ctx, cal, "new.ics", fsEvent("new", fmt.Sprint(i)))
			return err
		}},
		{"Update", func(etag string, i int) error {
			_, err := s.Update(ctx, cal, "a.ics", fsEvent("a", fmt.Sprint(i)), etag)
			return err
		}},
		{"Delete", func(etag string, _ int) error { return s.Delete(ctx, cal, "a.ics", etag) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, err := s.Get(ctx, cal, "a.ics")
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { errs[i] = tt.write(cur.ETag, i) })
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, caldav.ErrPrecondition) && !errors.Is(err, caldav.ErrNotFound):
					t.Errorf("loser's error %v matches neither ErrPrecondition nor ErrNotFound", err)
				}
			}
			if wins != 1 {
				t.Errorf("%d winners, want 1", wins)
			}
		})
	}
}

func TestFileStoreETagChangesOnEveryWrite(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	data := fsEvent("a", "same")
	seen := map[string]bool{}
	etag := fsCreate(t, s, cal, "a.ics", data)
	seen[etag] = true
	for range 3 {
		next, err := s.Update(ctx, cal, "a.ics", data, etag)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if seen[next] {
			t.Fatalf("Update with identical data gave ETag %q again", next)
		}
		seen[next] = true
		etag = next
	}
	// Delete and re-create with the same data: a new ETag too, so a writer
	// holding the old one cannot overwrite the new object.
	if err := s.Delete(ctx, cal, "a.ics", etag); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	again := fsCreate(t, s, cal, "a.ics", data)
	if seen[again] {
		t.Errorf("re-created object got an old ETag %q", again)
	}
	if _, err := s.Update(ctx, cal, "a.ics", data, etag); !errors.Is(err, caldav.ErrPrecondition) {
		t.Errorf("Update with the ETag of the deleted version: %v, want ErrPrecondition", err)
	}
}

func TestFileStoreErrorsMatchTheSentinels(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	etag := fsCreate(t, s, cal, "a.ics", fsEvent("a", "A"))
	stale := etag
	etag, err := s.Update(ctx, cal, "a.ics", fsEvent("a", "A2"), etag)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want []error
	}{
		{"CreateCalendar twice", func() error { return s.CreateCalendar(ctx, cal, "again") }, []error{caldav.ErrExists}},
		{"Create existing", func() error { _, err := s.Create(ctx, cal, "a.ics", fsEvent("a", "x")); return err }, []error{caldav.ErrPrecondition}},
		{"Update stale", func() error { _, err := s.Update(ctx, cal, "a.ics", fsEvent("a", "x"), stale); return err }, []error{caldav.ErrPrecondition}},
		{"Update missing", func() error { _, err := s.Update(ctx, cal, "zz.ics", fsEvent("zz", "x"), etag); return err }, []error{caldav.ErrNotFound, caldav.ErrPrecondition}},
		{"Delete stale", func() error { return s.Delete(ctx, cal, "a.ics", stale) }, []error{caldav.ErrPrecondition}},
		{"Delete missing", func() error { return s.Delete(ctx, cal, "zz.ics", "") }, []error{caldav.ErrNotFound}},
		{"Delete missing with etag", func() error { return s.Delete(ctx, cal, "zz.ics", etag) }, []error{caldav.ErrNotFound}},
		{"Get missing", func() error { _, err := s.Get(ctx, cal, "zz.ics"); return err }, []error{caldav.ErrNotFound}},
		{"Get missing calendar", func() error { _, err := s.Get(ctx, "nope", "a.ics"); return err }, []error{caldav.ErrNotFound}},
		{"MultiGet missing calendar", func() error { _, err := s.MultiGet(ctx, "nope", []string{"a.ics"}); return err }, []error{caldav.ErrNotFound}},
		{"Query missing calendar", func() error { _, err := s.Query(ctx, "nope", time.Now(), time.Now()); return err }, []error{caldav.ErrNotFound}},
		{"Create missing calendar", func() error { _, err := s.Create(ctx, "nope", "a.ics", fsEvent("a", "x")); return err }, []error{caldav.ErrNotFound}},
		{"Update missing calendar", func() error { _, err := s.Update(ctx, "nope", "a.ics", fsEvent("a", "x"), etag); return err }, []error{caldav.ErrNotFound}},
		{"Delete missing calendar", func() error { return s.Delete(ctx, "nope", "a.ics", "") }, []error{caldav.ErrNotFound}},
		{"Changes missing calendar", func() error { _, err := s.Changes(ctx, "nope", ""); return err }, []error{caldav.ErrNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("error %v, want one matching %v", err, want)
				}
			}
		})
	}
	// The refused calls changed nothing.
	fsWantObjects(t, s, cal, map[string]string{"a.ics": etag})
	if _, err := s.Update(ctx, cal, "a.ics", fsEvent("a", "x"), ""); err == nil || errors.Is(err, caldav.ErrPrecondition) {
		t.Errorf("Update with an empty ETag: %v, want a plain error (a caller's mistake)", err)
	}
}

func TestFileStoreRefusesWhatServersRefuse(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	etag := fsCreate(t, s, cal, "a.ics", fsEvent("a", "A"))
	token := fsChanges(t, s, cal, "").Token
	ev := func(body string) []byte {
		return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + body + "END:VCALENDAR\r\n")
	}
	tests := []struct {
		name   string
		data   []byte
		status int
	}{
		{"empty", nil, http.StatusBadRequest},
		{"not iCalendar", []byte("hello world\n"), http.StatusBadRequest},
		{"not UTF-8", ev("BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:\xff\r\nEND:VEVENT\r\n"), http.StatusBadRequest},
		{"VEVENT at top level", []byte("BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n"), http.StatusBadRequest},
		{"two VCALENDARs", append(fsEvent("x", "1"), fsEvent("x", "2")...), http.StatusBadRequest},
		{"unclosed", []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n"), http.StatusBadRequest},
		{"mismatched END", ev("BEGIN:VEVENT\r\nUID:x\r\nEND:VTODO\r\n"), http.StatusBadRequest},
		{"no UID", ev("BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n"), http.StatusBadRequest},
		{"two UIDs", ev("BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:y\r\nEND:VEVENT\r\n"), http.StatusBadRequest},
		{"VEVENT and VTODO", ev("BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\n"), http.StatusBadRequest},
		{"line without colon", ev("BEGIN:VEVENT\r\nUID:x\r\nSUMMARY;LANGUAGE=fr\r\nEND:VEVENT\r\n"), http.StatusBadRequest},
		{"UID of another object", fsEvent("a", "dup"), http.StatusConflict},
		{"over 10 MiB", ev("BEGIN:VEVENT\r\nUID:big\r\nDESCRIPTION:" + strings.Repeat("x", 10<<20) + "\r\nEND:VEVENT\r\n"), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(ctx, cal, "new.ics", tt.data)
			var he *caldav.HTTPError
			if !errors.As(err, &he) || he.Status != tt.status {
				t.Fatalf("Create: %v, want an HTTPError %d", err, tt.status)
			}
			if errors.Is(err, caldav.ErrPrecondition) || errors.Is(err, caldav.ErrNotFound) || errors.Is(err, caldav.ErrUnavailable) {
				t.Errorf("Create: %v matches a sentinel error", err)
			}
			if tt.status == http.StatusConflict {
				return // a.ics may keep its own UID
			}
			if _, err := s.Update(ctx, cal, "a.ics", tt.data, etag); !errors.As(err, &he) || he.Status != tt.status {
				t.Errorf("Update: %v, want an HTTPError %d", err, tt.status)
			}
		})
	}
	fsWantObjects(t, s, cal, map[string]string{"a.ics": etag})
	fsWantChanges(t, fsChanges(t, s, cal, token), map[string]string{}, nil)

	// What a server accepts: folded lines, LF line ends, quoted colons in
	// parameters, a VTIMEZONE, overrides of one UID, a calendar without
	// events, and an object keeping its own UID on Update.
	for name, data := range map[string]string{
		"folded.ics":   "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUI\r\n D:folded\r\nSUMMARY:a long\r\n\t line\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"lf.ics":       "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:lf\nEND:VEVENT\nEND:VCALENDAR\n",
		"quoted.ics":   "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:quoted\r\nATTENDEE;CN=\"a:b\";SCHEDULE-AGENT=CLIENT:mailto:a@b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"tz.ics":       "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:tz\r\nEND:VEVENT\r\nEND:VCALENDAR",
		"override.ics": "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:ov\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:ov\r\nRECURRENCE-ID:20250102T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"empty.ics":    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
	} {
		if _, err := s.Create(ctx, cal, name, []byte(data)); err != nil {
			t.Errorf("Create %s: %v", name, err)
		}
	}
	if _, err := s.Update(ctx, cal, "a.ics", fsEvent("a", "A2"), etag); err != nil {
		t.Errorf("Update keeping the UID: %v", err)
	}
	// A deleted object's UID is free again.
	obj, err := s.Get(ctx, cal, "a.ics")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, cal, "a.ics", obj.ETag); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, cal, "a2.ics", fsEvent("a", "reused")); err != nil {
		t.Errorf("Create with the UID of a deleted object: %v", err)
	}
}

// Deltas list every name whose last change is after the token, as
// Radicale and Nextcloud do: an object created and deleted since is
// reported deleted, one deleted and created again changed.
func TestFileStoreChangesReportEveryNameChangedSinceTheToken(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	fsCreate(t, s, cal, "kept.ics", fsEvent("kept", "k"))
	fsCreate(t, s, cal, "old.ics", fsEvent("old", "o"))
	token := fsChanges(t, s, cal, "").Token

	fsCreate(t, s, cal, "brief.ics", fsEvent("brief", "b"))
	if err := s.Delete(ctx, cal, "brief.ics", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, cal, "old.ics", ""); err != nil {
		t.Fatal(err)
	}
	eOld := fsCreate(t, s, cal, "old.ics", fsEvent("old", "o2"))
	fsWantChanges(t, fsChanges(t, s, cal, token), map[string]string{"old.ics": eOld}, []string{"brief.ics"})

	if err := s.Delete(ctx, cal, "old.ics", ""); err != nil {
		t.Fatal(err)
	}
	fsWantChanges(t, fsChanges(t, s, cal, token), map[string]string{}, []string{"brief.ics", "old.ics"})
}

func TestFileStoreCancelledContext(t *testing.T) {
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	etag := fsCreate(t, s, cal, "a.ics", fsEvent("a", "A"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"Calendars", func() error { _, err := s.Calendars(ctx); return err }},
		{"CreateCalendar", func() error { return s.CreateCalendar(ctx, "new", "") }},
		{"Get", func() error { _, err := s.Get(ctx, cal, "a.ics"); return err }},
		{"MultiGet", func() error { _, err := s.MultiGet(ctx, cal, []string{"a.ics"}); return err }},
		{"Query", func() error { _, err := s.Query(ctx, cal, time.Now(), time.Now().Add(time.Hour)); return err }},
		{"Create", func() error { _, err := s.Create(ctx, cal, "b.ics", fsEvent("b", "B")); return err }},
		{"Update", func() error { _, err := s.Update(ctx, cal, "a.ics", fsEvent("a", "A2"), etag); return err }},
		{"Delete", func() error { return s.Delete(ctx, cal, "a.ics", etag) }},
		{"Changes", func() error { _, err := s.Changes(ctx, cal, ""); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
		})
	}
	fsWantObjects(t, s, cal, map[string]string{"a.ics": etag})
	cals, err := s.Calendars(context.Background())
	if err != nil || len(cals) != 1 {
		t.Errorf("Calendars = %v, %v; want the one calendar", cals, err)
	}
}

func TestFileStoreReadsAreCopies(t *testing.T) {
	ctx := context.Background()
	s, cal := fsNewCalendar(t, caldav.FileStoreOptions{})
	data := fsEvent("a", "A")
	fsCreate(t, s, cal, "a.ics", data)
	data[0] = 'X' // the caller reuses its buffer
	reads := []struct {
		name string
		read func() ([]caldav.Object, error)
	}{
		{"Get", func() ([]caldav.Object, error) { o, err := s.Get(ctx, cal, "a.ics"); return []caldav.Object{o}, err }},
		{"MultiGet", func() ([]caldav.Object, error) {
			return s.MultiGet(ctx, cal, []string{"a.ics", "missing.ics", "a.ics"})
		}},
		{"Query", func() ([]caldav.Object, error) { return s.Query(ctx, cal, time.Now(), time.Now().Add(time.Hour)) }},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			objs, err := r.read()
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != 1 || !bytes.Equal(objs[0].Data, fsEvent("a", "A")) {
				t.Fatalf("read %d objects %q, want a.ics as written", len(objs), objs)
			}
			objs[0].Data[0] = 'Y' // must not reach the store
		})
	}
}

func TestFileStoreDataDirectory(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s := fsOpen(t, dir, caldav.FileStoreOptions{})
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on a fresh directory: %v", err)
	}
	if _, err := caldav.OpenFileStore(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second OpenFileStore on a directory in use: %v, want an error saying so", err)
	}
	if err := s.CreateCalendar(ctx, "c1", "Un"); err != nil {
		t.Fatal(err)
	}
	fsCreate(t, s, "c1", "a.ics", fsEvent("a", "A"))
	// The layout: a folder per calendar, a file per object, as written.
	raw, err := os.ReadFile(filepath.Join(dir, "c1", "a.ics"))
	if err != nil || !bytes.Equal(raw, fsEvent("a", "A")) {
		t.Errorf("object file = %q, %v; want the data as written", raw, err)
	}
	for _, f := range []string{".calendar.json", ".changes.log"} {
		if _, err := os.Stat(filepath.Join(dir, "c1", f)); err != nil {
			t.Errorf("calendar file %s: %v", f, err)
		}
	}
	// A folder put there by hand is a calendar, and its files objects.
	if err := os.MkdirAll(filepath.Join(dir, "by-hand"), 0o750); err != nil {
		t.Fatal(err)
	}
	fsWriteFile(t, filepath.Join(dir, "by-hand", "h.ics"), fsEvent("h", "H"))
	if err := os.MkdirAll(filepath.Join(dir, "bad-meta"), 0o750); err != nil {
		t.Fatal(err)
	}
	fsWriteFile(t, filepath.Join(dir, "bad-meta", ".calendar.json"), []byte(`{"displayName": "trunc`))
	cals, err := s.Calendars(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []caldav.CalendarInfo{{Name: "bad-meta"}, {Name: "by-hand"}, {Name: "c1", DisplayName: "Un"}}; !slices.Equal(cals, want) {
		t.Errorf("Calendars = %v, want %v", cals, want)
	}
	// Files whose names the store would not write are not objects.
	fsWriteFile(t, filepath.Join(dir, "by-hand", "not encoded.ics"), fsEvent("x", "X"))
	fsWriteFile(t, filepath.Join(dir, "by-hand", "bad%zz.ics"), fsEvent("y", "Y"))
	fsWriteFile(t, filepath.Join(dir, "by-hand", "lower%c3%a9.ics"), fsEvent("z", "Z"))
	if ch := fsChanges(t, s, "by-hand", ""); len(ch.Changed) != 1 || ch.Changed[0].Name != "h.ics" {
		t.Errorf("Changes of the hand-made calendar = %+v, want h.ics", ch)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, caldav.ErrUnavailable) {
		t.Errorf("Ping after Close: %v, want ErrUnavailable", err)
	}
	if _, err := s.Get(ctx, "c1", "a.ics"); !errors.Is(err, caldav.ErrUnavailable) {
		t.Errorf("Get after Close: %v, want ErrUnavailable", err)
	}
	// Closed, the directory can be opened again.
	s2 := fsOpen(t, dir, caldav.FileStoreOptions{})
	if _, err := s2.Get(ctx, "c1", "a.ics"); err != nil {
		t.Errorf("Get after reopening: %v", err)
	}
}
