package api

import (
	"context"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
)

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz probes every dependency in parallel, each within ReadyTimeout,
// and answers 503 naming those that failed.
func (s *Server) readyz(c *gin.Context) {
	type result struct {
		Name  string `json:"name"`
		OK    bool   `json:"ok"`
		Error string `json:"error,omitempty"`
	}
	results := make([]result, len(s.opts.Ready))
	var wg sync.WaitGroup
	for i, chk := range s.opts.Ready {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.ReadyTimeout)
			defer cancel()
			results[i] = result{Name: chk.Name, OK: true}
			if err := chk.Ping(ctx); err != nil {
				results[i] = result{Name: chk.Name, Error: err.Error()}
			}
		}()
	}
	wg.Wait()
	status := http.StatusOK
	for _, r := range results {
		if !r.OK {
			status = http.StatusServiceUnavailable
			s.log.WarnContext(c.Request.Context(), "not ready", "dependency", r.Name, "err", r.Error)
		}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(status, gin.H{"ready": status == http.StatusOK, "checks": results})
}
