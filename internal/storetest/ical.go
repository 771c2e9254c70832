package storetest

import (
	"bytes"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Event returns a minimal iCalendar object holding one VEVENT: CRLF line
// ends, lines folded at 75 octets, UTC times, a fixed DTSTAMP. summary is
// escaped as TEXT; extra are raw content lines added to the VEVENT (for
// example "RRULE:FREQ=WEEKLY;COUNT=10"). It is plain text on purpose: the
// suite does not depend on the iCalendar code it serves.
func Event(uid, summary string, start, end time.Time, extra ...string) []byte {
	lines := []string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//roomcal//storetest//EN",
		"BEGIN:VEVENT",
		"UID:" + uid,
		"DTSTAMP:20250101T000000Z",
		"DTSTART:" + start.UTC().Format("20060102T150405Z"),
		"DTEND:" + end.UTC().Format("20060102T150405Z"),
		"SUMMARY:" + escapeText(summary),
	}
	lines = append(lines, extra...)
	lines = append(lines, "END:VEVENT", "END:VCALENDAR")
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(fold(l))
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// escapeText escapes an iCalendar TEXT value (RFC 5545 3.3.11).
func escapeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`).Replace(s)
}

// fold folds a content line at 75 octets without splitting a UTF-8
// sequence (RFC 5545 3.1).
func fold(line string) string {
	var b strings.Builder
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(line)
	return b.String()
}

// contentLines unfolds data and returns its content lines, sorted: two
// objects with the same lines are the same object, whatever the order of
// properties, line folding and line ends. Servers re-serialise what they
// store (Radicale reorders properties and folds lines its own way), so
// the suite compares objects this way and never byte for byte.
func contentLines(data []byte) []string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n ", "")
	s = strings.ReplaceAll(s, "\n\t", "")
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// hasBareLF says whether data has a line end other than CRLF.
func hasBareLF(data []byte) bool {
	for i, c := range data {
		if c == '\n' && (i == 0 || data[i-1] != '\r') {
			return true
		}
	}
	return false
}
