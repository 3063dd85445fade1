#!/usr/bin/env bash
# Side by side: scikit-image 0.19 (Debian's python3-skimage) and addsr-bench's
# Go metrics on the same image sizes, one core each.
# Usage: bench/peer-skimage.sh   (installs python3-skimage with apt-get if absent)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import skimage' 2>/dev/null; then
  apt-get install -y -qq python3-skimage >/dev/null
fi
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== scikit-image $(/usr/bin/python3 -c 'import skimage; print(skimage.__version__)'), one thread"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peer_skimage.py
echo "== addsr-bench, -cpu 1 (ssim includes the Y conversion; ssimc is three channels)"
go test -run '^$' -bench 'Metric/(ssim|psnr)' -benchtime 20x -count 3 -cpu 1 ./metrics | grep Benchmark
echo "== SSIM kernel alone (512², float64): portable Go, then AVX2+FMA (chosen at run time)"
go test -run '^$' -bench 'SSIMPlane' -benchtime 50x -count 3 -cpu 1 ./metrics | grep Benchmark
