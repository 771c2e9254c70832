package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Limiter counts events per key in fixed windows shared by every replica.
type Limiter interface {
	// Allow counts one event for key and reports whether it is within n
	// per per; when not, retryAfter says when the next one will be.
	Allow(ctx context.Context, key string, n int, per time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// CodeRateLimited answers a member's write over the rate limit (429).
const CodeRateLimited = "rate_limited"

// limiterWarnEvery spaces the warnings of a failing limiter: when Redis
// is down every write would log one.
const limiterWarnEvery = 10 * time.Second

// rateLimit bounds each member's writes: at most Options.RateLimit
// requests with an unsafe method (POST, PUT, PATCH, DELETE) per
// Options.RatePer (a minute when unset) by one identified member, counted
// by Options.Limiter under the member's id, so the bound holds across
// replicas sharing its Redis. A write over the limit is answered 429
// rate_limited with Retry-After (whole seconds, rounded up). Reads are
// never limited, nor counted; neither are unidentified requests (the
// routes' policies refuse them). Without a Limiter, or with RateLimit 0,
// nothing is limited.
//
// When the Limiter fails (Redis unreachable), the request goes through
// and a warning is logged: the limit fails open. Refusing writes because
// the limiter's store is down would turn a Redis outage into refusals of
// every write with a misleading answer, while the handlers that depend
// on Redis answer 503 unavailable by themselves anyway; letting writes
// through unlimited for the length of an outage is the lesser harm.
func (s *Server) rateLimit() gin.HandlerFunc {
	lim, n, per := s.opts.Limiter, s.opts.RateLimit, s.opts.RatePer
	if lim == nil || n <= 0 {
		return func(c *gin.Context) { c.Next() }
	}
	if per <= 0 {
		per = time.Minute
	}
	var warn warnThrottle
	return func(c *gin.Context) {
		// Writes to the API only: signing in or out is never refused.
		if !unsafeMethod(c.Request.Method) || !strings.HasPrefix(c.Request.URL.Path, "/api/") {
			c.Next()
			return
		}
		m, ok := member(c)
		if !ok || m.ID == "" {
			c.Next()
			return
		}
		ctx := c.Request.Context()
		allowed, retry, err := lim.Allow(ctx, m.ID, n, per)
		if err != nil {
			if ctx.Err() == nil {
				if suppressed, ok := warn.due(time.Now()); ok {
					s.log.WarnContext(ctx, "rate limiter failed: write let through unlimited",
						"member", m.ID, "method", c.Request.Method, "path", c.Request.URL.Path,
						"err", err, "suppressed", suppressed)
				}
			}
			c.Next()
			return
		}
		if !allowed {
			secs := retryAfterSeconds(retry)
			c.Header("Retry-After", strconv.Itoa(secs))
			p := problem(http.StatusTooManyRequests, CodeRateLimited, fmt.Sprintf(
				"Trop de modifications en peu de temps : réessayez dans %d s. / Too many changes in a short time: retry in %d s.",
				secs, secs))
			p.Instance = c.Request.URL.Path
			renderProblem(c, p)
			return
		}
		c.Next()
	}
}

// unsafeMethod reports whether method changes state (RFC 9110, 9.2.1).
func unsafeMethod(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// retryAfterSeconds is d in whole seconds for Retry-After: rounded up, at
// least 1.
func retryAfterSeconds(d time.Duration) int {
	secs := int((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}

// warnThrottle lets one warning through per limiterWarnEvery and counts
// the ones held back.
type warnThrottle struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// due reports whether a warning may be logged at now, and how many were
// held back since the last one.
func (w *warnThrottle) due(now time.Time) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.last.IsZero() && now.Sub(w.last) < limiterWarnEvery {
		w.suppressed++
		return 0, false
	}
	n := w.suppressed
	w.last, w.suppressed = now, 0
	return n, true
}
