package booking

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPreferencesChanges(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Preferences) error
		invalid bool
		check   func(Preferences) bool
	}{
		{"lang fr", func(p *Preferences) error { return p.SetLang("fr") }, false, func(p Preferences) bool { return p.Lang == "fr" }},
		{"lang cleared", func(p *Preferences) error { p.Lang = "en"; return p.SetLang("") }, false, func(p Preferences) bool { return p.Lang == "" }},
		{"lang unknown", func(p *Preferences) error { return p.SetLang("de") }, true, nil},
		{"notice on", func(p *Preferences) error { return p.SetNotice("reminders", true) }, false, func(p Preferences) bool { return p.Notice("reminders", false) }},
		{"notice off beats default", func(p *Preferences) error { return p.SetNotice("promoted", false) }, false, func(p Preferences) bool { return !p.Notice("promoted", true) }},
		{"notice default", func(*Preferences) error { return nil }, false, func(p Preferences) bool { return p.Notice("promoted", true) && !p.Notice("reminders", false) }},
		{"notice kind bad", func(p *Preferences) error { return p.SetNotice("Rappel!", true) }, true, nil},
		{"notice kinds bounded", func(p *Preferences) error {
			for i := range maxNoticeKinds + 1 {
				if err := p.SetNotice("k"+strings.Repeat("x", i%20)+fmt.Sprint(string(rune('a'+i%26)), string(rune('a'+i/26))), true); err != nil {
					return err
				}
			}
			return nil
		}, true, nil},
		{"dismiss once", func(p *Preferences) error {
			_ = p.Dismiss("promoted:ev_1")
			return p.Dismiss("promoted:ev_1")
		}, false, func(p Preferences) bool { return len(p.Dismissed) == 1 && p.HasDismissed("promoted:ev_1") }},
		{"dismiss bounded, oldest go", func(p *Preferences) error {
			for i := range MaxDismissed + 5 {
				if err := p.Dismiss(fmt.Sprintf("k%d", i)); err != nil {
					return err
				}
			}
			return nil
		}, false, func(p Preferences) bool {
			return len(p.Dismissed) == MaxDismissed && !p.HasDismissed("k0") && p.HasDismissed(fmt.Sprintf("k%d", MaxDismissed+4))
		}},
		{"dismiss empty", func(p *Preferences) error { return p.Dismiss("") }, true, nil},
		{"dismiss too long", func(p *Preferences) error { return p.Dismiss(strings.Repeat("x", maxDismissedKey+1)) }, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Preferences
			err := tt.change(&p)
			var ie *InvalidError
			if tt.invalid {
				if !errors.As(err, &ie) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want an InvalidError", err)
				}
				return
			}
			if err != nil || !tt.check(p) {
				t.Fatalf("err = %v, preferences %+v", err, p)
			}
		})
	}
}
