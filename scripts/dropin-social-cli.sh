#!/usr/bin/env bash
# The 2019 C `gnunet-social` (built by dropin-check.sh against GNUnet 0.19) against our social
# service, on one GNUnet 0.19 peer started with gnunet-arm: status, host enter, a guest entering
# with an entry decision, announce, talk, assign, replay, look-at, host leave. Each step checks
# what the C tool prints.
#
# Usage: scripts/dropin-social-cli.sh C_GNUNET_SOCIAL SOCIAL PSYC MULTICAST PSYCSTORE
#   (the C tool, then our four service binaries)
set -euo pipefail
cli=${1:?usage: $0 C_GNUNET_SOCIAL SOCIAL PSYC MULTICAST PSYCSTORE}
social=$2 psyc=$3 multicast=$4 psycstore=$5

dir=$(mktemp -d /tmp/social-cli.XXXXXX)
mkdir -p "$dir"/{run,urun,data,config,cache,tmp,log}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conf=$dir/peer.conf
{
    cat <<EOF
[PATHS]
GNUNET_HOME = $dir
GNUNET_RUNTIME_DIR = $dir/run/
GNUNET_USER_RUNTIME_DIR = $dir/urun/
GNUNET_DATA_HOME = $dir/data/
GNUNET_CONFIG_HOME = $dir/config/
GNUNET_CACHE_HOME = $dir/cache/
GNUNET_TMP = $dir/tmp/
[arm]
OPTIONS = -l $dir/log/arm.log
GLOBAL_POSTFIX = -l $dir/log/{}.log
[transport]
PLUGINS = tcp
[transport-tcp]
PORT = $port
ADVERTISED_PORT = $port
BINDTO = 127.0.0.1
[nat]
BEHIND_NAT = NO
ENABLE_UPNP = NO
DISABLEV6 = YES
INTERNAL_ADDRESS = 127.0.0.1
EXTERNAL_ADDRESS = 127.0.0.1
[peerinfo]
USE_INCLUDED_HELLOS = NO
[nse]
WORKBITS = 0
[hostlist]
IMMEDIATE_START = NO
START_ON_DEMAND = NO
[fs]
IMMEDIATE_START = NO
START_ON_DEMAND = NO
[rest]
IMMEDIATE_START = NO
START_ON_DEMAND = NO
EOF
    for s in "social $social urun" "psyc $psyc run" "multicast $multicast run" \
        "psycstore $psycstore run"; do
        set -- $s
        printf '[%s]\nSTART_ON_DEMAND = YES\nBINARY = %s\n' "$1" "$2"
        printf 'UNIXPATH = $GNUNET_%s_DIR/gnunet-service-%s.sock\n' \
            "$([ "$3" = urun ] && echo USER_RUNTIME || echo RUNTIME)" "$1"
        printf 'UNIX_MATCH_UID = NO\nUNIX_MATCH_GID = YES\n'
    done
    printf 'DATABASE = sqlite\n[psycstore-sqlite]\nFILENAME = $GNUNET_DATA_HOME/psycstore/sqlite.db\n'
    printf '[social]\nRUN_PER_USER = YES\nDATA_HOME = $GNUNET_DATA_HOME/social\n'
    printf '[secushare]\nPRIVACY = %s\n' "${PRIVACY:-convenient}"
} > "$conf"

bg_pids=()
finish() {
    local rc=$?
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    gnunet-arm -e -c "$conf" > /dev/null 2>&1 || true
    if [ "$rc" = 0 ]; then rm -rf "$dir"; else echo "logs kept in $dir"; fi
}
trap finish EXIT

fail() {
    echo "FAILED: $*" >&2
    for f in "$dir"/*.out "$dir"/*.err; do
        [ -e "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done >&2
    exit 1
}
# wait_for FILE REGEX SECONDS
wait_for() {
    local deadline=$((SECONDS + $3))
    while ! grep -Eq "$2" "$1" 2> /dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || fail "no '$2' in $1 within $3 s"
        sleep 0.2
    done
}
social() { timeout 60 "$cli" -c "$conf" "$@"; }

gnunet-arm -s -c "$conf"
gnunet-identity -c "$conf" -C host
gnunet-identity -c "$conf" -C guest

echo "step: status lists both egos"
social --status > "$dir/status.out" 2> "$dir/status.err" || fail "--status exit $?"
host_ego=$(awk -F'\t' '$1 == "Ego" && $3 == "host" { print $2 }' "$dir/status.out")
guest_ego=$(awk -F'\t' '$1 == "Ego" && $3 == "guest" { print $2 }' "$dir/status.out")
[ ${#host_ego} = 52 ] && [ ${#guest_ego} = 52 ] || fail "egos not listed"

echo "step: host enter"
social --host-enter --ego "$host_ego" > "$dir/enter.out" 2> "$dir/enter.err" ||
    fail "--host-enter exit $?"
place=$(grep -Eo 'Host entered: [0-9A-Z]{52}' "$dir/enter.err" | cut -d' ' -f3)
[ ${#place} = 52 ] || fail "no place key printed"
social --status > "$dir/status2.out" 2> /dev/null || fail "--status exit $?"
grep -qx "Host	$place" "$dir/status2.out" || fail "the place is not listed"

echo "step: the host welcomes, the guest enters"
stdbuf -oL "$cli" -c "$conf" --host-reconnect --place "$place" --follow --welcome \
    > "$dir/host.out" 2> "$dir/host.err" &
bg_pids+=($!)
sleep 1
stdbuf -oL "$cli" -c "$conf" --guest-enter --place "$place" --ego "$guest_ego" --follow \
    > "$dir/guest.out" 2> "$dir/guest.err" &
bg_pids+=($!)
wait_for "$dir/host.err" "Entry request: $guest_ego" 30
wait_for "$dir/guest.err" 'Guest received entry decision 1' 30

echo "step: announce, assign, talk"
social --host-announce --place "$place" --method _converse --data 'hello guest' \
    > /dev/null 2>&1 || fail "--host-announce exit $?"
wait_for "$dir/guest.out" 'hello guest' 30
social --host-assign --place "$place" --name _topic --data 'drop-in' > /dev/null 2>&1 ||
    fail "--host-assign exit $?"
social --guest-talk --place "$place" --method _converse_guest --data 'hello host' \
    > /dev/null 2>&1 || fail "--guest-talk exit $?"
wait_for "$dir/host.out" 'hello host' 30

echo "step: replay and look-at"
social --replay-latest --place "$place" --limit 10 --method _converse \
    > "$dir/replay.out" 2> /dev/null || fail "--replay-latest exit $?"
grep -q 'hello guest' "$dir/replay.out" || fail "replay lacks the announcement"
social --look-at --place "$place" --name _topic > /dev/null 2> "$dir/look.err" ||
    fail "--look-at exit $?"
grep -q 'drop-in' "$dir/look.err" || fail "look-at lacks the value"

echo "step: host leave"
# The followers go first: the C tool, still following a place that closes, crashes.
for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
bg_pids=()
social --host-leave --place "$place" > /dev/null 2> "$dir/leave.err" ||
    fail "--host-leave exit $?"
grep -q 'The host has left the place.' "$dir/leave.err" || fail "no leave ack"
echo "all steps passed"
