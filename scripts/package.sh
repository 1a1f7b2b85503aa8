#!/usr/bin/env bash
# Builds the Debian package `secushare` (release build) into target/debian/:
#   scripts/package.sh && apt install ./target/debian/secushare_*.deb
# What goes where is [package.metadata.deb] in Cargo.toml. Needs cargo-deb
# (scripts/install-deps.sh installs the pinned version) and, for the dependency list, dpkg-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_DEB_VERSION=${CARGO_DEB_VERSION:-3.8.0}
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  echo "cargo-deb $CARGO_DEB_VERSION not found: cargo install --locked cargo-deb@$CARGO_DEB_VERSION" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
if [ "$arch" != amd64 ]; then
  # The libexec path in Cargo.toml is Debian's multiarch path of amd64.
  echo "package.sh: only amd64 is described in Cargo.toml ([package.metadata.deb] assets), not $arch" >&2
  exit 1
fi
# Only the packaged binaries: the four services and gnunet-social.
cargo build --release --locked -p multicast -p psyc -p psycstore -p social --bins
rm -f target/debian/secushare_*.deb
cargo deb --no-build --strip --locked -p secushare "$@"
ls target/debian/secushare_*.deb
