// Package api is roomcal's HTTP edge: the JSON API under /api/v1, the
// calendar feeds, the health and readiness probes, and the one place where
// errors become RFC 9457 problem+json answers with a stable code.
//
// Handlers are thin: they parse the request, call one method of a domain
// service with the request's context, and render the answer. Every route
// is declared once in the route table (routes.go) with the policy that
// says who may call it.
package api
