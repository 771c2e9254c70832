package api

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
)

// Limiter counts events per key in fixed windows shared by every replica.
type Limiter interface {
	// Allow counts one event for key and reports whether it is within n
	// per per; when not, retryAfter says when the next one will be.
	Allow(ctx context.Context, key string, n int, per time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// rateLimit bounds each member's writes. (Being built: issue 5.)
func (s *Server) rateLimit() gin.HandlerFunc { return func(c *gin.Context) { c.Next() } }
