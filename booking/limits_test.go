package booking

import (
	"testing"
	"time"
)

func TestCleanText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Réunion d'équipe", "Réunion d'équipe"},
		{"tab and newline kept", "a\tb\nc", "a\tb\nc"},
		{"CR LF and CR", "a\r\nb\rc", "a\nb\nc"},
		{"NUL, BEL, DEL", "a\x00b\x07c\x7f", "abc"},
		{"right-to-left override", "facture\u202efdp.exe", "facturefdp.exe"},
		{"every bidi control", "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069x", "x"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"other format characters kept", "a\u200db", "a\u200db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanText(tt.in); got != tt.want {
				t.Fatalf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckDateRange(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	plus1 := time.FixedZone("+01:00", 3600)
	tests := []struct {
		name       string
		start, end time.Time
		ok         bool
	}{
		{"next week", now.AddDate(0, 0, 7), now.AddDate(0, 0, 7).Add(time.Hour), true},
		{"five years ahead", now.AddDate(5, 0, -1), now.AddDate(5, 0, 0), true},
		{"ends past five years", now.AddDate(5, 0, 0), now.AddDate(5, 0, 0).Add(time.Minute), false},
		{"year 9999", time.Date(9999, 12, 31, 9, 0, 0, 0, plus1), time.Date(9999, 12, 31, 10, 0, 0, 0, plus1), false},
		{"year 1 with an offset", time.Date(1, 1, 1, 0, 0, 0, 0, plus1), now, false},
		{"1999", time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC), now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDateRange(tt.start, tt.end, now)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckDateRange: %v, want ok=%v", err, tt.ok)
			}
			if re, isRule := err.(*RuleError); err != nil && (!isRule || re.Rule != RuleDateRange) {
				t.Fatalf("error %v is not a date_range rule error", err)
			}
		})
	}
}
