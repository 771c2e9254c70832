package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// This file holds the parsers of single values (durations, clock times,
// days, dates, ids). They return plain error messages, without key or
// line: the caller knows where the value came from and adds that.

// dayUnits matches a number followed by d (day) or w (week), which
// time.ParseDuration does not know.
var dayUnits = regexp.MustCompile(`([0-9]*\.?[0-9]+)([dw])`)

// parseDuration reads a non-negative duration: a Go duration ("90m",
// "1h30m") that may also use d (24h) and w (7d), "0", or "none" (zero).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "0", "none":
		return 0, nil
	case "":
		return 0, fmt.Errorf("must be a duration like 15m, 4h, 90d or 2w, got nothing")
	}
	expanded := dayUnits.ReplaceAllStringFunc(s, func(m string) string {
		sub := dayUnits.FindStringSubmatch(m)
		n, _ := strconv.ParseFloat(sub[1], 64) // the pattern admits only numbers
		hours := n * 24
		if sub[2] == "w" {
			hours *= 7
		}
		return strconv.FormatFloat(hours, 'f', -1, 64) + "h"
	})
	d, err := time.ParseDuration(expanded)
	if err != nil {
		if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
			return 0, fmt.Errorf("needs a unit (s, m, h, d or w), like 15m or 4h, got %q", s)
		}
		return 0, fmt.Errorf("must be a duration like 15m, 4h, 90d or 2w, got %q", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("must not be negative, got %q", s)
	}
	return d, nil
}

// formatDuration writes d the way the file would: in days or weeks when it
// is a whole number of them.
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == 0:
		return "0"
	case d%(7*day) == 0:
		return fmt.Sprintf("%dw", d/(7*day))
	case d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// parseClock reads a wall-clock time: "8:00", "08:30", "8h", "8h30" or,
// when end is true, "24:00" (the midnight that ends the day).
func parseClock(s string, end bool) (booking.ClockTime, error) {
	s = strings.TrimSpace(s)
	hs, ms, ok := strings.Cut(s, ":")
	if !ok {
		hs, ms, ok = strings.Cut(strings.ToLower(s), "h")
		if ok && ms == "" {
			ms = "00"
		}
	}
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 || !allDigits(hs) || !allDigits(ms) {
		return 0, fmt.Errorf("%q is not a time like 08:00 or 18:30", s)
	}
	h, _ := strconv.Atoi(hs)
	m, _ := strconv.Atoi(ms)
	switch {
	case m > 59, h > 24, h == 24 && m != 0:
		return 0, fmt.Errorf("%q is not a time of day (00:00 to 24:00)", s)
	case h == 24 && !end:
		return 0, fmt.Errorf("%q can only end a range (a range may start at 00:00)", s)
	}
	return booking.Clock(h, m), nil
}

// parseRange reads "08:00-12:00".
func parseRange(s string) (booking.TimeRange, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return booking.TimeRange{}, fmt.Errorf("%q is not a range like 08:00-20:00", strings.TrimSpace(s))
	}
	f, err := parseClock(from, false)
	if err != nil {
		return booking.TimeRange{}, err
	}
	t, err := parseClock(to, true)
	if err != nil {
		return booking.TimeRange{}, err
	}
	if f >= t {
		return booking.TimeRange{}, fmt.Errorf("%q must end after it starts (a range cannot cross midnight: split it into ...-24:00 and 00:00-... on the next day)", strings.TrimSpace(s))
	}
	return booking.TimeRange{From: f, To: t}, nil
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseDay(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range dayNames {
		if s == n {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// parseDays reads a key of an hours mapping: "mon", "mon-fri" (a range,
// Monday first; "sat-mon" wraps over the weekend), or several of those
// separated by commas ("mon,wed" or "mon-wed, fri").
func parseDays(key string) ([]time.Weekday, error) {
	var days []time.Weekday
	for part := range strings.SplitSeq(key, ",") {
		a, b, isRange := strings.Cut(part, "-")
		first, ok := parseDay(a)
		if !ok {
			return nil, fmt.Errorf("unknown day %q: use mon, tue, wed, thu, fri, sat, sun, or a range like mon-fri", strings.TrimSpace(a))
		}
		if !isRange {
			days = append(days, first)
			continue
		}
		last, ok := parseDay(b)
		if !ok {
			return nil, fmt.Errorf("unknown day %q: use mon, tue, wed, thu, fri, sat, sun, or a range like mon-fri", strings.TrimSpace(b))
		}
		for d := first; ; d = (d + 1) % 7 {
			days = append(days, d)
			if d == last {
				break
			}
		}
	}
	return days, nil
}

// parseDate reads a day written 2026-12-24.
func parseDate(s string) (booking.Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return booking.Date{}, fmt.Errorf("must be a date like 2026-12-24, got %q", s)
	}
	return booking.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

func dateBefore(a, b booking.Date) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	if a.Month != b.Month {
		return a.Month < b.Month
	}
	return a.Day < b.Day
}

// checkID reports whether s is usable as a site or room id: it appears in
// URLs, feeds and Redis keys.
func checkID(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("required (a short name made of a-z, 0-9 and \"-\", like \"nantes-loire\")")
	case len(s) > 64:
		return fmt.Errorf("must be at most 64 characters, got %d", len(s))
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			hint := ""
			if slug := slugify(s); slug != "" {
				hint = fmt.Sprintf(" (for example %q)", slug)
			}
			return fmt.Errorf("must use only a-z, 0-9 and \"-\"%s, got %q", hint, s)
		}
	}
	return nil
}

// checkCalendar reports whether s is a safe calendar name: one path
// segment below the CalDAV home, nothing a URL or a file name would read
// differently.
func checkCalendar(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case s == "." || s == "..":
		return fmt.Errorf("must be a plain name, got %q", s)
	case strings.HasPrefix(s, "."):
		return fmt.Errorf("must not start with \".\", got %q", s)
	case len(s) > 100:
		return fmt.Errorf("must be at most 100 characters, got %d", len(s))
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_' && r != '.' {
			return fmt.Errorf("must be one path segment made of letters, digits, \"-\", \"_\" and \".\" (no \"/\"), got %q", s)
		}
	}
	return nil
}

var accents = strings.NewReplacer(
	"à", "a", "â", "a", "ä", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ÿ", "y",
	"œ", "oe", "æ", "ae",
)

// slugify suggests an id for a wrong one: "Salle Loire" → "salle-loire".
func slugify(s string) string {
	s = accents.Replace(strings.ToLower(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// closest returns the candidate nearest to s when it is near enough to be a
// likely typo, or "".
func closest(s string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), c)
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := 2
	if len(s) <= 4 {
		limit = 1
	}
	if best != "" && bestDist <= limit {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
