package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// maxBodyBytes is the largest request body accepted (API.md: 64 KiB).
const maxBodyBytes = 64 << 10

// limitBody refuses bodies over max with 413 too_large: at once when the
// declared length says so, and while reading otherwise (readJSON turns the
// reader's error into the same problem).
//
// Routes listed in larger (by their route path) take up to their own
// limit instead: the import of a room's calendar export.
func limitBody(max int64, larger map[string]int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		max := max
		if l, ok := larger[c.FullPath()]; ok {
			max = l
		}
		if c.Request.ContentLength > max {
			renderProblem(c, tooLarge(max))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

func tooLarge(max int64) *Problem {
	return problem(http.StatusRequestEntityTooLarge, CodeTooLarge,
		fmt.Sprintf("Requête trop grande (maximum %d Kio). / Request body over %d KiB.", max>>10, max>>10))
}

// readJSON decodes the request body into v, refusing unknown fields,
// trailing data and oversize bodies with a problem. What the problem says
// is roomcal's: the decoder's own words are its cause, for the log.
func readJSON(c *gin.Context, v any) error {
	dec := jsonDecoder(c.Request.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return invalid(jsonDetail(err)).withCause(err)
	}
	// Anything after the value but white space (another value, a stray
	// "}" or "]", which Decoder.More does not report) is refused.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return invalid("Corps JSON illisible : données en trop après l'objet. / Unreadable JSON body: data after the object.")
	}
	return nil
}

// jsonDecoder reads one JSON value, refusing fields the target lacks.
func jsonDecoder(r io.Reader) *json.Decoder {
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	return d
}

// jsonDetail says in roomcal's words what is wrong with a JSON body that
// err, encoding/json's error, refused. Field names come from the target
// structs (encoding/json names only fields they have, or, for an unknown
// field, the one the client sent, quoted).
func jsonDetail(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "Corps JSON vide. / Empty JSON body."
	case errors.As(err, &syn):
		return fmt.Sprintf("Corps JSON illisible (octet %d). / Unreadable JSON body (at byte %d).", syn.Offset, syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("Corps JSON illisible : %q n'est pas du bon type (%s reçu). / Unreadable JSON body: %q has the wrong type (got %s).",
			typ.Field, typ.Value, typ.Field, typ.Value)
	}
	// DisallowUnknownFields has no error type of its own.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Sprintf("Corps JSON illisible : champ inconnu %s. / Unreadable JSON body: unknown field %s.", name, name)
	}
	return "Corps JSON illisible. / Unreadable JSON body."
}

// accessLog writes one line per request, at the level its status calls
// for (levelFor), with the cause writeError recorded when there is one:
// the only place a failure's cause is logged.
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		s.stats.count(status)
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Duration("took", time.Since(start)),
		}
		if e := c.Errors.Last(); e != nil {
			attrs = append(attrs, slog.String("err", e.Err.Error()))
		}
		s.log.LogAttrs(c.Request.Context(), levelFor(status), "http", attrs...)
	}
}

// levelFor is the level of a request's log line: Error for a server-side
// failure, Info for a refused request and for a client that went away
// (499), Debug for the rest.
func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(c, fmt.Errorf("panic: %v", v))
			}
		}()
		c.Next()
	}
}
