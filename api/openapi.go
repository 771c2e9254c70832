package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openapiJSON is the API's description, written by hand next to the route
// table; TestOpenAPICoversRoutes keeps the two in step.
//
//go:embed openapi.json
var openapiJSON []byte

func (s *Server) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openapiJSON)
}
