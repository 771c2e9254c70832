#!/usr/bin/env bash
# scripts/assets.sh — `make assets`: the front-end files the pages embed.
#
# npm ci from web/package-lock.json (only when the lock file changed),
# then the calendar bundle copied into web/static/vendor/ (git-ignored),
# where go:embed takes it. npm is installed with apt-get when missing and
# we may (root, or sudo without a password). Without npm the build goes
# on: the day view then says the calendar is missing and offers its
# booking form alone, and the browser tests (make test) fail, saying so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

vendor=web/static/vendor
stamp=web/node_modules/.package-lock.json
files=(event-calendar.min.js event-calendar.min.css)

if ! command -v npm >/dev/null; then
	sudo=()
	[[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
	echo "assets: npm is missing; installing it with apt-get" >&2
	if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y update >/dev/null &&
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends npm >/dev/null; } 2>/dev/null; then
		echo "assets: could not install npm: building without the calendar bundle (apt-get install npm, then make assets)" >&2
		exit 0
	fi
fi

if [[ ! -f $stamp || web/package-lock.json -nt $stamp || web/package.json -nt $stamp ]]; then
	(cd web && npm ci --no-audit --no-fund --loglevel=error)
	touch "$stamp"
fi
mkdir -p "$vendor"
for f in "${files[@]}"; do
	src=web/node_modules/@event-calendar/build/dist/$f
	if [[ ! -f $vendor/$f || $src -nt $vendor/$f ]]; then
		cp "$src" "$vendor/$f"
	fi
done
