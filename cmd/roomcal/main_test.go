package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomcal/roomcal/internal/config"
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
		{[]string{"check"}, 1, []string{"built-in demo", "FAIL room nantes-loire", "run `roomcal rooms sync`", "Redis: in-process"}},
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
