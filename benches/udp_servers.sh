# Helpers shared by udp_compare.sh and udp_fill.sh (source it after processes.sh, with WORK,
# PORT_MIN, PORT_MAX, PIN_SERVER and a `die` function set).

# A free port in PORT_MIN..PORT_MAX, for tcp or udp (free for TCP too: servers listen on both).
free_port() { # tcp|udp
    local port flag=-Htln
    [[ $1 == udp ]] && flag=-Huln
    while :; do
        port=$(( PORT_MIN + RANDOM % (PORT_MAX - PORT_MIN + 1) ))
        if ! ss "$flag" "sport = :$port" | grep -q . && ! ss -Htln "sport = :$port" | grep -q .; then
            echo "$port"
            return
        fi
    done
}

# Starts Debian's opentracker (pinned with PIN_SERVER) whitelisting the hashes of the file
# HASHES, listening on UDP and on TCP (only for the probe that proves its whitelist is loaded:
# Debian builds it whitelist-only, and loads the list in a thread after start). Sets OT_PID
# and OT_UDP (127.0.0.1:PORT).
start_opentracker_udp() { # HASHES
    local root=$WORK/opentracker tcp_port udp_port i
    mkdir -p "$root"
    chmod 755 "$root"
    cp "$1" "$root/whitelist.txt"
    chmod 644 "$root/whitelist.txt"
    tcp_port=$(free_port tcp)
    udp_port=$(free_port udp)
    cat >"$WORK/opentracker.conf" <<EOF
listen.tcp 127.0.0.1:$tcp_port
listen.udp 127.0.0.1:$udp_port
access.whitelist /whitelist.txt
tracker.rootdir $root
tracker.user _opentracker
EOF
    "${PIN_SERVER[@]}" opentracker -f "$WORK/opentracker.conf" </dev/null >"$WORK/opentracker.log" 2>&1 &
    OT_PID=$!
    PIDS+=("$OT_PID")
    OT_UDP=127.0.0.1:$udp_port
    for i in $(seq 1 600); do
        check_announce "127.0.0.1:$tcp_port" "$(tail -1 "$1")" && return
        kill -0 "$OT_PID" 2>/dev/null || die "opentracker exited: $(cat "$WORK/opentracker.log")"
        (( i < 600 )) || die "opentracker does not accept whitelisted hashes (see $WORK/opentracker.log)"
        sleep 0.1
    done
}
