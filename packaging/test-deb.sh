#!/usr/bin/env bash
# The Debian package, end to end: build it with cargo-deb from the binary `cargo build` already
# made (no second build), check the systemd unit (`systemd-analyze verify`, and `security
# --offline=true` at exposure 1.9 or better), install it with dpkg, run the installed binary with
# the packaged config, reload it with SIGHUP, stop it with SIGTERM, reinstall it over an edited
# config (kept: a conffile), remove it (config kept) and purge it (everything gone).
#
# Run by scripts/test.sh after the Rust tests (as root: dpkg). Needs cargo-deb, dpkg and
# systemd-analyze; scripts/test.sh installs them. A missing tool fails.
#
# The test packages the dev-profile binary: building a release binary only for this check would
# cost CI several minutes. cargo-deb (pinned in scripts/test.sh) warns that it prefers release
# profiles; `cargo deb -p octotracker` (release) is what docs/install.md tells users to run.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
UNIT=packaging/debian/octotracker.service
# At most this exposure (times ten) from `systemd-analyze security`: 1.9, the top of "OK".
MAX_EXPOSURE=19

passed=0
failed=0
log() { printf 'test-deb.sh: %s\n' "$*" >&2; }
pass() { passed=$((passed + 1)); log "ok: $*"; }
fail() { failed=$((failed + 1)); log "FAILED: $*"; }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

((EUID == 0)) || { log "error: run as root (dpkg installs the package)"; exit 1; }
for tool in cargo-deb dpkg systemd-analyze; do
    command -v "$tool" >/dev/null || { log "error: $tool missing: run scripts/test.sh, which installs it"; exit 1; }
done
if dpkg-query -W -f='${Status}' octotracker 2>/dev/null | grep -q 'install ok installed'; then
    log "error: an octotracker package is installed on this machine; this test would replace it. Remove it first."
    exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/octotracker-deb.XXXXXX")
SERVER_PID=""
cleanup() {
    local status=$?
    set +e
    [[ -n $SERVER_PID ]] && kill -KILL "$SERVER_PID" 2>/dev/null
    # Installed, or removed with its config left: purge whatever this test left behind.
    if dpkg-query -W octotracker >/dev/null 2>&1; then
        dpkg --purge octotracker >/dev/null 2>&1
    fi
    rm -rf -- "$WORK"
    exit "$status"
}
trap cleanup EXIT

# ---------------------------------------------------------------- the unit, before installing

security=$(systemd-analyze security --offline=true "$UNIT" 2>&1 | grep 'Overall exposure level' || true)
log "systemd-analyze security: ${security#→ }"
check "systemd-analyze security --offline=true scores the unit at most ${MAX_EXPOSURE%?}.${MAX_EXPOSURE: -1}" \
    bash -c "systemd-analyze security --offline=true --threshold=$MAX_EXPOSURE $UNIT >/dev/null 2>&1"
for setting in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes 'CapabilityBoundingSet=$' \
    StateDirectory=octotracker 'ExecReload=/bin/kill -HUP \$MAINPID' KillSignal=SIGTERM; do
    check "the unit sets ${setting%$}" grep -q "^$setting" "$UNIT"
done

# ---------------------------------------------------------------- build and install

[[ -x target/debug/octotracker ]] || cargo build -p octotracker --locked
started=$SECONDS
cargo deb -p octotracker --no-build --profile dev --fast -o "$WORK" >/dev/null 2> >(grep -v 'dev profile\|debug symbols set\|^ *To enable' >&2)
deb=$(ls "$WORK"/octotracker_*.deb)
log "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB) in $((SECONDS - started)) s"

check "dpkg installs the package" bash -c "dpkg -i '$deb' >'$WORK/dpkg.log' 2>&1 || { cat '$WORK/dpkg.log' >&2; false; }"
check "the binary is installed" test -x /usr/bin/octotracker
check "the config is the --print-config template" cmp -s /etc/octotracker/config.toml <(/usr/bin/octotracker --print-config)
check "the config is a conffile" bash -c "dpkg-query -W -f='\${Conffiles}' octotracker | grep -q '/etc/octotracker/config.toml'"
check "the systemd unit is installed" test -f /usr/lib/systemd/system/octotracker.service
check "systemd-analyze verify accepts the installed unit" systemd-analyze verify /usr/lib/systemd/system/octotracker.service

# ---------------------------------------------------------------- run the installed binary

# The unit's command line, with loopback listeners on ports the kernel picks instead of the
# config's 0.0.0.0:6969.
exec_start=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/octotracker.service)
log "running: $exec_start --http 127.0.0.1:0 --metrics 127.0.0.1:0"
$exec_start --http 127.0.0.1:0 --metrics 127.0.0.1:0 2>"$WORK/server.log" &
SERVER_PID=$!
wait_for_line() { # wait_for_line PATTERN: the log line matching it, within 30 s
    local deadline=$((SECONDS + 30)) line
    while ((SECONDS < deadline)); do
        line=$(grep -m1 -- "$1" "$WORK/server.log" || true)
        [[ -n $line ]] && { printf '%s\n' "$line"; return 0; }
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    log "no line matching '$1'; log:"
    cat "$WORK/server.log" >&2
    return 1
}
http=$(wait_for_line 'listening on http://' | sed 's|.*listening on http://||; s| .*||')
metrics=$(wait_for_line 'metrics on http://' | sed 's|.*metrics on http://||; s|/metrics.*||')
reply=$(/usr/bin/octotracker announce "http://$http/announce" --info-hash "$(printf 'ab%.0s' {1..20})" 2>&1 || true)
check "the installed tracker answers an announce" grep -q '"complete"' <<<"$reply"
check "the installed tracker serves its status page" \
    bash -c "curl -sf http://$metrics/ | grep -q '<title>octotracker status</title>'"
kill -HUP "$SERVER_PID"
check "SIGHUP (systemctl reload) is taken, not fatal" wait_for_line 'SIGHUP: nothing to reload' >/dev/null
check "the tracker still answers after SIGHUP" bash -c "curl -sf http://$metrics/stats | grep -q torrents"
kill -TERM "$SERVER_PID"
status=0
wait "$SERVER_PID" || status=$?
SERVER_PID=""
check "SIGTERM (systemctl stop) stops it cleanly (exit $status)" test "$status" -eq 0
check "it logs its graceful stop" grep -q 'stopped' "$WORK/server.log"

# ---------------------------------------------------------------- upgrade, remove, purge

# An operator's edit of the conffile survives a reinstall and a remove; only purge deletes it.
printf '\n# edited by the operator\n' >>/etc/octotracker/config.toml
check "a reinstall over an edited config succeeds" \
    bash -c "dpkg -i '$deb' >'$WORK/dpkg.log' 2>&1 || { cat '$WORK/dpkg.log' >&2; false; }"
check "the edited config survives the reinstall" grep -q 'edited by the operator' /etc/octotracker/config.toml
check "dpkg --remove removes the package" bash -c "dpkg --remove octotracker >'$WORK/dpkg.log' 2>&1"
check "remove keeps the edited config" grep -q 'edited by the operator' /etc/octotracker/config.toml
check "remove takes the binary" test ! -e /usr/bin/octotracker

check "dpkg --purge removes the package" bash -c "dpkg --purge octotracker >'$WORK/dpkg.log' 2>&1 || { cat '$WORK/dpkg.log' >&2; false; }"
check "the binary is gone" test ! -e /usr/bin/octotracker
check "the config is gone" test ! -e /etc/octotracker
check "the unit is gone" test ! -e /usr/lib/systemd/system/octotracker.service
check "the unit's enable link is gone" test ! -e /etc/systemd/system/multi-user.target.wants/octotracker.service
check "dpkg knows it no more" bash -c "! dpkg-query -W -f='\${Status}' octotracker 2>/dev/null | grep -q 'ok installed'"

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
