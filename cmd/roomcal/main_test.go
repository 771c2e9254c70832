package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestCommandsOnTheEmbeddedStore: check reports the missing room calendars
// in plain words, rooms sync creates them, check is then happy, and a
// second sync has nothing to do.
func TestCommandsOnTheEmbeddedStore(t *testing.T) {
	dir := t.TempDir()
	env := config.MapEnv(map[string]string{
		"ROOMCAL_DATA_DIR": filepath.Join(dir, "data"),
		"ROOMCAL_CONFIG":   "",
	})
	steps := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"check"}, 1, []string{"built-in demo", "mail: no ROOMCAL_SMTP_URL", "FAIL room nantes-loire", "run `roomcal rooms sync`", "Redis: embedded engine"}},
		{[]string{"rooms", "sync"}, 0, []string{`created calendar "nantes-loire" for room nantes-loire`}},
		{[]string{"check"}, 0, []string{"ok   every room has its calendar"}},
		{[]string{"rooms", "sync"}, 0, []string{"every room already has its calendar"}},
		{[]string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
	}
	for _, st := range steps {
		var out, errs bytes.Buffer
		code := run(context.Background(), st.args, env, &out, &errs)
		if code != st.code {
			t.Fatalf("roomcal %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, code, st.code, out.String(), errs.String())
		}
		for _, w := range st.want {
			if !strings.Contains(out.String()+errs.String(), w) {
				t.Errorf("roomcal %v: output lacks %q:\n%s%s", st.args, w, out.String(), errs.String())
			}
		}
	}
}

// TestBadConfigNamesKeyAndLine: a wrong roomcal.yaml stops every command
// with the file, the line and the key.
func TestBadConfigNamesKeyAndLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "roomcal.yaml")
	yaml := "sites:\n  - id: nantes\n    name: Nantes\n    timezone: Europe/Paris\n    rooms:\n      - id: loire\n        name: Loire\n        capacity: douze\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := config.MapEnv(map[string]string{"ROOMCAL_CONFIG": path, "ROOMCAL_DATA_DIR": filepath.Join(dir, "data")})
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"check"}, env, &out, &errs); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if msg := errs.String(); !strings.Contains(msg, "roomcal.yaml:8") || !strings.Contains(msg, "capacity") {
		t.Errorf("error does not name the line and key: %s", msg)
	}
}

// TestServeAndShutdown: serve on the embedded defaults answers /readyz
// and the rooms, creates the room calendars itself, and stops cleanly
// (exit 0) when its context ends, as on SIGTERM.
func TestServeAndShutdown(t *testing.T) {
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	env := config.MapEnv(map[string]string{"ROOMCAL_ADDR": addr, "ROOMCAL_DATA_DIR": filepath.Join(dir, "data")})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, env, &out, &errs) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready: %v\n%s", err, errs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/rooms", nil)
	req.Header.Set("X-Remote-User", "amina")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("rooms: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := os.Stat(filepath.Join(dir, "data", "nantes-loire")); err != nil {
		t.Errorf("serve did not create the room calendars of the embedded store: %v", err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of its context ending")
	}
	if !strings.Contains(errs.String(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", errs.String())
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still answering after shutdown")
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDevModeRefusedWithRealCalendars: dev mode (anyone says who they
// are) does not start against a real CalDAV server unless forced.
func TestDevModeRefusedWithRealCalendars(t *testing.T) {
	env := config.MapEnv(map[string]string{
		"ROOMCAL_CALDAV_URL": "http://127.0.0.1:1/remote.php/dav/calendars/roomcal/",
		"ROOMCAL_ADDR":       fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
	})
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, env, &out, &errs); code == 0 || !strings.Contains(errs.String(), "ROOMCAL_AUTH_DEV_FORCE") {
		t.Fatalf("dev mode with a real CalDAV server: exit %d\n%s", code, errs.String())
	}
}
