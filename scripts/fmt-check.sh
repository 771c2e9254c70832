#!/usr/bin/env bash
# scripts/fmt-check.sh — fails, listing them, if any Go file of the repo is
# not gofmt-formatted (tracked files and new ones that are not ignored).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GOFMT=${GOFMT:-$(dirname "$(command -v "${GO:-go}")")/gofmt}
[[ -x $GOFMT ]] || GOFMT=gofmt

files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	while IFS= read -r f; do
		[[ -f $f ]] && files+=("$f")
	done < <(git ls-files --cached --others --exclude-standard -- '*.go')
else
	while IFS= read -r f; do
		files+=("$f")
	done < <(find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*')
fi
((${#files[@]})) || exit 0

unformatted=$("$GOFMT" -l "${files[@]}")
if [[ -n $unformatted ]]; then
	echo "gofmt would change these files (run 'make fmt'):" >&2
	while IFS= read -r f; do
		printf '  %s\n' "$f" >&2
	done <<<"$unformatted"
	exit 1
fi
