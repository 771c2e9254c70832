#!/usr/bin/env bash
# scripts/test.sh — the whole test run behind `make test` and .ci/run.
#
#   1. installs the Debian packages the tests need, if missing (apt-get),
#      among them chromium and npm for the browser tests, then the
#      front-end assets (`make assets`: npm ci, web/static/vendor/);
#   2. static checks: gofmt, go vet, docker-compose.yml;
#   3. starts a private Redis, a private Redis Cluster (three masters with
#      one replica each, created with redis-cli --cluster create), a
#      private Radicale and a private Xandikos on free loopback ports, with
#      throw-away data folders, and exports their URLs:
#        ROOMCAL_TEST_REDIS_URL=redis://127.0.0.1:PORT/0
#        ROOMCAL_TEST_REDIS_CLUSTER_URL=redis://127.0.0.1:P1?addr=127.0.0.1:P2&… (all six nodes)
#        ROOMCAL_TEST_RADICALE_URL=http://127.0.0.1:PORT/
#        ROOMCAL_TEST_XANDIKOS_URL=http://127.0.0.1:PORT/
#      and an SMTP sink (Debian's aiosmtpd, keeping every message in a
#      maildir):
#        ROOMCAL_TEST_SMTP_URL=smtp://127.0.0.1:PORT
#        ROOMCAL_TEST_SMTP_MAILDIR=DIR
#   4. runs `go test -race -count=1 ./...`;
#   5. stops everything it started, even on failure or Ctrl-C, and exits with
#      the tests' status.
#
# Usage: scripts/test.sh [go test arguments]    (default: ./...)
#   scripts/test.sh ./caldav/... -run TestConformance -v
#
# Environment:
#   GO                  the go command (default: go)
#   GO_TEST_TIMEOUT     go test -timeout (default: 15m)
#   ROOMCAL_TEST_CMD    a shell command run instead of the Go steps (gofmt,
#                       vet, test), with the servers up; for testing this
#                       script itself, e.g. ROOMCAL_TEST_CMD='exit 3'.
#
# Exported to the tests: ROOMCAL_TEST_CHROMIUM=/usr/bin/chromium.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO=${GO:-go}
GO_TEST_TIMEOUT=${GO_TEST_TIMEOUT:-15m}
START_TIMEOUT=20 # seconds a server gets to answer

REDIS_BIN=/usr/bin/redis-server
REDIS_CLI=/usr/bin/redis-cli
RADICALE_BIN=/usr/bin/radicale
XANDIKOS_BIN=/usr/bin/xandikos
COMPOSE_BIN=/usr/bin/docker-compose
PYTHON_BIN=/usr/bin/python3
CHROMIUM_BIN=/usr/bin/chromium

step() { printf '==> [%3ss] %s\n' "$SECONDS" "$*"; }
die() {
	printf 'test.sh: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------------------
# Cleanup: whatever was started is stopped, whatever was made is removed.

tmp=""
child="" # the running Go step (or ROOMCAL_TEST_CMD), leader of its own process group
redis_pid=""
radicale_pid=""
xandikos_pid=""
smtp_pid=""
cluster_pids=()  # every Redis Cluster node started (some may have exited at start-up)
cluster_nodes=() # "PID PORT" of each node that answered, in order

stop_pid() { # stop_pid PID: TERM, up to 5 s of grace, then KILL; reap
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# group_alive PGID: whether a process of the group is alive (zombies, which
# kill -0 still finds, do not count).
group_alive() {
	local f line state pgrp
	for f in /proc/[0-9]*/stat; do
		IFS= read -r line 2>/dev/null <"$f" || continue
		read -r state _ pgrp _ <<<"${line##*) }"
		[[ $pgrp == "$1" && $state != Z ]] && return 0
	done
	return 1
}

# stop_group PGID: stops a process group (TERM, 2 s of grace, KILL) and
# reaps its leader.
stop_group() {
	local pgid=$1 i
	kill -TERM -- "-$pgid" 2>/dev/null || return 0
	for ((i = 0; i < 20; i++)); do
		group_alive "$pgid" || break
		sleep 0.1
	done
	kill -KILL -- "-$pgid" 2>/dev/null || true
	wait "$pgid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local status=$?
	trap - EXIT
	trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
	set +e
	[[ -n $child ]] && stop_group "$child"
	if [[ -n $redis_pid || -n $radicale_pid || -n $xandikos_pid || -n $smtp_pid || ${#cluster_pids[@]} -gt 0 ]]; then
		step "stopping test servers"
		[[ -n $redis_pid ]] && stop_pid "$redis_pid"
		[[ -n $radicale_pid ]] && stop_pid "$radicale_pid"
		[[ -n $xandikos_pid ]] && stop_pid "$xandikos_pid"
		[[ -n $smtp_pid ]] && stop_pid "$smtp_pid"
		for pid in "${cluster_pids[@]}"; do
			stop_pid "$pid"
		done
	fi
	[[ -n $tmp ]] && rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'echo; echo "test.sh: interrupted" >&2; exit 130' INT
trap 'echo "test.sh: terminated" >&2; exit 143' TERM

# run CMD...: runs a command as the leader of a process group of its own and
# waits for it (interruptibly: a signal to this script is handled at once).
# Whatever it leaves behind in its group (a server started by a test binary
# that crashed or timed out) is stopped when it ends; cleanup stops the whole
# group if this script is interrupted.
run() {
	local rc=0
	setsid -w "$@" </dev/null &
	child=$!
	wait "$child" || rc=$?
	stop_group "$child"
	child=""
	return "$rc"
}

# ---------------------------------------------------------------------------
# 1. Packages.

command -v "$GO" >/dev/null || die "Go is not installed (or not on PATH): install Go 1.26 or newer from https://go.dev/dl/"
command -v setsid >/dev/null || die "setsid is missing (package util-linux)"

step "checking packages"
missing=()
[[ -x $REDIS_BIN ]] || missing+=(redis-server)
[[ -x $REDIS_CLI ]] || missing+=(redis-tools)
[[ -x $RADICALE_BIN ]] || missing+=(radicale)
[[ -x $XANDIKOS_BIN ]] || missing+=(xandikos)
[[ -x $COMPOSE_BIN ]] || missing+=(docker-compose)
{ [[ -x $PYTHON_BIN ]] && "$PYTHON_BIN" -c 'import icalendar' 2>/dev/null; } || missing+=(python3-icalendar)
{ [[ -x $PYTHON_BIN ]] && "$PYTHON_BIN" -c 'import aiosmtpd' 2>/dev/null; } || missing+=(python3-aiosmtpd)
# go test -race needs cgo, hence a C compiler.
command -v "$("$GO" env CC)" >/dev/null || missing+=(gcc libc6-dev)
# The browser tests: headless Chromium, and npm for the front-end assets.
[[ -x $CHROMIUM_BIN ]] || missing+=(chromium)
# Chromium in French (the browser tests run it so: date and time fields
# as a French member's browser draws them).
[[ -e /usr/lib/chromium/locales/fr.pak ]] || missing+=(chromium-l10n)
command -v npm >/dev/null || missing+=(npm)
command -v make >/dev/null || missing+=(make)

if ((${#missing[@]})); then
	step "installing ${missing[*]} (apt-get)"
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "not root and no sudo: install these packages yourself: ${missing[*]}"
		sudo=(sudo)
		[[ -t 0 ]] || sudo=(sudo -n) # no terminal to ask a password on
	fi
	# DPkg::Lock::Timeout: wait (up to 5 min) for another apt or dpkg
	# holding the lock, instead of failing at once.
	apt_get=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300)
	# --no-install-recommends: docker-compose recommends a whole Docker engine.
	if ! { "${apt_get[@]}" update >/dev/null &&
		"${apt_get[@]}" install --no-install-recommends "${missing[@]}" >/dev/null; }; then
		die "could not install ${missing[*]} with apt-get; install them and run again"
	fi
	if ! [[ -x $REDIS_BIN && -x $REDIS_CLI && -x $RADICALE_BIN && -x $XANDIKOS_BIN && -x $COMPOSE_BIN && -x $CHROMIUM_BIN ]] ||
		! "$PYTHON_BIN" -c 'import icalendar, aiosmtpd' 2>/dev/null; then
		die "installed ${missing[*]}, yet $REDIS_BIN, $REDIS_CLI, $RADICALE_BIN, $XANDIKOS_BIN, $COMPOSE_BIN, $CHROMIUM_BIN, python3-icalendar or python3-aiosmtpd is still missing"
	fi
fi

# The front-end assets the pages embed and the browser test loads (npm ci
# from web/package-lock.json when it changed; nothing to do otherwise).
step "front-end assets (make assets)"
run make -s assets || die "make assets failed: the front-end assets could not be fetched with npm"
export ROOMCAL_TEST_CHROMIUM=$CHROMIUM_BIN

# ---------------------------------------------------------------------------
# 2. Static checks.

if [[ -z ${ROOMCAL_TEST_CMD:-} ]]; then
	step "gofmt"
	GO=$GO bash scripts/fmt-check.sh
	step "go mod download"
	run "$GO" mod download
	step "go vet ./..."
	run "$GO" vet ./...
fi

step "docker-compose config"
run "$COMPOSE_BIN" -f docker-compose.yml config -q

# ---------------------------------------------------------------------------
# 3. Servers.

tmp=$(mktemp -d "${TMPDIR:-/tmp}/roomcal-test.XXXXXX")

free_port() { # a port nobody listens on now, from the kernel
	"$PYTHON_BIN" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# probe PORT REQUEST PREFIX: whether the server on PORT answers REQUEST with
# a first line that starts with PREFIX.
probe() (
	exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
	printf '%b' "$2" >&3
	IFS= read -r -t 2 line <&3 || exit 1
	[[ $line == "$3"* ]]
) 2>/dev/null

# owns_port PID PORT: whether process PID listens on 127.0.0.1:PORT (the
# answer on a port picked free may come from another process that took it).
owns_port() {
	local hex inodes fd link
	printf -v hex ':%04X' "$2"
	inodes=" $(awk -v p="$hex" 'substr($2, length($2) - 4) == p && $4 == "0A" { printf "%s ", $10 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null) "
	for fd in /proc/"$1"/fd/*; do
		link=$(readlink "$fd" 2>/dev/null) || continue
		[[ $link == socket:* ]] || continue
		link=${link#socket:[}
		[[ $inodes == *" ${link%]} "* ]] && return 0
	done
	return 1
}

# await NAME PID PORT REQUEST PREFIX LOG: waits until the server answers;
# fails, showing its log, if it exits (status 1) or does not answer in time
# (status 2).
await() {
	local name=$1 pid=$2 port=$3 request=$4 prefix=$5 log=$6 deadline=$((SECONDS + START_TIMEOUT))
	while ((SECONDS < deadline)); do
		probe "$port" "$request" "$prefix" && owns_port "$pid" "$port" && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			printf 'test.sh: %s exited before answering on 127.0.0.1:%s; its log:\n' "$name" "$port" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	printf 'test.sh: %s did not answer on 127.0.0.1:%s within %ss; its log:\n' "$name" "$port" "$START_TIMEOUT" >&2
	cat "$log" >&2
	return 2
}

# A port can be taken between free_port and the server's bind: if the server
# exits at once, retry once with another port.
start_redis() {
	local try rc
	mkdir -p "$tmp/redis"
	for try in 1 2; do
		redis_port=$(free_port)
		"$REDIS_BIN" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
			--dir "$tmp/redis" --daemonize no >"$tmp/redis.log" 2>&1 </dev/null &
		redis_pid=$!
		await redis-server "$redis_pid" "$redis_port" 'PING\r\n' '+PONG' "$tmp/redis.log" && return 0
		rc=$?
		stop_pid "$redis_pid"
		redis_pid=""
		((rc == 1 && try == 1)) || break
		echo "test.sh: retrying redis-server on another port" >&2
	done
	die "could not start redis-server"
}

# cluster_port: a free port whose cluster bus port (port+10000) is free too.
cluster_port() {
	"$PYTHON_BIN" -c 'import socket
while True:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    bus = socket.socket()
    try:
        if port + 10000 > 65535:
            continue
        bus.bind(("127.0.0.1", port + 10000))
        print(port)
        break
    except OSError:
        pass
    finally:
        s.close()
        bus.close()'
}

# start_cluster_node I: starts node I of the Redis Cluster (cluster mode, a
# 1 s node timeout, nothing saved but its nodes.conf; a replica's first
# sync starts at once instead of after the default 5 s wait for other
# replicas), retried once with other ports if they were taken meanwhile.
start_cluster_node() {
	local i=$1 dir="$tmp/cluster/$1" try rc port pid
	mkdir -p "$dir"
	for try in 1 2; do
		port=$(cluster_port)
		"$REDIS_BIN" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no \
			--cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 1000 \
			--repl-diskless-sync-delay 0 \
			>"$dir/redis.log" 2>&1 </dev/null &
		pid=$!
		cluster_pids+=("$pid")
		await "redis cluster node $i" "$pid" "$port" 'PING\r\n' '+PONG' "$dir/redis.log" &&
			{ cluster_nodes+=("$pid $port") && return 0; }
		rc=$?
		stop_pid "$pid"
		rm -f "$dir/nodes.conf"
		((rc == 1 && try == 1)) || break
		echo "test.sh: retrying redis cluster node $i on other ports" >&2
	done
	die "could not start redis cluster node $i"
}

# cluster_healthy: whether every node says cluster_state:ok, knows every
# node and sees every replica alive, and every replica's link to its
# master is up.
cluster_healthy() {
	local node pid port info
	for node in "${cluster_nodes[@]}"; do
		read -r pid port <<<"$node"
		info=$("$REDIS_CLI" -h 127.0.0.1 -p "$port" cluster info 2>/dev/null) || return 1
		[[ $info == *cluster_state:ok* && $info == *"cluster_known_nodes:${#cluster_nodes[@]}"* ]] || return 1
		info=$("$REDIS_CLI" -h 127.0.0.1 -p "$port" info replication 2>/dev/null) || return 1
		[[ $info == *role:slave* && $info != *master_link_status:up* ]] && return 1
		# Every node sees the three replicas, none of them failing.
		info=$("$REDIS_CLI" -h 127.0.0.1 -p "$port" cluster nodes 2>/dev/null) || return 1
		[[ $(awk '$3 ~ /slave/ && $3 !~ /fail/' <<<"$info" | wc -l) == $((${#cluster_nodes[@]} / 2)) ]] || return 1
	done
	return 0
}

# start_redis_cluster: six nodes made into three masters with one replica
# each by redis-cli --cluster create; returns once the cluster is healthy.
start_redis_cluster() {
	local i node pid port addrs=() deadline
	for i in 1 2 3 4 5 6; do
		start_cluster_node "$i"
	done
	for node in "${cluster_nodes[@]}"; do
		read -r pid port <<<"$node"
		addrs+=("127.0.0.1:$port")
	done
	if ! timeout 60 "$REDIS_CLI" --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
		>"$tmp/cluster/create.log" 2>&1 </dev/null; then
		cat "$tmp/cluster/create.log" >&2
		die "redis-cli --cluster create failed"
	fi
	deadline=$((SECONDS + START_TIMEOUT))
	until cluster_healthy; do
		if ((SECONDS >= deadline)); then
			cat "$tmp/cluster/create.log" >&2
			die "the Redis Cluster is not healthy (cluster_state:ok, replicas in sync) after ${START_TIMEOUT}s"
		fi
		sleep 0.1
	done
	cluster_url="redis://${addrs[0]}?addr=${addrs[1]}"
	for ((i = 2; i < ${#addrs[@]}; i++)); do
		cluster_url+="&addr=${addrs[i]}"
	done
}

start_radicale() {
	local try rc
	for try in 1 2; do
		radicale_port=$(free_port)
		"$RADICALE_BIN" --storage-filesystem-folder="$tmp/radicale" --auth-type=none \
			--server-hosts="127.0.0.1:$radicale_port" >"$tmp/radicale.log" 2>&1 </dev/null &
		radicale_pid=$!
		await radicale "$radicale_pid" "$radicale_port" 'OPTIONS / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' 'HTTP/1.' "$tmp/radicale.log" && return 0
		rc=$?
		stop_pid "$radicale_pid"
		radicale_pid=""
		((rc == 1 && try == 1)) || break
		echo "test.sh: retrying radicale on another port" >&2
	done
	die "could not start radicale"
}

# Xandikos (see ../shared/CALDAV-NOTES.md): --defaults makes /user/ with
# its calendar home /user/calendars/; no authentication.
start_xandikos() {
	local try rc
	for try in 1 2; do
		xandikos_port=$(free_port)
		"$XANDIKOS_BIN" --defaults -d "$tmp/xandikos" -l 127.0.0.1 -p "$xandikos_port" \
			>"$tmp/xandikos.log" 2>&1 </dev/null &
		xandikos_pid=$!
		await xandikos "$xandikos_pid" "$xandikos_port" 'OPTIONS / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' 'HTTP/1.' "$tmp/xandikos.log" && return 0
		rc=$?
		stop_pid "$xandikos_pid"
		xandikos_pid=""
		((rc == 1 && try == 1)) || break
		echo "test.sh: retrying xandikos on another port" >&2
	done
	die "could not start xandikos"
}

# The SMTP sink: Debian's aiosmtpd with its Mailbox handler, which keeps
# every message it accepts in a maildir.
start_smtp() {
	local try rc
	for try in 1 2; do
		smtp_port=$(free_port)
		"$PYTHON_BIN" -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$tmp/maildir" \
			>"$tmp/aiosmtpd.log" 2>&1 </dev/null &
		smtp_pid=$!
		await aiosmtpd "$smtp_pid" "$smtp_port" 'NOOP\r\n' '220' "$tmp/aiosmtpd.log" && return 0
		rc=$?
		stop_pid "$smtp_pid"
		smtp_pid=""
		((rc == 1 && try == 1)) || break
		echo "test.sh: retrying aiosmtpd on another port" >&2
	done
	die "could not start aiosmtpd"
}

step "starting redis-server, radicale, xandikos and aiosmtpd"
start_redis
start_radicale
start_xandikos
start_smtp
step "starting a Redis Cluster (3 masters, 3 replicas)"
start_redis_cluster
export ROOMCAL_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
export ROOMCAL_TEST_REDIS_CLUSTER_URL="$cluster_url"
export ROOMCAL_TEST_RADICALE_URL="http://127.0.0.1:$radicale_port/"
export ROOMCAL_TEST_XANDIKOS_URL="http://127.0.0.1:$xandikos_port/"
export ROOMCAL_TEST_SMTP_URL="smtp://127.0.0.1:$smtp_port"
export ROOMCAL_TEST_SMTP_MAILDIR="$tmp/maildir"
echo "    ROOMCAL_TEST_REDIS_URL=$ROOMCAL_TEST_REDIS_URL"
echo "    ROOMCAL_TEST_REDIS_CLUSTER_URL=$ROOMCAL_TEST_REDIS_CLUSTER_URL"
echo "    ROOMCAL_TEST_RADICALE_URL=$ROOMCAL_TEST_RADICALE_URL"
echo "    ROOMCAL_TEST_XANDIKOS_URL=$ROOMCAL_TEST_XANDIKOS_URL"
echo "    ROOMCAL_TEST_SMTP_URL=$ROOMCAL_TEST_SMTP_URL (maildir $ROOMCAL_TEST_SMTP_MAILDIR)"

# ---------------------------------------------------------------------------
# 4. Tests.

status=0
if [[ -n ${ROOMCAL_TEST_CMD:-} ]]; then
	step "ROOMCAL_TEST_CMD: $ROOMCAL_TEST_CMD"
	run bash -c "$ROOMCAL_TEST_CMD" || status=$?
else
	(($#)) || set -- ./...
	step "go test -race -count=1 -timeout $GO_TEST_TIMEOUT $*"
	run "$GO" test -race -count=1 -timeout "$GO_TEST_TIMEOUT" "$@" || status=$?
fi

if ((status != 0)); then
	step "tests failed (exit status $status)"
else
	step "tests passed"
fi
# A server that died under the tests explains many failures: say so.
servers=("redis-server $redis_pid redis.log" "radicale $radicale_pid radicale.log" "xandikos $xandikos_pid xandikos.log" "aiosmtpd $smtp_pid aiosmtpd.log")
for ((i = 0; i < ${#cluster_nodes[@]}; i++)); do
	read -r pid _ <<<"${cluster_nodes[i]}"
	servers+=("redis-cluster-node-$((i + 1)) $pid cluster/$((i + 1))/redis.log")
done
for s in "${servers[@]}"; do
	read -r name pid log <<<"$s"
	if ! kill -0 "$pid" 2>/dev/null; then
		printf 'test.sh: %s died during the tests; its log:\n' "$name" >&2
		cat "$tmp/$log" >&2
		((status != 0)) || status=1
	fi
done
exit "$status"
