#!/usr/bin/env bash
# Runs the 2019 C test programs against our services: test_multicast, test_multicast_2peers
# (ours on both peers, and a C multicast service on either side), test_multicast_multipeer
# (12 peers, star and line), test_psycstore, test_psyc three ways (the C psyc service on top
# of our multicast and psycstore, our psyc on our multicast and psycstore, and our psyc on the C
# multicast service with our psycstore), test_social on our four services, and the C
# gnunet-social tool against our social service (scripts/dropin-social-cli.sh).
#
# Usage: scripts/dropin-check.sh GNUNET_MIRROR_GIT [COMMIT]
#   GNUNET_MIRROR_GIT  a clone (bare or not) of GNUnet-Mirror/GNUnet
#   COMMIT             default: the parent of 0d4f15137, the last commit with these services
# Environment: ONLY=REGEX runs only the checks whose names match (e.g. ONLY=test_psyc);
# KEEP=1 keeps the build folder with the logs of passing checks too; PRIVACY=LEVEL runs every
# check with `[secushare] PRIVACY = LEVEL` (default convenient, the level at which C peers and
# clients take part in everything; docs/privacy.md says what C parts work at balanced).
#
# Nothing of the C sources is kept in this repository: they are taken from the given clone into
# a temporary directory and built there against the installed GNUnet 0.19 headers, with the few
# changes 0.19's API needs (key creation fills a caller's buffer, sign/verify are the
# `_`-suffixed functions, channel_create lost its options argument, the multicast signature
# purposes are no longer in the headers). test_psycstore starts its service from GNUnet's
# libexec folder, so that check needs root (it links our binary there for the run and removes
# the link again) and is skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
repo_root=$PWD
mirror=${1:?usage: $0 GNUNET_MIRROR_GIT [COMMIT]}
commit=${2:-$(git -C "$mirror" rev-parse 0d4f15137^)}
cargo build --release --locked -p multicast -p psycstore -p psyc -p social --bins
mc_rust=$repo_root/target/release/gnunet-service-multicast
ps_rust=$repo_root/target/release/gnunet-service-psycstore
psyc_rust=$repo_root/target/release/gnunet-service-psyc
social_rust=$repo_root/target/release/gnunet-service-social

work=$(mktemp -d /tmp/dropin.XXXXXX)
echo "building the C programs in $work"
cd "$work"
take() { git -C "$mirror" show "$commit:src/$1" > "$(basename "$1")"; }
for f in multicast/multicast_api.c multicast/multicast.h multicast/test_multicast.c \
    multicast/test_multicast_2peers.c multicast/test_multicast.conf \
    multicast/test_multicast_multipeer.c multicast/test_multicast_star.conf \
    multicast/test_multicast_line.conf \
    multicast/gnunet-service-multicast.c \
    psycstore/psycstore.h psycstore/psycstore_api.c psycstore/test_psycstore.c \
    psycutil/psyc_env.c psycutil/psyc_message.c psycutil/psyc_slicer.c \
    psyc/psyc.h psyc/psyc_api.c psyc/psyc_test_lib.h psyc/test_psyc.c \
    psyc/gnunet-service-psyc.c social/social.h social/social_api.c social/test_social.c \
    social/gnunet-social.c; do
    take "$f"
done
for h in gnunet_multicast_service.h gnunet_psyc_env.h gnunet_psyc_message.h \
    gnunet_psyc_service.h gnunet_psyc_slicer.h gnunet_psyc_util_lib.h \
    gnunet_psycstore_service.h gnunet_social_service.h; do
    take "include/$h"
done
printf '#include <gnunet/gnunet_config.h>\n#include <stdlib.h>\n#include <string.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <unistd.h>\n#include <errno.h>\n#include <sys/types.h>\n#include <sys/socket.h>\n#include <netinet/in.h>\n' > platform.h

# The API changes between the 2019 tree and 0.19.
sed -i -e 's|#include "gnunet_crypto_lib.h"||' -e 's|#include "gnunet_common.h"||' \
    -e 's|\([a-z_]*_key\) = GNUNET_CRYPTO_ecdsa_key_create ();|\1 = GNUNET_new (struct GNUNET_CRYPTO_EcdsaPrivateKey); GNUNET_CRYPTO_ecdsa_key_create (\1);|' \
    -e 's|\([a-z_]*_key\) = GNUNET_CRYPTO_eddsa_key_create ();|\1 = GNUNET_new (struct GNUNET_CRYPTO_EddsaPrivateKey); GNUNET_CRYPTO_eddsa_key_create (\1);|' \
    -e 's#GNUNET_CRYPTO_\(e[cd]dsa\)_\(sign\|verify\) (#GNUNET_CRYPTO_\1_\2_ (#' \
    -e 's|\(multicast_peer->key\) = GNUNET_CRYPTO_ecdsa_key_create ();|\1 = GNUNET_new (struct GNUNET_CRYPTO_EcdsaPrivateKey); GNUNET_CRYPTO_ecdsa_key_create (\1);|' \
    -e 's|GNUNET_free_non_null|GNUNET_free|g' \
    ./*.c
sed -i -e '/GNUNET_CADET_OPTION_RELIABLE,/d' \
    -e 's|#include "platform.h"|#include "platform.h"\n#define GNUNET_SIGNATURE_PURPOSE_MULTICAST_MESSAGE 19\n#define GNUNET_SIGNATURE_PURPOSE_MULTICAST_REQUEST 24|' \
    gnunet-service-multicast.c
# test_social: 0.19 IDENTITY creates egos with a key type and answers with an error code, and
# stores ego names lower-case (spec social.md I14; the test compared "Host One" exactly).
sed -i -e 's|"Host One"|"host one"|' -e 's|"Guest One"|"guest one"|' \
    -e 's#^id_\(host\|guest\)_created (void \*cls, const char \*emsg)$#id_\1_created (void *cls, const struct GNUNET_IDENTITY_PrivateKey *pk, enum GNUNET_ErrorCode ec)#' \
    -e 's|if (NULL != emsg)|const char *emsg = GNUNET_ErrorCode_get_hint (ec);\n  if (GNUNET_EC_NONE != ec)|' \
    -e 's|GNUNET_IDENTITY_create (id, \([a-z_]*\), &|GNUNET_IDENTITY_create (id, \1, NULL, GNUNET_IDENTITY_TYPE_ECDSA, \&|' \
    test_social.c
# gnunet-social: 0.19's GNUNET_free needs an lvalue, FPRINTF is gone, no gettext macro here.
sed -i -e 's|GNUNET_free ((void \*) argv);|GNUNET_free_nz ((void *) argv);|' -e 's|FPRINTF|fprintf|g' \
    -e '0,/#include "platform.h"/s||#include "platform.h"\n#ifndef _\n#define _(s) (s)\n#endif|' \
    gnunet-social.c

cc() { gcc -w -I. -I/usr/include/gnunet "$@"; }
for f in ./*.c; do cc -c "$f" -o "${f%.c}.o"; done
psycutil="psyc_env.o psyc_message.o psyc_slicer.o"
cc -o test_multicast test_multicast.o multicast_api.o -lgnunettesting -lgnunetutil
cc -o test_multicast_2peers test_multicast_2peers.o multicast_api.o -lgnunettestbed \
    -lgnunettesting -lgnunetutil
cc -o test_multicast_multipeer_star test_multicast_multipeer.o multicast_api.o \
    -lgnunettestbed -lgnunettesting -lgnunetutil
cp test_multicast_multipeer_star test_multicast_multipeer_line
cc -o gnunet-service-multicast-c gnunet-service-multicast.o -lgnunetcadet \
    -lgnunetstatistics -lgnunetutil
cc -o test_psycstore test_psycstore.o psycstore_api.o -lgnunettesting -lgnunetutil
# shellcheck disable=SC2086
cc -o gnunet-service-psyc-c gnunet-service-psyc.o psycstore_api.o multicast_api.o $psycutil \
    -lgnunetstatistics -lgnunetutil
# shellcheck disable=SC2086
cc -o test_psyc test_psyc.o psyc_api.o $psycutil -lgnunettesting -lgnunetutil
# shellcheck disable=SC2086
cc -o test_social test_social.o social_api.o $psycutil -lgnunetidentity -lgnunettesting \
    -lgnunetutil
# shellcheck disable=SC2086
cc -o gnunet-social gnunet-social.o social_api.o $psycutil -lgnunetutil

section() { # name binary
    printf '\n[%s]\nSTART_ON_DEMAND = YES\nIMMEDIATE_START = YES\nBINARY = %s\n' "$1" "$2"
    printf 'UNIXPATH = $GNUNET_RUNTIME_DIR/gnunet-service-%s.sock\n' "$1"
    printf 'UNIX_MATCH_UID = YES\nUNIX_MATCH_GID = YES\n'
}
privacy=${PRIVACY:-convenient}
export PRIVACY=$privacy
echo "privacy level: $privacy"
quiet='\n[nse]\nWORKBITS = 0\n[hostlist]\nIMMEDIATE_START = NO\nSTART_ON_DEMAND = NO\n'
quiet+="\\n[secushare]\\nPRIVACY = $privacy\\n"

# test_multicast and test_multicast_2peers share one template. The testbed peers must be
# connected (the default topology NONE never connects them, with the C service too), and a
# wrapper picks the implementation per testbed peer: peer 0 is the origin.
sed -i -e '/^\[multicast\]/,/^UNIXPATH/d' -e 's|^\[testbed\]|[testbed]\nOVERLAY_TOPOLOGY = CLIQUE|' \
    test_multicast.conf
{ section multicast "$work/pick-multicast.sh"; printf "$quiet"; } >> test_multicast.conf
cat > pick-multicast.sh <<EOF
#!/bin/sh
case "\$*" in
  */0/config*) exec "\$(cat $work/origin_impl)" "\$@" ;;
  *) exec "\$(cat $work/member_impl)" "\$@" ;;
esac
EOF
chmod +x pick-multicast.sh

failed=0
check() { # name command...
    local name=$1
    shift
    if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then
        return
    fi
    if timeout 300 "$@" > "$name.log" 2>&1; then
        echo "PASS  $name"
    else
        echo "FAIL  $name (log: $work/$name.log)"
        failed=1
    fi
}
impl() { [ "$1" = c ] && echo "$work/gnunet-service-multicast-c" || echo "$mc_rust"; }

impl rust > origin_impl
impl rust > member_impl
check test_multicast ./test_multicast
for pair in "rust rust" "c rust" "rust c"; do
    set -- $pair
    impl "$1" > origin_impl
    impl "$2" > member_impl
    check "test_multicast_2peers-origin-$1-member-$2" ./test_multicast_2peers
done

# 12 peers through testbed, star and line overlays, our service on all of them.
for topology in star line; do
    sed -i '/^\[multicast\]/,/^UNIXPATH/d' "test_multicast_$topology.conf"
    { section multicast "$mc_rust"; printf "$quiet"; } >> "test_multicast_$topology.conf"
    check "test_multicast_multipeer_$topology" "./test_multicast_multipeer_$topology"
done

# test_psyc reads test_psyc.conf: one peer with the psyc, multicast and psycstore services given.
psyc_check() { # name psyc-binary multicast-binary
    {
        printf '[testbed]\nHOSTNAME = localhost\n[peerinfo]\nNO_IO = YES\n[nat]\nENABLE_UPNP = NO\n'
        section psyc "$2"
        section multicast "$3"
        section psycstore "$ps_rust"
        printf 'DATABASE = sqlite\n[psycstore-sqlite]\nFILENAME = $GNUNET_DATA_HOME/psycstore/sqlite.db\n'
        printf "$quiet"
    } > test_psyc.conf
    check "$1" ./test_psyc
}
psyc_check test_psyc "$work/gnunet-service-psyc-c" "$mc_rust"
psyc_check test_psyc-rust-psyc "$psyc_rust" "$mc_rust"
psyc_check test_psyc-rust-psyc-on-c-multicast "$psyc_rust" "$work/gnunet-service-multicast-c"

# test_social reads test_social.conf: one peer with all four services ours, and the C identity,
# namestore, gns and zonemaster (zonemaster copies namestore records to where GNS reads them).
{
    printf '[testbed]\nHOSTNAME = localhost\n[peerinfo]\nNO_IO = YES\n[nat]\nENABLE_UPNP = NO\n'
    printf '[zonemaster]\nIMMEDIATE_START = YES\n[gns]\nIMMEDIATE_START = YES\n'
    section social "$social_rust"
    # The C test was written against a relay that never fired (spec social.md §15 note).
    printf 'RUN_PER_USER = YES\nDATA_HOME = $GNUNET_DATA_HOME/social\nRELAY = NO\n'
    section psyc "$psyc_rust"
    section multicast "$mc_rust"
    section psycstore "$ps_rust"
    printf 'DATABASE = sqlite\n[psycstore-sqlite]\nFILENAME = $GNUNET_DATA_HOME/psycstore/sqlite.db\n'
    printf "$quiet"
} > test_social.conf
check test_social ./test_social
check gnunet-social-c "$repo_root/scripts/dropin-social-cli.sh" "$work/gnunet-social" \
    "$social_rust" "$psyc_rust" "$mc_rust" "$ps_rust"

git -C "$mirror" show "$commit:src/psycstore/test_psycstore.conf" > test_psycstore.conf
{ section psycstore "$ps_rust"; printf "$quiet"; } >> test_psycstore.conf
libexec=$(pkg-config --variable=libdir gnunetutil)/gnunet/libexec
if [ -n "${ONLY:-}" ] && ! [[ test_psycstore =~ $ONLY ]]; then
    :
elif [ "$(id -u)" = 0 ] && [ ! -e "$libexec/gnunet-service-psycstore" ]; then
    ln -s "$ps_rust" "$libexec/gnunet-service-psycstore"
    check test_psycstore ./test_psycstore
    rm -f "$libexec/gnunet-service-psycstore"
else
    echo "SKIP  test_psycstore (needs root and no gnunet-service-psycstore in $libexec)"
fi
if [ "$failed" = 0 ] && [ -z "${KEEP:-}" ]; then
    rm -rf "$work"
fi
exit $failed
