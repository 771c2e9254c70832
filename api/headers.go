package api

import "github.com/gin-gonic/gin"

// securityHeaders sets the security headers of every answer. (Being
// built: issue 5.)
func (s *Server) securityHeaders() gin.HandlerFunc { return func(c *gin.Context) { c.Next() } }
