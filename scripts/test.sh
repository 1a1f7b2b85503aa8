#!/usr/bin/env bash
# The whole test suite: unit, oracle (against libgnunetutil and gnunet-config), service tests
# under a real gnunet-arm, and multi-peer tests on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all -- --check
else
  echo "rustfmt not installed: format check skipped (rustup component add rustfmt)"
fi
cargo build --workspace --all-targets --locked
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
cargo test --workspace --locked -- --test-threads="${SECUSHARE_TEST_THREADS:-2}"
# The Debian package: build, lintian, apt install, a user's node, purge (needs root; skips
# with a message without it).
scripts/install-test.sh
