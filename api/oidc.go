package api

// oidcRoutes are the OpenID Connect sign-in routes. (Being built: issue 5.)
func (s *Server) oidcRoutes() []route { return nil }
