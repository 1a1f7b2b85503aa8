#!/usr/bin/env bash
# The whole test suite: unit, oracle (against libgnunetutil and gnunet-config), service tests
# under a real gnunet-arm, and multi-peer tests on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Peers and services started by tests log here on failure; keep the output readable.
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}
cargo fmt --all -- --check
cargo build --workspace --all-targets --locked
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
cargo test --workspace --locked -- --test-threads="${SECUSHARE_TEST_THREADS:-2}"
