// Package events will hold the internal-events domain: events with
// attendance caps, registrations and the waiting list. It is not built
// yet (issue 4); the package exists so the layout of DESIGN.md is in place
// and the domain-purity test already guards it.
package events
