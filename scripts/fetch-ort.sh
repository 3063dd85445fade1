#!/usr/bin/env bash
# Installs the ONNX Runtime 1.29.0 CPU shared library into the project's cache.
#
# Source: npm package com.github.asus4.onnxruntime@0.4.9, which ships
# Microsoft's Linux x64 CPU build at package/Plugins/Linux/x64/. Both the
# package and the library are checked against pinned SHA-256 sums; nothing is
# installed if either differs. Idempotent: a verified install is left alone.
#
# Usage: scripts/fetch-ort.sh [CACHE_DIR]   (default: $ADDSR_BENCH_CACHE or ./.cache)
# Prints the library's path on success.
set -euo pipefail

PKG=com.github.asus4.onnxruntime
VER=0.4.9
TGZ_SHA256=e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d
SO_SHA256=5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-${ADDSR_BENCH_CACHE:-$root/.cache}}
dest=$cache/onnxruntime-1.29.0
lib=$dest/libonnxruntime.so

verify() { echo "$2  $1" | sha256sum --check --status; }

if [ -f "$lib" ] && verify "$lib" "$SO_SHA256"; then
  echo "$lib"
  exit 0
fi

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "fetch-ort: only Linux x86_64 is packaged; set ONNXRUNTIME_SHARED_LIBRARY_PATH to your own ONNX Runtime 1.29.0 library" >&2
  exit 1
fi
command -v npm >/dev/null || { echo "fetch-ort: npm is needed to fetch $PKG@$VER (apt-get install npm)" >&2; exit 1; }

mkdir -p "$cache"
work=$(mktemp -d "$cache/.ort.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "fetch-ort: fetching $PKG@$VER with npm pack" >&2
(cd "$work" && npm pack --silent "$PKG@$VER" >/dev/null)
tgz=$work/$PKG-$VER.tgz
if ! verify "$tgz" "$TGZ_SHA256"; then
  echo "fetch-ort: $tgz has SHA-256 $(sha256sum "$tgz" | cut -d' ' -f1), expected $TGZ_SHA256; refusing to install" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$work" package/Plugins/Linux/x64/libonnxruntime.so package/Plugins/Linux/x64/libonnxruntime_providers_shared.so
so=$work/package/Plugins/Linux/x64/libonnxruntime.so
if ! verify "$so" "$SO_SHA256"; then
  echo "fetch-ort: libonnxruntime.so has an unexpected SHA-256; refusing to install" >&2
  exit 1
fi
mkdir -p "$work/out"
mv "$so" "$work/package/Plugins/Linux/x64/libonnxruntime_providers_shared.so" "$work/out/"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "fetch-ort: installed ONNX Runtime 1.29.0 (CPU) in $dest" >&2
echo "$lib"
