#!/usr/bin/env bash
# scripts/bench.sh — `make bench`: the Go benchmarks and the load driver
# (cmd/loadbench), against the private Redis and Radicale that
# scripts/test.sh starts and stops.
#
#   BENCH_FLAGS   flags for cmd/loadbench (default: 10 rooms × 2000 events,
#                 500 requests/s for 10s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
BENCH_FLAGS=${BENCH_FLAGS:--rooms 10 -events 2000 -rps 100,200,300,500 -duration 10s}
export ROOMCAL_TEST_CMD="$GO test -run '^\$' -bench . -benchmem -count 1 ./caldav/ ./internal/redisgate/ && $GO run ./cmd/loadbench $BENCH_FLAGS"
exec bash scripts/test.sh
