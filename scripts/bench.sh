#!/usr/bin/env bash
# scripts/bench.sh — `make bench`: the Go benchmarks and the load driver
# (cmd/loadbench), against the private Redis and Radicale that
# scripts/test.sh starts and stops.
#
# The load driver runs, in order (BENCHMARKS.md has the figures):
#   rooms   10 room calendars × 2000 events on Radicale; with the gate on
#           Redis, then on the embedded engine: cache rebuilds, site-week
#           availability in process and over HTTP (100…500 requests/s),
#           claims per second on the gate alone, booking throughput, 200
#           contenders on one slot;
#   events  1000 registrations on one hot event, on each engine;
#   user    the real binary (go build ./cmd/roomcal, header identity
#           mode) on Radicale + Redis and on the embedded store and
#           engine, its sync loop at 2s and at 30s, 10 rooms × 300
#           events over 3 sites, 68 distinct windows at 200, 500 and
#           1000 requests/s for 8s each, with its RSS afterwards.
#
#   BENCH_FLAGS   flags for cmd/loadbench (default: the rooms section with
#                 10 rooms × 2000 events at 100,200,300,500 requests/s
#                 for 10s each; the other sections' flags at their
#                 defaults: go run ./cmd/loadbench -h lists them all)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
export GO # the load driver builds the binary with it
BENCH_FLAGS=${BENCH_FLAGS:--rooms 10 -events 2000 -rps 100,200,300,500 -duration 10s}
export ROOMCAL_TEST_CMD="$GO test -run '^\$' -bench . -benchmem -count 1 ./caldav/ ./internal/redisgate/ ./api/ && $GO run ./cmd/loadbench $BENCH_FLAGS"
exec bash scripts/test.sh
