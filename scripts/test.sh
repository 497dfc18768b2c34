#!/usr/bin/env bash
# Run the whole octotracker test suite: `scripts/test.sh` (from any directory).
#
# 1. Installs the Debian packages the tests need when they are missing
#    (PostgreSQL, Redis, the real BitTorrent clients aria2 and
#    python3-libtorrent used by the end-to-end test, chromium and nodejs for
#    the status page test, prometheus for the monitoring test, systemd's
#    systemd-analyze for the package test), the npm packages of
#    tracker-bin/tests/browser and tracker-bin/tests/webtorrent (`npm ci` from their lock
#    files: puppeteer-core; real WebTorrent and bittorrent-tracker clients) and cargo-deb.
# 2. Provides the services the storage tests talk to, all on 127.0.0.1:
#      OCTOTRACKER_TEST_POSTGRES_URL       an existing server on :5432, else a throwaway cluster
#      OCTOTRACKER_TEST_REDIS_URL          a throwaway server with the octotracker module loaded
#      OCTOTRACKER_TEST_REDIS_CLUSTER_URLS a throwaway 3-master Redis Cluster, the module on every node
#      OCTOTRACKER_TEST_REDIS_MODULE       the module (backends/redis-module), built first
#    (tests choose the engine, Lua or module, per store: the servers serve both)
# 3. Builds the examples, runs `cargo test` on every target, then the doc tests, then
#    packaging/test-deb.sh (the Debian package: build, dpkg install, run, purge). Whatever
#    happens, everything this script started is
#    stopped (by pid) and its temporary directories are removed on exit.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# The system interpreter: `python3` on PATH may be a pyenv shim without libtorrent.
PYTHON=/usr/bin/python3

# State for cleanup(): "SIGNAL:PIDFILE" of each server we started, pids of
# our background jobs, and our temp dirs. Only ever appended to from the main
# shell (never inside $(...)).
PID_FILES=()
BACKGROUND_PIDS=()
TEMP_DIRS=()

log() { printf 'test.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup

# True while a pid runs. A zombie (exited, not yet reaped by whichever process
# adopted the daemon) counts as stopped.
is_running() {
    local pid=$1 stat
    kill -0 "$pid" 2>/dev/null || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# Sends a signal to a pid and waits (bounded) for it to go away, then SIGKILL.
stop_pid() {
    local signal=$1 pid=$2
    kill "-$signal" "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        is_running "$pid" || return 0
        sleep 0.05
    done
    log "pid $pid did not stop on SIG$signal; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    local entry pid_file pid dir
    set +e
    for pid in "${BACKGROUND_PIDS[@]}"; do
        stop_pid TERM "$pid"
    done
    for entry in "${PID_FILES[@]}"; do
        pid_file=${entry#*:}
        # postmaster.pid and redis pid files both hold the pid on line 1.
        pid=$(head -n 1 "$pid_file" 2>/dev/null)
        if [[ $pid =~ ^[0-9]+$ ]]; then
            stop_pid "${entry%%:*}" "$pid"
        fi
    done
    for dir in "${TEMP_DIRS[@]}"; do
        rm -rf -- "$dir"
    done
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Creates a temp dir, removed on exit, and stores its path in variable $1.
make_temp_dir() {
    local -n dir_var=$1
    dir_var=$(mktemp -d "${TMPDIR:-/tmp}/octotracker-test.XXXXXX")
    TEMP_DIRS+=("$dir_var")
}

# ---------------------------------------------------------------- packages

# Directory holding initdb and pg_ctl (Debian keeps them out of PATH), or nothing.
postgres_bin_dir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
    fi
}

install_missing_packages() {
    local missing=()
    command -v aria2c >/dev/null || missing+=(aria2)
    "$PYTHON" -c 'import libtorrent' 2>/dev/null || missing+=(python3-libtorrent)
    { command -v redis-server >/dev/null && command -v redis-cli >/dev/null; } || missing+=(redis-server)
    [[ -n $(postgres_bin_dir) ]] && command -v pg_isready >/dev/null || missing+=(postgresql)
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
    { command -v prometheus >/dev/null && command -v promtool >/dev/null; } || missing+=(prometheus)
    command -v systemd-analyze >/dev/null || missing+=(systemd)
    command -v curl >/dev/null || missing+=(curl)
    command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev) # cargo-deb's Depends: $auto
    # The module's build runs bindgen, which loads libclang.
    dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    ((EUID == 0)) || die "missing packages (${missing[*]}): run this script as root or install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# `npm ci` in DIR (no install scripts), exactly as its package-lock.json pins the packages;
# skipped (it takes ~9 s) when node_modules was installed from this very lock file.
npm_ci_if_changed() {
    local dir=$1 lock_sum
    lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    [[ $(cat "$dir/node_modules/.installed-from-lock" 2>/dev/null) == "$lock_sum" ]] && return 0
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
        die "npm ci in $dir failed"
    printf '%s\n' "$lock_sum" >"$dir/node_modules/.installed-from-lock"
}

# cargo-deb, pinned: packaging/test-deb.sh relies on its behaviour (--no-build --profile dev).
CARGO_DEB_VERSION=3.8.0
install_cargo_deb() {
    if [[ $(cargo deb --version 2>/dev/null) != *"$CARGO_DEB_VERSION"* ]]; then
        log "installing cargo-deb $CARGO_DEB_VERSION"
        cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION" --quiet
    fi
}

# ---------------------------------------------------------------- ports

# Prints N distinct free TCP ports on 127.0.0.1. With --cluster, each port is
# below 55535 and port+10000 (the Redis Cluster bus) is free too.
free_ports() {
    "$PYTHON" - "$@" <<'EOF'
import random, socket, sys

count = int(sys.argv[1])
cluster = "--cluster" in sys.argv[2:]

def is_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False

def kernel_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

ports = []
while len(ports) < count:
    if cluster:
        port = random.randrange(20000, 45000)
        ok = is_free(port) and is_free(port + 10000)
    else:
        port = kernel_port()
        ok = True
    if ok and port not in ports and not any(abs(port - p) == 10000 for p in ports):
        ports.append(port)
print(" ".join(map(str, ports)))
EOF
}

# Polls a command until it succeeds, for at most $1 seconds.
wait_until() {
    local timeout=$1
    shift
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

# ---------------------------------------------------------------- PostgreSQL

postgres_answers() { pg_isready -q -h 127.0.0.1 -p "$1"; }

# Starts a throwaway cluster listening on 127.0.0.1:$1.
start_throwaway_postgres() {
    local port=$1 bin_dir dir
    bin_dir=$(postgres_bin_dir)
    make_temp_dir dir
    chown postgres: "$dir"
    # PostgreSQL refuses to run as root. Run from $dir, which postgres can read.
    (
        cd "$dir"
        runuser -u postgres -- "$bin_dir/initdb" -D "$dir/data" -U postgres \
            --auth=trust --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    )
    # SIGQUIT: immediate shutdown; the data is thrown away anyway.
    PID_FILES+=("QUIT:$dir/data/postmaster.pid")
    (
        cd "$dir"
        runuser -u postgres -- "$bin_dir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
            -w -t 30 start -o "-p $port -c listen_addresses=127.0.0.1 \
                -c unix_socket_directories=$dir -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off" >/dev/null ||
            { cat "$dir/postgres.log" >&2; exit 1; }
    )
    wait_until 30 postgres_answers "$port" || die "PostgreSQL on port $port did not become ready"
}

setup_postgres() {
    local port=5432
    if postgres_answers "$port"; then
        log "using the PostgreSQL server already on 127.0.0.1:$port"
    else
        port=$(free_ports 1)
        start_throwaway_postgres "$port"
        log "started a throwaway PostgreSQL on 127.0.0.1:$port"
    fi
    export OCTOTRACKER_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# ---------------------------------------------------------------- Redis

redis_answers() { [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

# Starts one daemonized redis-server on $2 in dir $1; extra args follow.
start_redis_server() {
    local dir=$1 port=$2
    shift 2
    PID_FILES+=("TERM:$dir/redis-$port.pid")
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/redis-$port.pid" \
        --dir "$dir" --logfile "$dir/redis-$port.log" \
        --loadmodule "$OCTOTRACKER_TEST_REDIS_MODULE" "$@" ||
        die "redis-server on port $port failed to start"
}

wait_for_redis() {
    local dir=$1 port=$2
    wait_until 30 redis_answers "$port" ||
        { cat "$dir/redis-$port.log" >&2; die "redis-server on port $port did not answer PING"; }
}

# Always a throwaway server: it must have the module loaded (a server already on :6379 may not).
setup_redis() {
    local port dir
    make_temp_dir dir
    port=$(free_ports 1)
    start_redis_server "$dir" "$port"
    wait_for_redis "$dir" "$port"
    log "started a throwaway Redis (with the octotracker module) on 127.0.0.1:$port"
    export OCTOTRACKER_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
}

# Builds the Redis module the servers load (a debug build: the tests check behaviour; the
# benchmarks build their own release one).
build_redis_module() {
    cargo build -p octotracker-redis-module --locked
    OCTOTRACKER_TEST_REDIS_MODULE="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/liboctotracker_redis_module.so"
    [[ -f $OCTOTRACKER_TEST_REDIS_MODULE ]] || die "the module was not built at $OCTOTRACKER_TEST_REDIS_MODULE"
    export OCTOTRACKER_TEST_REDIS_MODULE
}

cluster_is_ok() { [[ $(redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null) == *cluster_state:ok* ]]; }

# Redis Cluster set-up is split in two so that the slow part (`redis-cli
# --cluster create` polls once a second until the nodes agree) runs in the
# background while PostgreSQL starts.
CLUSTER_DIR=""
CLUSTER_PORTS=()
CLUSTER_CREATE_PID=""

start_redis_cluster() {
    local port ports_line nodes=()
    make_temp_dir CLUSTER_DIR
    ports_line=$(free_ports 3 --cluster)
    read -r -a CLUSTER_PORTS <<<"$ports_line"
    for port in "${CLUSTER_PORTS[@]}"; do
        start_redis_server "$CLUSTER_DIR" "$port" --cluster-enabled yes \
            --cluster-config-file "$CLUSTER_DIR/nodes-$port.conf" --cluster-node-timeout 5000
    done
    for port in "${CLUSTER_PORTS[@]}"; do
        wait_for_redis "$CLUSTER_DIR" "$port"
        nodes+=("127.0.0.1:$port")
    done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
        >"$CLUSTER_DIR/cluster-create.log" 2>&1 </dev/null &
    CLUSTER_CREATE_PID=$!
    BACKGROUND_PIDS+=("$CLUSTER_CREATE_PID")
}

finish_redis_cluster() {
    local port urls=()
    wait "$CLUSTER_CREATE_PID" ||
        { cat "$CLUSTER_DIR/cluster-create.log" >&2; die "redis-cli --cluster create failed"; }
    BACKGROUND_PIDS=() # reaped: its pid may be reused by now
    for port in "${CLUSTER_PORTS[@]}"; do
        wait_until 30 cluster_is_ok "$port" || die "Redis Cluster node $port never reached cluster_state:ok"
        urls+=("redis://127.0.0.1:$port")
    done
    log "started a throwaway 3-master Redis Cluster on ports ${CLUSTER_PORTS[*]}"
    OCTOTRACKER_TEST_REDIS_CLUSTER_URLS=$(IFS=,; printf '%s' "${urls[*]}")
    export OCTOTRACKER_TEST_REDIS_CLUSTER_URLS
}

# ---------------------------------------------------------------- main

install_missing_packages
# The status page test drives Debian's chromium with puppeteer-core (downloads no browser).
npm_ci_if_changed tracker-bin/tests/browser
# The WebTorrent tests: real WebTorrent and bittorrent-tracker clients.
npm_ci_if_changed tracker-bin/tests/webtorrent
install_cargo_deb
build_redis_module

services_started_at=$(date +%s%N)
start_redis_cluster
setup_postgres
setup_redis
finish_redis_cluster
log "services ready in $(( ($(date +%s%N) - services_started_at) / 1000000 )) ms"
log "OCTOTRACKER_TEST_POSTGRES_URL=$OCTOTRACKER_TEST_POSTGRES_URL"
log "OCTOTRACKER_TEST_REDIS_URL=$OCTOTRACKER_TEST_REDIS_URL"
log "OCTOTRACKER_TEST_REDIS_CLUSTER_URLS=$OCTOTRACKER_TEST_REDIS_CLUSTER_URLS"
log "OCTOTRACKER_TEST_REDIS_MODULE=$OCTOTRACKER_TEST_REDIS_MODULE"

# The example servers run as real programs in frontends/http/tests/examples.rs: build them first
# (`cargo test` alone compiles examples only as test harnesses).
cargo build --workspace --examples --all-features --locked
cargo test --workspace --all-targets --all-features --locked
cargo test --workspace --doc --all-features --locked

# The Debian package installs system-wide: only as root (CI is), never skipped there.
if ((EUID == 0)); then
    packaging/test-deb.sh
elif [[ ${CI:-} == true ]]; then
    die "packaging/test-deb.sh needs root (dpkg)"
else
    log "not root: skipping packaging/test-deb.sh (dpkg install test)"
fi
