#!/usr/bin/env bash
# The local demo network: two GNUnet peers on loopback with the Rust services registered in ARM.
# Pass --wait to keep the peers up until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --workspace --all-targets --locked
exec target/debug/secushare-demo "$@"
