#!/usr/bin/env bash
# One device call for the AddSR speed goal (issue 18): AddSR-1 ≤ 0.15 s and
# AddSR-4 ≤ 0.4 s per 512² image on an H100/H200 (the paper: 0.45 s and
# 0.8 s on an A100). Random-weight graphs of AddSR's real sizes
# (runners/addsr/testdata/realsize.py: SD-2-base UNet and ControlNet, SD's
# VAE, a ViT-H-sized text encoder, a Swin-L-shaped RAM) are exported on the
# device in float16, then `addsr-bench sr --steps 1` and `--steps 4` time N
# LR images of 128² (outputs 512²) with per-stage medians and the GPU's
# peak memory (nvidia-smi, sampled), and PyTorch eager runs the same
# modules through the same loop (SDPA attention) beside them.
#   scripts/gpu/prepare.sh none    # here: the bundle and a build in .xfer
#   device call, carry [.gpu, .xfer]: scripts/gpu/addsr-speed.sh .xfer
# About 6 minutes on an H200 (the UNet's export is most of it; estimate,
# not yet run). Knobs: N (images, 8), DTYPE (fp16), WIDTH (1.0: real sizes).
# Dry run of the flow on a CPU (2 cores, about 4 minutes):
#   DEVICE=cpu WIDTH=0.125 DTYPE=fp32 N=2 scripts/gpu/addsr-speed.sh .xfer
set -uo pipefail
X=$1
DEVICE=${DEVICE:-cuda} WIDTH=${WIDTH:-1.0} DTYPE=${DTYPE:-fp16} N=${N:-8}
source scripts/gpu/device.sh # env.sh or lib.sh, PY
unzst "$X/addsr-bench.zst" /tmp/addsr-bench
B=/tmp/addsr-bench
lr_sets $B
rm -rf /tmp/lrN && mkdir -p /tmp/lrN && ls /tmp/lr100/LR/*.png | head -"$N" | xargs -I{} cp {} /tmp/lrN/
echo "== export ($DTYPE, width $WIDTH) =="
rm -rf /tmp/rs
timeout 360 $PY runners/addsr/testdata/realsize.py /tmp/rs --device "$DEVICE" --dtype "$DTYPE" --width "$WIDTH" 2>&1 | grep -v -i 'warn\|^ ' || { echo "export failed"; exit 1; }
peak() { # COMMAND…: runs it, printing the GPU's peak memory use while it ran
  if [ "$DEVICE" != cuda ]; then "$@"; return; fi
  (while :; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; sleep 0.2; done) > /tmp/mem.log &
  local s=$!
  "$@"
  kill $s 2>/dev/null; wait $s 2>/dev/null
  echo "peak GPU memory: $(sort -n /tmp/mem.log | tail -1) MiB"
}
for k in 1 4; do
  echo "== addsr-bench sr --steps $k =="
  rm -rf /tmp/rs-out$k # scratch, so a rerun starts clean
  peak timeout 240 $B sr --model /tmp/rs --in /tmp/lrN --out /tmp/rs-out$k --steps $k --device "$DEVICE" --warmup 2 --workers 4 2>&1 | tail -3
done
echo "== PyTorch eager, same modules =="
timeout 240 $PY runners/addsr/testdata/realsize.py /tmp/rs --eager /tmp/lrN --steps 1,4 --device "$DEVICE" --dtype "$DTYPE" --width "$WIDTH" --images "$N" 2>&1 | grep peer
