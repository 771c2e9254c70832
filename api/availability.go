package api

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

// GET /api/v1/availability answers {rooms: [{room, busy, free}], stale}.
//
// The query parameter fields lets a client ask for the parts it uses:
// busy (each busy interval's start, end and kind), titles (the busy
// intervals' titles; needs busy) and free (the bookable intervals),
// comma-separated or repeated. Without it the answer is the full one,
// as it always was (busy with titles, and free). A part not asked for is
// absent from each room's object.
//
// With Accept-Encoding: gzip the answer is gzip-compressed. An answer
// the booking service names with a Key is encoded (and compressed) once
// per key, field choice and encoding: a request for an answer already
// made costs neither encoding nor compression.

// availFields is a set of the parts of each room's answer.
type availFields uint8

const (
	fieldBusy availFields = 1 << iota
	fieldTitles
	fieldFree

	defaultFields = fieldBusy | fieldTitles | fieldFree
)

// availFieldNames are the values of the fields parameter, in the order
// openapi.json lists them (TestOpenAPIAvailabilityFields).
var availFieldNames = []struct {
	name string
	bit  availFields
}{{"busy", fieldBusy}, {"titles", fieldTitles}, {"free", fieldFree}}

const detailFields = "fields liste busy, titles ou free, séparés par des virgules ; titles demande busy. / " +
	"fields lists busy, titles or free, comma-separated; titles needs busy."

// parseFields reads the fields parameter (its values as given: repeated,
// each comma-separated). No value gives the full answer.
func parseFields(values []string) (availFields, error) {
	if len(values) == 0 {
		return defaultFields, nil
	}
	var f availFields
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			known := false
			for _, n := range availFieldNames {
				if item == n.name {
					f |= n.bit
					known = true
				}
			}
			if !known {
				return 0, invalid(detailFields)
			}
		}
	}
	if f&fieldTitles != 0 && f&fieldBusy == 0 {
		return 0, invalid(detailFields)
	}
	return f, nil
}

func (s *Server) availability(c *gin.Context) {
	from, err := parseTime("from", c.Query("from"))
	if err != nil {
		writeError(c, err)
		return
	}
	to, err := parseTime("to", c.Query("to"))
	if err != nil {
		writeError(c, err)
		return
	}
	fields, err := parseFields(c.QueryArray("fields"))
	if err != nil {
		writeError(c, err)
		return
	}
	a, err := s.opts.Bookings.Availability(c.Request.Context(), c.Query("site"), c.Query("room"), from, to)
	if err != nil {
		writeError(c, err)
		return
	}
	gz := acceptsGzip(c.Request.Header.Values("Accept-Encoding"))
	body := s.encoded.answer(a, fields, gz)
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Encoding")
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// acceptsGzip reports whether the Accept-Encoding values let the answer
// be gzip-compressed (RFC 9110, 12.5.3): gzip (or x-gzip) listed with a
// weight above zero, or, gzip not being named, "*" so listed. A weight
// that cannot be read counts as zero.
func acceptsGzip(values []string) bool {
	named, star := -1.0, -1.0
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
					continue
				}
				w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil || w < 0 || w > 1 {
					w = 0
				}
				q = w
			}
			switch coding = strings.ToLower(strings.TrimSpace(coding)); coding {
			case "gzip", "x-gzip":
				named = max(named, q)
			case "*":
				star = max(star, q)
			}
		}
	}
	if named >= 0 {
		return named > 0
	}
	return star > 0
}

// encodedMemo keeps the encoded bodies of reusable availability answers
// (those with a booking.Availability Key), by key, field choice and
// encoding, and counts how they are served (exported by /metrics). Two
// requests for a body not yet made wait for one encoding. It is a memo:
// past encodedMemoEntries bodies or encodedMemoBytes bytes it starts
// again empty, and old keys, which no answer names any more, go then.
type encodedMemo struct {
	mu    sync.Mutex
	m     map[encodedKey]*encodedBody
	bytes int

	// hits: served from the memo; misses: made (encoded, compressed or
	// both) and kept; uncached: made for an answer without a Key.
	hits, misses, uncached atomic.Int64
	// encodes and compressions count JSON encodings and gzip
	// compressions of availability answers.
	encodes, compressions atomic.Int64
}

const (
	encodedMemoEntries = 512
	encodedMemoBytes   = 16 << 20
)

type encodedKey struct {
	answer string // booking.Availability.Key
	fields availFields
	gzip   bool
}

// encodedBody is one body, ready once its maker closes ready.
type encodedBody struct {
	ready chan struct{}
	body  []byte
}

// answer returns a's body as asked: from the memo when a has a Key and
// the body was made before, else made now (and kept when a has a Key).
func (m *encodedMemo) answer(a booking.Availability, f availFields, gz bool) []byte {
	if a.Key == "" {
		m.uncached.Add(1)
		body := m.encode(a, f)
		if gz {
			body = m.compress(body)
		}
		return body
	}
	plainKey := encodedKey{answer: a.Key, fields: f}
	encode := func() []byte { return m.encode(a, f) }
	var body []byte
	var hit bool
	if gz {
		body, hit = m.lookup(encodedKey{answer: a.Key, fields: f, gzip: true}, func() []byte {
			plain, _ := m.lookup(plainKey, encode)
			return m.compress(plain)
		})
	} else {
		body, hit = m.lookup(plainKey, encode)
	}
	if hit {
		m.hits.Add(1)
	} else {
		m.misses.Add(1)
	}
	return body
}

// lookup returns the body kept under k, waiting for it if another
// request is making it, or makes it with build and keeps it; hit says
// it was found.
func (m *encodedMemo) lookup(k encodedKey, build func() []byte) (body []byte, hit bool) {
	m.mu.Lock()
	if e, ok := m.m[k]; ok {
		m.mu.Unlock()
		<-e.ready
		if e.body != nil {
			return e.body, true
		}
		return build(), false // its maker failed (panicked): make it here
	}
	if m.m == nil || len(m.m) >= encodedMemoEntries || m.bytes >= encodedMemoBytes {
		m.m, m.bytes = map[encodedKey]*encodedBody{}, 0
	}
	e := &encodedBody{ready: make(chan struct{})}
	m.m[k] = e
	m.mu.Unlock()
	defer close(e.ready)
	e.body = build()
	m.mu.Lock()
	m.bytes += len(e.body)
	m.mu.Unlock()
	return e.body, false
}

func (m *encodedMemo) encode(a booking.Availability, f availFields) []byte {
	m.encodes.Add(1)
	return appendAvailability(make([]byte, 0, encodedSize(a, f)), a, f)
}

func (m *encodedMemo) compress(b []byte) []byte {
	m.compressions.Add(1)
	return gzipped(b)
}

// gzipWriters are reused: a gzip.Writer holds hundreds of KiB of tables.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return w
}}

// gzipped compresses b. Each body is compressed once and then served
// from the memo many times: the default level's smaller output is worth
// its cost.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/4 + 64)
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&buf)
	_, _ = w.Write(b) // a bytes.Buffer does not fail
	_ = w.Close()
	gzipWriters.Put(w)
	return buf.Bytes()
}

// encodedSize guesses the length of a's encoding, to allocate it once.
func encodedSize(a booking.Availability, f availFields) int {
	n := 32
	for _, r := range a.Rooms {
		n += 48 + len(r.Room.ID)
		if f&fieldBusy != 0 {
			n += 96 * len(r.Busy)
			if f&fieldTitles != 0 {
				for _, b := range r.Busy {
					n += 12 + len(b.Title)
				}
			}
		}
		if f&fieldFree != 0 {
			n += 64 * len(r.Free)
		}
	}
	return n
}

// appendAvailability appends a's JSON, limited to the fields f, to dst.
// With every field it is byte for byte what encoding/json made of the
// former reflective answer types (TestAvailabilityEncoding): {"rooms":
// [{"room", "busy": [{"start", "end", "kind", "title" unless empty,
// "pending" when true}],
// "free": [{"start", "end"}]}], "stale"}.
func appendAvailability(dst []byte, a booking.Availability, f availFields) []byte {
	dst = append(dst, `{"rooms":[`...)
	for i, r := range a.Rooms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"room":`...)
		dst = appendJSONString(dst, r.Room.ID)
		if f&fieldBusy != 0 {
			dst = append(dst, `,"busy":[`...)
			for j, b := range r.Busy {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendInterval(dst, b.Start, b.End)
				dst = append(dst, `,"kind":`...)
				dst = appendJSONString(dst, clientKind(b.Kind))
				if f&fieldTitles != 0 && b.Title != "" {
					dst = append(dst, `,"title":`...)
					dst = appendJSONString(dst, b.Title)
				}
				if b.Pending {
					dst = append(dst, `,"pending":true`...)
				}
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
		if f&fieldFree != 0 {
			dst = append(dst, `,"free":[`...)
			for j, fr := range r.Free {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendInterval(dst, fr.Start, fr.End)
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `],"stale":`...)
	dst = strconv.AppendBool(dst, a.Stale)
	return append(dst, '}')
}

// appendInterval appends `{"start":"…","end":"…"` (the object left open).
func appendInterval(dst []byte, start, end time.Time) []byte {
	dst = append(dst, `{"start":"`...)
	dst = start.AppendFormat(dst, time.RFC3339)
	dst = append(dst, `","end":"`...)
	dst = end.AppendFormat(dst, time.RFC3339)
	return append(dst, '"')
}

// clientKind is a busy interval's kind as clients see it: a hold (a
// booking being made) is a booking.
func clientKind(k booking.Kind) string {
	if k == booking.KindHold {
		k = booking.KindBooking
	}
	return string(k)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML characters included, invalid UTF-8 replaced by
// U+FFFD), so that the answers keep their bytes.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
