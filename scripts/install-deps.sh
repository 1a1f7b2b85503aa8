#!/usr/bin/env bash
# Installs the Debian 12 packages secushare-rs builds and tests against, if any is missing.
# Needs root (or sudo). Rust itself comes from rustup (>= 1.80); Debian 12's own rustc is too old.
set -euo pipefail
# dpkg-dev (dependency list of the .deb) and lintian: the package build and install test.
packages=(gnunet libgnunet-dev libsodium-dev libclang-dev clang pkg-config libsqlite3-dev sqlite3 ca-certificates
  dpkg-dev lintian)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust >= 1.80 with rustup (https://rustup.rs) and re-run" >&2
  exit 1
fi
# cargo-deb builds the Debian package (scripts/package.sh); pinned, installed only when missing.
CARGO_DEB_VERSION=3.8.0
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  echo "installing cargo-deb $CARGO_DEB_VERSION"
  cargo install --locked --quiet "cargo-deb@$CARGO_DEB_VERSION"
fi
