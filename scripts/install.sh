#!/usr/bin/env bash
# Installs secushare-rs without Debian's package manager: the same files as the Debian package
# (the assets of [package.metadata.deb] in Cargo.toml), in the same places under a prefix.
#
#   scripts/install.sh [--prefix DIR] [--libdir DIR] [--destdir DIR] [--no-build] [--uninstall]
#
# --prefix   where GNUnet is installed (default /usr/local): gnunet-social goes to PREFIX/bin,
#            the ARM sections to PREFIX/share/gnunet/config.d, the man pages to
#            PREFIX/share/man/man1 (gzipped, as in the package);
# --libdir   GNUnet's library directory; the services go to LIBDIR/gnunet/libexec, where ARM
#            finds a bare BINARY name. Default: the libdir of GNUnet's gnunetutil.pc with
#            GNUnet's prefix replaced by PREFIX (Debian: PREFIX/lib/x86_64-linux-gnu), else
#            PREFIX/lib;
# --destdir  stage everything under DESTDIR (for packagers);
# --no-build use the release binaries already in the target directory;
# --uninstall remove the files instead.
# Prints every file it installs (or removes). Then restart your GNUnet node (gnunet-arm -e;
# gnunet-arm -s): ARM reads its sections at start.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local
libdir=
destdir=
build=1
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --libdir) libdir=${2:?--libdir needs a directory}; shift 2 ;;
    --libdir=*) libdir=${1#*=}; shift ;;
    --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    --uninstall) uninstall=1; build=0; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
prefix=${prefix%/}
if [ -z "$libdir" ]; then
  libdir=$prefix/lib
  if gnunet_libdir=$(pkg-config --variable=libdir gnunetutil 2>/dev/null) &&
     gnunet_prefix=$(pkg-config --variable=prefix gnunetutil 2>/dev/null) &&
     [ "${gnunet_libdir#"$gnunet_prefix"/}" != "$gnunet_libdir" ]; then
    libdir=$prefix/${gnunet_libdir#"$gnunet_prefix"/}
  fi
fi
libdir=${libdir%/}

target_dir=${CARGO_TARGET_DIR:-target}
if [ "$build" = 1 ]; then
  cargo build --release --locked -p multicast -p psyc -p psycstore -p social --bins
fi

# The package's assets: ["source", "usr/dest/dir/", "mode"] lines of [package.metadata.deb].
assets=$(sed -n '/^\[package\.metadata\.deb\]/,/^\[[^]]*\]$/p' Cargo.toml |
  sed -n 's/^ *\["\([^"]*\)", "usr\/\([^"]*\)", "\([0-7]*\)"\],\{0,1\}$/\1 \2 \3/p')
[ -n "$assets" ] || { echo "install.sh: no assets found in Cargo.toml" >&2; exit 1; }

while read -r src dest mode; do
  case "$dest" in
    # Debian's multiarch library directory stands for GNUnet's libdir.
    lib/*-linux-gnu/*) dir=$libdir/${dest#lib/*-linux-gnu/} ;;
    lib/*) dir=$libdir/${dest#lib/} ;;
    *) dir=$prefix/$dest ;;
  esac
  dir=$destdir${dir%/}
  src=${src/#target\/release/$target_dir/release}
  name=$(basename "$src")
  gzip_it=0
  case "$dest" in share/man/*) gzip_it=1; name=$name.gz ;; esac
  if [ "$uninstall" = 1 ]; then
    if [ -e "$dir/$name" ]; then rm -f "$dir/$name" && echo "removed $dir/$name"; fi
    continue
  fi
  [ -f "$src" ] || { echo "install.sh: $src is missing (build first, or drop --no-build)" >&2; exit 1; }
  install -d "$dir"
  if [ "$gzip_it" = 1 ]; then
    gzip -9n -c "$src" > "$dir/$name.tmp"
    chmod "$mode" "$dir/$name.tmp"
    mv -f "$dir/$name.tmp" "$dir/$name"
  elif [ "$src" != "${src#"$target_dir"/release/}" ]; then
    install -s -m "$mode" "$src" "$dir/$name"   # stripped, as in the package
  else
    install -m "$mode" "$src" "$dir/$name"
  fi
  echo "$dir/$name"
done <<< "$assets"
