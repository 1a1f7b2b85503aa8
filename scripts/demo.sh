#!/usr/bin/env bash
# The social demo: three GNUnet peers on loopback with the Rust services registered in ARM, and a
# story told with the real gnunet-social (see README.md). Pass --wait to keep the peers up at the
# end, until Ctrl-C, and use gnunet-social -c pN.conf by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --workspace --all-targets --locked
exec target/debug/secushare-demo "$@"
