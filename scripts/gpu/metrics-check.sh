#!/usr/bin/env bash
# One device call for the learned metrics (issue: LPIPS, MANIQA, MUSIQ,
# CLIPIQA on ONNX): full-size stand-ins with random weights
# (bench/learned/standins.py), exported here, run by the Go binary on CUDA
# and by PyTorch eager on the same images; Go vs torch scores; peak GPU
# memory; the 100-image goal; memory against image size.
#   scripts/gpu/metrics-check.sh XFER_DIR
# XFER_DIR holds addsr-bench.zst (a stripped build); .gpu/ holds
# ../shared/gpu/ort-gpu-bundle.sh's bundle. Not yet run on a device: expect
# about 5 minutes (stand-in export ~1 min on the host CPU, two PyTorch runs,
# 24 scoring processes); give it the call's full 600 s.
set -uo pipefail
X=$1
V=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
if [ ! -f /tmp/ort-env.sh ]; then
  CUDA_LIBS=$V/cu13/lib:$V/cudnn/lib .gpu/unpack.sh > /tmp/ort-env.sh
  cp .gpu/zstd /tmp/ort/zstd
fi
source /tmp/ort-env.sh
/tmp/ort/zstd -d -q -f "$X/addsr-bench.zst" -o /tmp/addsr-bench
chmod +x /tmp/addsr-bench
B=/tmp/addsr-bench
P=bench/learned/peer_torch_metrics.py
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
[ -f /tmp/standins/clipiqa.json ] || python3 $P export /tmp/standins 2>&1 | grep -v -i warn
[ -d /tmp/m512 ] || python3 $P make-images /tmp/m512 --size 512x512 --n 100
[ -d /tmp/m1080 ] || python3 $P make-images /tmp/m1080 --size 1080x800 --n 100

# peak CMD…: runs CMD while sampling nvidia-smi every 50 ms; prints the
# highest use above the level before it started (CUDA context included).
peak() {
  local base; base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 50 > /tmp/mem.log &
  local p=$! rc=0
  "$@" || rc=$?
  kill $p; wait $p 2>/dev/null
  echo "  peak GPU memory $(( $(sort -n /tmp/mem.log | tail -1) - base )) MiB above idle (nvidia-smi, CUDA context included)"
  return $rc
}

for S in 512 1080; do
  echo "== ${S}: PyTorch eager, same modules, preprocessing in torch on the GPU"
  python3 $P time /tmp/standins --dist /tmp/m$S/dist --ref /tmp/m$S/ref --device cuda --json /tmp/t$S.json 2>&1 | grep -v -i warn
  rm -f /tmp/g$S.jsonl
  for m in lpips lpips-vgg maniqa musiq clipiqa; do
    echo "== ${S}: addsr-bench score -m $m --device cuda --workers 1"
    peak $B score --dist /tmp/m$S/dist --ref /tmp/m$S/ref -m $m --models /tmp/standins --device cuda --timings --workers 1 --format jsonl --no-verify >> /tmp/g$S.jsonl
    if [ $S = 512 ]; then
      echo "-- --workers 1 --batch 16"
      $B score --dist /tmp/m$S/dist --ref /tmp/m$S/ref -m $m --models /tmp/standins --device cuda --timings --workers 1 --batch 16 --format jsonl --no-verify > /dev/null
    fi
  done
  echo "== ${S}: Go + ONNX (CUDA) against torch (CUDA)"
  python3 $P compare /tmp/t$S.json /tmp/g$S.jsonl
  echo "== ${S}: the four paper metrics on 100 images in one process (goal: < 5 s at 512²)"
  configs=("1 1" "2 16")
  [ $S = 1080 ] && configs=("2 8")
  for wb in "${configs[@]}"; do
    set -- $wb
    /usr/bin/time -f "  whole process: %e s (ORT start, sessions, decode, scoring), --workers $1 --batch $2" \
      $B score --dist /tmp/m$S/dist --ref /tmp/m$S/ref -m lpips,maniqa,musiq,clipiqa --models /tmp/standins --device cuda --timings --workers $1 --batch $2 --format jsonl --no-verify > /dev/null
  done
done

echo "== GPU memory against image size (one process per size; single image)"
for px in 2048 4096; do
  python3 $P make-images /tmp/big$px --size ${px}x$px --n 1 > /dev/null
  for m in lpips clipiqa musiq; do
    echo "-- $m at ${px}²"
    peak sh -c "$B score --dist /tmp/big$px/dist --ref /tmp/big$px/ref -m $m --models /tmp/standins --device cuda --timings --workers 1 --format jsonl --no-verify 2>&1 >/dev/null | grep -E 'timings:|  $m |memory|skipped'"
  done
done
