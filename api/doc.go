// Package api is roomcal's HTTP edge: the JSON API under /api/v1, the
// calendar feeds, the health and readiness probes, and the one place where
// errors become RFC 9457 problem+json answers with a stable code.
//
// Handlers are thin: they parse the request, call one method of a domain
// service with the request's context, and render the answer. Every route
// is declared once in the route table (server.go) with the policy that
// says who may call it.
//
// Errors go through one writer (problem.go): what a problem answer says
// is roomcal's own text, never an adapter's (which may name a server or a
// credential); the cause is logged once, on the request's access line
// (middleware.go). A request whose client went away is answered 499 and
// logged at Info, not as a failure.
//
// The package reaches calendars only through the domain services and the
// ports it declares (FeedEncoder, FeedTokens); cmd/roomcal wires the
// adapters in, and a test keeps api from importing them.
package api
