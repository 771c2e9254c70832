package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// maxBodyBytes is the largest request body accepted (API.md: 64 KiB).
const maxBodyBytes = 64 << 10

// limitBody refuses bodies over max with 413 too_large: at once when the
// declared length says so, and while reading otherwise (readJSON turns the
// reader's error into the same problem).
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
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
// trailing data and oversize bodies with a problem.
func readJSON(c *gin.Context, v any) error {
	dec := jsonDecoder(c.Request.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return invalid("Corps JSON illisible : " + err.Error())
	}
	if dec.More() {
		return invalid("Corps JSON illisible : données en trop après l'objet.")
	}
	return nil
}

func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		s.stats.count(c.Writer.Status())
		s.log.LogAttrs(c.Request.Context(), levelFor(c.Writer.Status()), "http",
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Duration("took", time.Since(start)),
		)
	}
}

func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(c, s.log, fmt.Errorf("panic: %v", v))
			}
		}()
		c.Next()
	}
}
