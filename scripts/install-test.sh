#!/usr/bin/env bash
# The install test (issue 14): builds the Debian package, checks it with lintian and against
# the files of other packages, checks that scripts/install.sh puts the same files in the same
# places under a prefix, installs the package with apt, starts a GNUnet node as an ordinary
# user (gnunet-arm -s), checks that ARM knows and runs the four services, runs gnunet-social
# --status and a host enter / announce / replay round, stops the node, purges the package and
# checks that none of its files is left and that the gnunet package's files are untouched.
# A second node splits GNUnet as Debian runs it: a system ARM as the user gnunet (multicast,
# psyc, psycstore) and the user's ARM for the per-user services (social), with the same round.
#
# Needs root (apt, dpkg, a test user): skipped with a message otherwise. The package stays
# installed only while the test runs (removed on every exit). The node lives in a temporary
# HOME with its own runtime directories, a loopback-only transport on a port outside the
# test harness's range, and NSE's proof of work off, so it meets no other test's peers.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

passed=0
failed=0
skip() { echo "install test SKIPPED: $*"; exit 0; }
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() {
  failed=$((failed + 1))
  echo "FAILED: $*" >&2
  echo "install: $passed passed, $failed failed"
  exit 1
}

[ "$(id -u)" -eq 0 ] || skip "needs root (apt, dpkg and a test user); run it as root"
for tool in dpkg dpkg-deb apt-get runuser useradd flock lintian gnunet-arm gnunet-identity; do
  command -v "$tool" > /dev/null || skip "$tool is missing (scripts/install-deps.sh installs it)"
done
dpkg-query -W -f='${Status}' gnunet 2>/dev/null | grep -q 'install ok installed' ||
  skip "the gnunet package is not installed"
if dpkg-query -W -f='${Status}' secushare 2>/dev/null | grep -q 'ok installed'; then
  echo "install test: the secushare package is installed already; remove it first" >&2
  exit 1
fi

user=secushare-test
work=$(mktemp -d /tmp/secushare-install-test.XXXXXX)
chmod 755 "$work"
installed=0
created_user=0
node_up=0
system_up=0
port_fd=

run_sys() {
  runuser -u "$sys_group" -g "$sys_group" -- env -i PATH=/usr/bin:/bin HOME="$sys" \
    TMPDIR="$sys/tmp" "$@"
}
run_user() {
  runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$user" \
    LOGNAME="$user" TMPDIR="$home/tmp" "$@"
}

cleanup() {
  set +e
  if [ "$node_up" = 1 ]; then
    run_user timeout 30 gnunet-arm -e -q > /dev/null 2>&1
  fi
  if [ "$system_up" = 1 ]; then
    run_sys timeout 30 gnunet-arm -c "$sys/gnunet.conf" -e -q > /dev/null 2>&1
    # What our system ARM left: processes of gnunet that run on this test's files only.
    for pid in $(pgrep -u "$sys_group" -f "$work/" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  fi
  if [ "$created_user" = 1 ] || id "$user" > /dev/null 2>&1; then
    # Processes left by the node: the test user runs nothing else.
    for pid in $(pgrep -u "$user" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  fi
  if [ "$installed" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq secushare > /dev/null 2>&1 ||
      dpkg --purge secushare > /dev/null 2>&1
  fi
  if [ "$created_user" = 1 ]; then userdel "$user" 2>/dev/null; fi
  [ -n "$port_fd" ] && eval "exec $port_fd>&-"
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$SECONDS
echo "== building the package (release)"
scripts/package.sh > "$work/package.log" 2>&1 || { tail -30 "$work/package.log"; fail "scripts/package.sh"; }
deb=$(ls "$root"/target/debian/secushare_*.deb)
ok "package built in $((SECONDS - started)) s: $(basename "$deb")"

echo "== lintian"
if lintian --fail-on error "$deb" > "$work/lintian.log" 2>&1; then
  ok "lintian: no errors ($(grep -c '^W:' "$work/lintian.log" || true) warnings)"
else
  cat "$work/lintian.log"; fail "lintian reports errors"
fi

# The package's files (not directories), as absolute paths.
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|' | grep -v '/$' | sort > "$work/files"
for f in /usr/lib/x86_64-linux-gnu/gnunet/libexec/gnunet-service-{multicast,psyc,psycstore,social} \
         /usr/share/gnunet/config.d/{multicast,psyc,psycstore,social}.conf /usr/bin/gnunet-social \
         /usr/share/man/man1/gnunet-social.1.gz \
         /usr/share/man/man1/gnunet-service-{multicast,psyc,psycstore,social}.1.gz; do
  grep -qx "$f" "$work/files" || fail "the package lacks $f"
done
ok "the package holds the services, sections, gnunet-social and man pages"
dpkg-deb -I "$deb" control | grep -q '^Depends:.*gnunet (>= 0.19)' || fail "no Depends on gnunet (>= 0.19)"
ok "depends on gnunet (>= 0.19)"
owned=$(while read -r f; do dpkg -S "$f" 2>/dev/null || true; done < "$work/files")
[ -z "$owned" ] || fail "files owned by installed packages: $owned"
ok "no file of the package belongs to another package"
for c in multicast psyc psycstore social; do
  cmp -s "conf/$c.conf" <(dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/share/gnunet/config.d/$c.conf") ||
    fail "the packaged $c.conf differs from conf/$c.conf"
done
ok "the packaged ARM sections are conf/*.conf"

echo "== scripts/install.sh --prefix: the same files in the same places"
prefix=$work/prefix
scripts/install.sh --no-build --prefix "$prefix" \
  --libdir "$prefix/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)" \
  > "$work/install-sh.log" || fail "scripts/install.sh"
(cd "$prefix" && find . -type f | sed 's|^\.|/usr|' | sort) > "$work/prefix-files"
grep -v '^/usr/share/doc/secushare/' "$work/files" > "$work/files-nodoc"
diff "$work/files-nodoc" "$work/prefix-files" || fail "install.sh's files differ from the package's"
for f in $(grep '/man1/' "$work/files"); do
  cmp -s <(dpkg-deb --fsys-tarfile "$deb" | tar -xO ".$f" | zcat) <(zcat "$prefix${f#/usr}") ||
    fail "man page $f differs"
done
ok "install.sh --prefix installs the package's $(wc -l < "$work/prefix-files") files (doc aside)"
scripts/install.sh --uninstall --prefix "$prefix" --libdir "$prefix/lib/x86_64-linux-gnu" > /dev/null
[ -z "$(find "$prefix" -type f)" ] || fail "install.sh --uninstall left files"
ok "install.sh --uninstall removes them"

echo "== installing with apt"
dpkg --verify gnunet > "$work/gnunet-verify-before" 2>&1 || true
(cd /usr/share/gnunet/config.d && ls) > "$work/configd-before"
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" \
  > "$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install"; }
dpkg-query -W -f='${Status}' secushare | grep -q 'install ok installed' || fail "not installed"
dpkg -L secushare | sort > "$work/installed"
conffiles=$(dpkg-query -W -f='${Conffiles}' secushare)
[ -z "$conffiles" ] || fail "conffiles outside /etc: $conffiles"
ok "installed with apt ($(wc -l < "$work/files") files; the sections in /usr/share are no conffiles, as gnunet's)"
libexec=/usr/lib/x86_64-linux-gnu/gnunet/libexec
for b in gnunet-social $libexec/gnunet-service-{multicast,psyc,psycstore,social}; do
  name=$(basename "$b")
  "$b" -v | grep -Eqx "$name v[0-9.]+ \(secushare-rs\)" || fail "$b -v"
  "$b" -h | grep -q -- '-L, --log=LOGLEVEL' || fail "$b -h"
done
ok "the installed binaries answer -v and -h"

echo "== a GNUnet node as the ordinary user $user"
sys_group=gnunet   # the gnunet package's system user and group
if ! id "$user" > /dev/null 2>&1; then
  groups=()
  getent group "$sys_group" > /dev/null && groups=(-G "$sys_group")
  useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "${groups[@]}" "$user"
  created_user=1
fi
# A port outside the harness's 20000-40000, locked like the harness's leases.
mkdir -p /tmp/secushare-testnet-ports && chmod 1777 /tmp/secushare-testnet-ports
port=
for p in $(seq 40100 40199); do
  exec {fd}> "/tmp/secushare-testnet-ports/$p.lock"
  if flock -n "$fd" && ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    port=$p; port_fd=$fd; break
  fi
  eval "exec $fd>&-"
done
[ -n "$port" ] || fail "no free port in 40100-40199"

# What keeps a node apart from other nodes on the machine; the rest, our services' sections
# included, comes from GNUnet's config.d.
isolation() {
  cat <<CONF
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
CONF
}

# Whether an ARM listing ($1) lists every service named after it as one of ours.
lists_services() {
  local s
  for s in "${@:2}"; do
    grep -Eq "^$s \(binary='gnunet-service-$s'" "$1" || return 1
  done
}

# gnunet-social --status and a host enter / announce / replay / leave round as the user;
# $1 names the round in the output.
social_round() {
  local tag=$1 ego place text
  social() { run_user timeout 60 gnunet-social "$@"; }
  run_user timeout 30 gnunet-identity -C host > /dev/null 2>&1 || fail "$tag: gnunet-identity -C host"
  social --status > "$work/status.out" 2> "$work/status.err" ||
    { cat "$work/status.err"; fail "$tag: gnunet-social --status"; }
  ego=$(awk -F'\t' '$1 == "Ego" && $3 == "host" { print $2 }' "$work/status.out")
  [ ${#ego} = 52 ] || { cat "$work/status.out"; fail "$tag: --status does not list the ego host"; }
  ok "$tag: gnunet-social --status lists the user's ego"
  social --host-enter --ego "$ego" > "$work/enter.out" 2> "$work/enter.err" ||
    { cat "$work/enter.err"; fail "$tag: --host-enter"; }
  place=$(grep -Eo 'Host entered: [0-9A-Z]{52}' "$work/enter.err" | cut -d' ' -f3)
  [ ${#place} = 52 ] || { cat "$work/enter.err"; fail "$tag: --host-enter printed no place key"; }
  ok "$tag: --host-enter: place $place"
  text="installed by apt, $tag, $(date +%s)"
  social --host-announce --place "$place" --method _converse --data "$text" \
    > "$work/announce.out" 2> "$work/announce.err" ||
    { cat "$work/announce.err"; fail "$tag: --host-announce"; }
  social --replay-latest --place "$place" --limit 10 > "$work/replay.out" 2> "$work/replay.err" ||
    { cat "$work/replay.err"; fail "$tag: --replay-latest"; }
  grep -qF "$text" "$work/replay.out" ||
    { cat "$work/replay.out"; fail "$tag: the replay lacks the announcement"; }
  ok "$tag: --host-announce, then --replay-latest returns the announcement"
  social --host-leave --place "$place" > /dev/null 2> "$work/leave.err" || fail "$tag: --host-leave"
}

home=$work/home
mkdir -p "$home/.config" "$home/tmp" "$home/log"
{
  printf '[PATHS]\nGNUNET_RUNTIME_DIR = %s/run/system/\nGNUNET_USER_RUNTIME_DIR = %s/run/user/\n\n' \
    "$home" "$home"
  printf '[arm]\nGLOBAL_POSTFIX = -l %s/log/{}.log\n\n[social]\nOPTIONS = -L INFO\n\n' "$home"
  isolation
} > "$home/.config/gnunet.conf"
chown -R "$user:" "$home"
node_up=1
run_user timeout 60 gnunet-arm -s > "$work/arm-start.out" 2>&1 ||
  { cat "$work/arm-start.out"; fail "gnunet-arm -s as $user"; }
ok "gnunet-arm -s as $user (port $port)"
run_user timeout 30 gnunet-arm -I -a > "$work/arm-all.out" 2>&1 || fail "gnunet-arm -I -a"
lists_services "$work/arm-all.out" multicast psyc psycstore social ||
  { cat "$work/arm-all.out"; fail "ARM does not know the four services"; }
ok "ARM knows multicast, psyc, psycstore and social (bare BINARY names)"
social_round "one user's node"
run_user timeout 30 gnunet-arm -I > "$work/arm-running.out" 2>&1 || fail "gnunet-arm -I"
lists_services "$work/arm-running.out" multicast psyc psycstore social ||
  { cat "$work/arm-running.out"; fail "gnunet-arm -I does not list the four services running"; }
ok "gnunet-arm -I lists the four services running"
line='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}[+-][0-9]{4} social-[0-9]+ INFO logging started'
grep -Eq "$line" "$home/log/social.log" 2>/dev/null ||
  { cat "$home/log/social.log" 2>/dev/null; fail "social.log has no GNUnet-format INFO line"; }
ok "social logs in GNUnet's format at the level of its OPTIONS (-L INFO, -l from ARM)"
run_user timeout 60 gnunet-arm -e > "$work/arm-stop.out" 2>&1 || fail "gnunet-arm -e"
node_up=0
for _ in $(seq 50); do pgrep -u "$user" > /dev/null || break; sleep 0.2; done
! pgrep -u "$user" > /dev/null || fail "processes of $user left after gnunet-arm -e: $(pgrep -a -u "$user")"
ok "gnunet-arm -e stops the node and our services"

echo "== GNUnet as a system service (ARM as $sys_group) with the user's per-user part"
if ! id -nG "$user" | tr ' ' '\n' | grep -qx "$sys_group"; then
  echo "skipped: $user is not in the group $sys_group (the gnunet package's)"
else
  # The system's ARM runs the system services (multicast, psyc, psycstore among them) as
  # gnunet, as Debian's gnunet.service does; the user's ARM runs the per-user ones (identity,
  # namestore, social), which reach the system's through the shared runtime directory.
  sys=$work/system
  sysrun=$work/system-run
  mkdir -p "$sys/tmp" "$sys/log" "$sysrun"
  {
    printf '[PATHS]\nGNUNET_HOME = %s/\nGNUNET_DATA_HOME = %s/data/\n' "$sys" "$sys"
    printf 'GNUNET_CONFIG_HOME = %s/config/\nGNUNET_CACHE_HOME = %s/cache/\n' "$sys" "$sys"
    printf 'GNUNET_RUNTIME_DIR = %s/\nGNUNET_USER_RUNTIME_DIR = %s/urun/\n' "$sysrun" "$sys"
    printf 'GNUNET_TMP = %s/tmp/\n\n' "$sys"
    printf '[arm]\nSTART_SYSTEM_SERVICES = YES\nSTART_USER_SERVICES = NO\n'
    printf 'GLOBAL_POSTFIX = -l %s/log/{}.log\n\n' "$sys"
    isolation
  } > "$sys/gnunet.conf"
  chown -R "$sys_group:$sys_group" "$sys" "$sysrun"
  chmod 2775 "$sysrun"
  home=$work/home2
  mkdir -p "$home/.config" "$home/tmp" "$home/log"
  {
    printf '[PATHS]\nGNUNET_RUNTIME_DIR = %s/\nGNUNET_USER_RUNTIME_DIR = %s/run/user/\n\n' \
      "$sysrun" "$home"
    printf '[arm]\nSTART_SYSTEM_SERVICES = NO\nSTART_USER_SERVICES = YES\n'
    printf 'GLOBAL_POSTFIX = -l %s/log/{}.log\n\n' "$home"
    isolation
  } > "$home/.config/gnunet.conf"
  chown -R "$user:" "$home"
  system_up=1
  run_sys timeout 60 gnunet-arm -c "$sys/gnunet.conf" -s > "$work/sys-start.out" 2>&1 ||
    { cat "$work/sys-start.out"; fail "the system's gnunet-arm -s as $sys_group"; }
  node_up=1
  run_user timeout 60 gnunet-arm -s > "$work/arm-start2.out" 2>&1 ||
    { cat "$work/arm-start2.out"; fail "the user's gnunet-arm -s"; }
  ok "system ARM as $sys_group and the user's ARM started"
  social_round "system and user ARM"
  run_sys timeout 30 gnunet-arm -c "$sys/gnunet.conf" -I > "$work/sys-running.out" 2>&1 ||
    fail "the system's gnunet-arm -I"
  run_user timeout 30 gnunet-arm -I > "$work/user-running.out" 2>&1 || fail "the user's gnunet-arm -I"
  lists_services "$work/sys-running.out" multicast psyc psycstore ||
    { cat "$work/sys-running.out"; fail "the system's ARM does not run multicast, psyc, psycstore"; }
  if ! lists_services "$work/user-running.out" social || lists_services "$work/user-running.out" psyc ||
     lists_services "$work/sys-running.out" social; then
    cat "$work/sys-running.out" "$work/user-running.out"; fail "social is not the user's alone"
  fi
  ok "multicast, psyc, psycstore run in the system's ARM, social in the user's (per user, as in C)"
  run_user timeout 60 gnunet-arm -e > /dev/null 2>&1 || fail "the user's gnunet-arm -e"
  node_up=0
  run_sys timeout 60 gnunet-arm -c "$sys/gnunet.conf" -e > /dev/null 2>&1 ||
    fail "the system's gnunet-arm -e"
  system_up=0
  for _ in $(seq 50); do
    if ! pgrep -u "$user" > /dev/null && ! pgrep -u "$sys_group" -f "$work/" > /dev/null; then break; fi
    sleep 0.2
  done
  if pgrep -u "$user" > /dev/null || pgrep -u "$sys_group" -f "$work/" > /dev/null; then
    fail "processes left after gnunet-arm -e: $(pgrep -a -u "$user"; pgrep -a -u "$sys_group" -f "$work/")"
  fi
  ok "both ARMs stop with their services"
fi

echo "== removing the package"
# The files of the package still on disk (directories other packages share aside).
leftovers() {
  while read -r f; do
    if [ -d "$f" ] && [ -n "$(dpkg -S "$f" 2>/dev/null)" ]; then continue; fi
    if [ -e "$f" ]; then echo "$f"; fi
  done < "$work/installed"
}
# Remove first: with no conffiles, that alone must take every file away.
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq secushare > "$work/remove.log" 2>&1 ||
  { cat "$work/remove.log"; fail "apt-get remove"; }
left=$(leftovers)
[ -z "$left" ] || fail "left after apt-get remove: $left"
ok "apt-get remove leaves no file of the package"
# Without conffiles nothing stays for a purge: dpkg forgets the package at removal already.
if dpkg-query -W -f='${Status}' secushare 2>/dev/null | grep -q 'config-files'; then
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq secushare > "$work/purge.log" 2>&1 ||
    { cat "$work/purge.log"; fail "apt-get purge"; }
fi
installed=0
status=$(dpkg-query -W -f='${Status}' secushare 2>/dev/null || true)
case "$status" in ""|"unknown ok not-installed"|"purge ok not-installed"|"deinstall ok not-installed") ;;
  *) fail "dpkg still knows secushare: $status" ;;
esac
left=$(leftovers)
[ -z "$left" ] || fail "left after purge: $left"
ok "dpkg keeps nothing of the package (status: ${status:-unknown}), no file of it is left"
dpkg --verify gnunet > "$work/gnunet-verify-after" 2>&1 || true
diff "$work/gnunet-verify-before" "$work/gnunet-verify-after" || fail "dpkg --verify gnunet changed"
(cd /usr/share/gnunet/config.d && ls) | diff "$work/configd-before" - || fail "config.d changed"
ok "the gnunet package's files are untouched (dpkg --verify gnunet as before; config.d as before)"

echo "install test took $((SECONDS - started)) s"
echo "install: $passed passed, $failed failed"
