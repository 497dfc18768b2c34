# Process helpers shared by the bench scripts (source it after creating $WORK, the run's temp
# dir): every pid pushed onto PIDS and the generator run by run_waited are stopped, and $WORK
# removed, when the script exits or is interrupted.

PIDS=()

# Stops PID: TERM, then KILL after 5 s.
stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    [[ -n ${GEN_PID:-} ]] && stop_pid "$GEN_PID"
    for pid in "${PIDS[@]}"; do
        stop_pid "$pid"
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a generator (or populate) to completion in the background and waits for it, so that a
# signal to the script is handled at once (the trap stops it) instead of after it ends.
GEN_PID=
run_waited() {
    local status=0
    "$@" &
    GEN_PID=$!
    wait "$GEN_PID" || status=$?
    GEN_PID=
    return "$status"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.2f×", a / b }'; }

# Waits (at most 60 s) for "listening on SCHEME://ADDR" (SCHEME: http unless given) in a log
# file and prints ADDR; calls the script's `die` when the server exits first or never says it.
wait_listening() { # LOGFILE PID [SCHEME]
    local addr scheme=${3:-http}
    for _ in $(seq 1 600); do
        addr=$(grep -aos "listening on $scheme://[0-9.:]*" "$1" | head -1 | sed "s|listening on $scheme://||") || true
        [[ -n $addr ]] && { echo "$addr"; return; }
        kill -0 "$2" 2>/dev/null || die "server exited: $(cat "$1")"
        sleep 0.1
    done
    die "no 'listening on $scheme://' line in $1"
}

# An announce for hash HEX, then a `stopped` one so that it leaves no peer behind; fails unless
# the first reply is a success. (opentracker answers `stopped` without checking its whitelist,
# so only the first one tells whether the whitelist is loaded.)
check_announce() { # ADDR HEX
    local query="info_hash=" body i
    for (( i = 0; i < ${#2}; i += 2 )); do query+="%${2:i:2}"; done
    query+="&peer_id=-CK0001-000000000001&port=6881&left=0&compact=1"
    body=$(curl -s --max-time 2 "http://$1/announce?$query&event=started" | tr -d '\0') || return 1
    curl -s --max-time 2 -o /dev/null "http://$1/announce?$query&event=stopped" || true
    [[ $body == *interval* && $body != *"failure reason"* ]]
}
