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
// and answers 503 naming those that failed. Anyone may ask, so the answer
// says which failed, not why (an error's text can name hosts, URLs and
// accounts): the cause is logged.
func (s *Server) readyz(c *gin.Context) {
	type result struct {
		Name string `json:"name"`
		OK   bool   `json:"ok"`
		err  error
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
				results[i] = result{Name: chk.Name, err: err}
			}
		}()
	}
	wg.Wait()
	status := http.StatusOK
	for _, r := range results {
		if !r.OK {
			status = http.StatusServiceUnavailable
			s.log.WarnContext(c.Request.Context(), "not ready", "dependency", r.Name, "err", r.err)
		}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(status, gin.H{"ready": status == http.StatusOK, "checks": results})
}
