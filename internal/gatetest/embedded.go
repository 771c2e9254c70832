package gatetest

import (
	"testing"

	"github.com/roomcal/roomcal/internal/redisgate"
)

// Embedded starts an embedded engine (the in-process Redis that roomcal
// runs its Lua scripts on without ROOMCAL_REDIS_URL) for one test and
// stops it when the test ends. Tests of the domain and the API take
// their gates from it, so they decide by the same scripts as production.
func Embedded(t testing.TB) *redisgate.Embedded {
	t.Helper()
	e, err := redisgate.StartEmbedded()
	if err != nil {
		t.Fatalf("embedded engine: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}
