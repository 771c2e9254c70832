package caldav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// fsInternalStore opens a FileStore with inside options, closed at the
// end of the test, with one calendar "c".
func fsInternalStore(t *testing.T, dir string, opts FileStoreOptions) *FileStore {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	s, err := OpenFileStoreWithOptions(dir, opts)
	if err != nil {
		t.Fatalf("OpenFileStore: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.CreateCalendar(context.Background(), "c", "C"); err != nil && !errors.Is(err, ErrExists) {
		t.Fatalf("CreateCalendar: %v", err)
	}
	return s
}

func fsInternalEvent(uid, summary string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nSUMMARY:" + summary + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
}

func fsLogLines(t *testing.T, s *FileStore) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(s.Dir(), "c", fsLogFile))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(raw, []byte("\n"))
}

// The change log is rewritten when superseded lines pile up; nothing
// remembered is lost, so old tokens keep working, before and after a
// restart.
func TestFileStoreChangeLogCompaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := FileStoreOptions{compactMinLines: 8}
	s := fsInternalStore(t, dir, opts)
	etag, err := s.Create(ctx, "c", "a.ics", fsInternalEvent("a", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "c", "gone.ics", fsInternalEvent("gone", "0")); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Changes(ctx, "c", "")
	if err != nil {
		t.Fatal(err)
	}
	token := ch.Token
	if err := s.Delete(ctx, "c", "gone.ics", ""); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if etag, err = s.Update(ctx, "c", "a.ics", fsInternalEvent("a", fmt.Sprint(i+1)), etag); err != nil {
			t.Fatal(err)
		}
	}
	// 1 header + 23 changes written; a rewrite keeps one line per name.
	if n := fsLogLines(t, s); n > 8 {
		t.Errorf("change log has %d lines after 23 changes to 2 names, want it compacted", n)
	}
	check := func(s *FileStore) {
		t.Helper()
		got, err := s.Changes(ctx, "c", token)
		if err != nil {
			t.Fatalf("Changes(old token): %v", err)
		}
		if len(got.Changed) != 1 || got.Changed[0] != (ObjectRef{Name: "a.ics", ETag: etag}) || len(got.Deleted) != 1 || got.Deleted[0] != "gone.ics" {
			t.Errorf("Changes(old token) = %+v, want a.ics %s changed and gone.ics deleted", got, etag)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = fsInternalStore(t, dir, opts)
	check(s)
	obj, err := s.Get(ctx, "c", "a.ics")
	if err != nil || obj.ETag != etag || !bytes.Equal(obj.Data, fsInternalEvent("a", "20")) {
		t.Errorf("Get after reopen = %+v, %v; want the last version with ETag %s", obj, err, etag)
	}
}

// A write whose change log record fails is reported as ErrUnavailable;
// the calendar is then read again from disk, where the object was
// already replaced: the change shows, under an ETag the failed writer
// never had.
func TestFileStoreFailedLogAppendReloads(t *testing.T) {
	ctx := context.Background()
	s := fsInternalStore(t, t.TempDir(), FileStoreOptions{})
	etag, err := s.Create(ctx, "c", "a.ics", fsInternalEvent("a", "v1"))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Changes(ctx, "c", "")
	if err != nil {
		t.Fatal(err)
	}
	c := s.cals["c"]
	c.mu.Lock()
	_ = c.st.log.Close() // the next append fails
	c.mu.Unlock()

	if _, err := s.Update(ctx, "c", "a.ics", fsInternalEvent("a", "v2"), etag); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Update with a broken change log: %v, want ErrUnavailable", err)
	}
	obj, err := s.Get(ctx, "c", "a.ics")
	if err != nil {
		t.Fatalf("Get after the failed write: %v", err)
	}
	if !bytes.Equal(obj.Data, fsInternalEvent("a", "v2")) || obj.ETag == etag {
		t.Errorf("Get after the failed write = %q %q, want v2 under a new ETag", obj.ETag, obj.Data)
	}
	got, err := s.Changes(ctx, "c", ch.Token)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	if len(got.Changed) != 1 || got.Changed[0].ETag != obj.ETag {
		t.Errorf("Changes after the failed write = %+v, want a.ics with ETag %s", got, obj.ETag)
	}
	if _, err := s.Update(ctx, "c", "a.ics", fsInternalEvent("a", "v3"), obj.ETag); err != nil {
		t.Errorf("Update after the reload: %v", err)
	}
}

func TestFileStoreParseObjectUID(t *testing.T) {
	tests := []struct {
		name, data, uid string
	}{
		{"event", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:abc@x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "abc@x"},
		{"folded UID", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:ab\r\n c\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "abc"},
		{"lower-case names", "begin:vcalendar\nbegin:vevent\nuid:low\nend:vevent\nend:vcalendar\n", "low"},
		{"UID of an alarm is not the object's", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:ev\r\nBEGIN:VALARM\r\nUID:alarm\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "ev"},
		{"byte order mark", "\uFEFFBEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:todo\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", "todo"},
		{"no events", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid, err := fsParseObject([]byte(tt.data))
			if err != nil || uid != tt.uid {
				t.Errorf("fsParseObject = %q, %v; want %q", uid, err, tt.uid)
			}
		})
	}
}
