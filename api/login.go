package api

// loginRoutes are the dev mode's login page routes. (Being built: issue 5.)
func (s *Server) loginRoutes() []route { return nil }
