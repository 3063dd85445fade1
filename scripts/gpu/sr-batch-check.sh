#!/usr/bin/env bash
# One device call for the SR throughput goal (issue: ONNX layer, Real-ESRGAN):
# addsr-bench sr on CUDA one image at a time and with whole images batched
# (--batch 4…32) over 100 LR images of 128², beside PyTorch eager (single
# and batched) with the same weights; batched outputs checked against the
# single-image ones.
#   scripts/gpu/sr-batch-check.sh XFER_DIR MODEL
# MODEL: random-x4plus or random-x4fast (the architecture with seeded random
# weights, exported here by bench/peer_torch_sr.py: same work as the real
# model, whose 33 MB of x4plus weights do not fit in a call beside the
# bundle), or a real model whose ncnn files are in XFER_DIR.
# Then with inputs and outputs bound in GPU memory (--io-binding) and a CUDA
# graph per shape (enable_cuda_graph=1), batches 1 and 32. For random-*
# models also the float16 graph of the same weights (batches 1, 8, 32, NHWC,
# CUDA graph) and its outputs against the float32 ones.
# Then cuDNN's algorithm search (HEURISTIC, DEFAULT) against ONNX Runtime's
# EXHAUSTIVE default, at fixed shape and with a new shape per image, and
# ONNX Runtime's profile of 20 single images.
# About 5 minutes on an H200; QUICK=1 (batches 1, 8, 32; no float16 part,
# no single-image IO binding or CUDA graph) about 3; QUICK=1 FP16=1 keeps
# the float16 part.
#
# GOAL=1: only the goal's figures (float32 single and batch 32, float16 NHWC
# batches, IO binding, two in flight, CUDA graph, a profile, torch), about 2
# minutes.
#
# Knob, for a dry run of the script's flow on a CPU machine (no float16
# part: its export traces on CUDA; about 6 minutes on 2 cores):
#   DEVICE=cpu scripts/gpu/sr-batch-check.sh .xfer random-x4fast
set -uo pipefail
X=$1 M=$2
DEVICE=${DEVICE:-cuda}
if [ "$DEVICE" = cuda ]; then
  source scripts/gpu/env.sh
  unzst "$X/addsr-bench.zst" /tmp/addsr-bench
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  PY=python3
else
  source scripts/gpu/lib.sh
  unzst "$X/addsr-bench.zst" /tmp/addsr-bench
  PY=/usr/bin/python3  # Debian's, with torch
fi
B=/tmp/addsr-bench
# Every run under a time limit: one that hangs must not eat the call.
SR() { timeout 120 $B sr "$@" || echo "sr $*: exit $?"; }
mkdir -p /tmp/m
if [[ $M == random-* ]]; then
  $PY bench/peer_torch_sr.py --export /tmp/m/$M.onnx $M 2>&1 | grep -v -i warn
  [ -f /tmp/m/$M.json ] || { echo "export of $M failed"; exit 1; }
  W=/tmp/m
else
  $B models import-ncnn --param "$X/$M.param" --bin "$X/$M.bin" --out /tmp/m/$M.onnx
  W=$X
fi
lr_sets $B
if [ -n "${GOAL:-}" ]; then
  # GOAL=1: only what the goal reads (≤ 5 ms an image; images/s over
  # the 100-image set against PyTorch eager float32): the float32 graph one
  # image at a time, the float16 graph's fastest settings, whole-set wall
  # times (the last, shorter batch padded to the batch's shape), then torch.
  echo "== $M (GOAL=1): float32, one image at a time, and batch 32"
  SR --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-b1 --device $DEVICE --warmup 5
  SR --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-b32 --device $DEVICE --warmup 3 --batch 32
  $PY bench/peer_torch_sr.py --export /tmp/m/$M-fp16.onnx $M-fp16 2>&1 | grep -v -i warn
  echo "== $M-fp16: float16 graph, NHWC convolutions"
  for b in 16 32 50; do
    echo "-- --batch $b --ep-option prefer_nhwc=1"
    SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-nhwc-b$b --device $DEVICE --warmup 3 --batch $b --ep-option prefer_nhwc=1
  done
  echo "-- --batch 32 --ep-option prefer_nhwc=1 --io-binding"
  SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-nhwc-io-b32 --device $DEVICE --warmup 3 --batch 32 --ep-option prefer_nhwc=1 --io-binding
  echo "-- --batch 25 --inflight 2 --ep-option prefer_nhwc=1"
  SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-nhwc-b25x2 --device $DEVICE --warmup 3 --batch 25 --inflight 2 --ep-option prefer_nhwc=1
  echo "-- --batch 25 --ep-option prefer_nhwc=1 --io-binding --ep-option enable_cuda_graph=1"
  SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-graph-b25 --device $DEVICE --warmup 3 --batch 25 --ep-option prefer_nhwc=1 --io-binding --ep-option enable_cuda_graph=1
  echo "== ONNX Runtime's profile of the float16 graph, NHWC, batch 25 (scripts/gpu/ort_profile.py)"
  mkdir -p /tmp/prof; rm -f /tmp/prof/sr16_*.json
  ADDSR_BENCH_ORT_PROFILE=/tmp/prof/sr16 SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-prof --device $DEVICE --warmup 1 --batch 25 --ep-option prefer_nhwc=1
  $PY scripts/gpu/ort_profile.py "$(ls /tmp/prof/sr16_*.json | head -1)" --skip 2 --top 12
  echo "== float16 outputs against the float32 ones, and batched against single (PSNR; 80 = identical)"
  for d in fp16-nhwc-b32 fp16-nhwc-io-b32 fp16-graph-b25 b32; do
    echo "-- $d"; $B score --dist /tmp/sr-$M-$d --ref /tmp/sr-$M-b1 -m psnr --no-verify | tail -2
  done
  echo "== $M: PyTorch eager, same weights (single, then batches of 8 and 32)"
  timeout 240 $PY bench/peer_torch_sr.py "$W" "$M" /tmp/lr100/LR
  exit 0
fi
# Where ONNX Runtime put the nodes (a node left to the CPU costs copies) and
# what it says about CUDA graphs, from its log (ADDSR_BENCH_ORT_LOG).
placement() { # MODEL.onnx [sr flags…]
  local m=$1; shift
  echo "-- node placement and warnings: $(basename $m) $*"
  ADDSR_BENCH_ORT_LOG=verbose timeout 120 $B sr --model $m --in /tmp/lr4/LR --out /tmp/sr-placement --device $DEVICE "$@" 2>&1 |
    ort_log_summary 20 '|[Cc][Uu][Dd][Aa] ?[Gg]raph'
}
placement /tmp/m/$M.onnx
placement /tmp/m/$M.onnx --io-binding --ep-option enable_cuda_graph=1
echo "== $M: addsr-bench sr --device $DEVICE over 100 LR images of 128² (runner ms per image: host copies included; a batch member's share)"
SR --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-b1 --device $DEVICE --warmup 5
BATCHES="4 8 16 32"
[ -n "${QUICK:-}" ] && BATCHES="8 32"
for b in $BATCHES; do
  SR --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-b$b --device $DEVICE --warmup 3 --batch $b
done
echo "-- --batch 16 --inflight 2 (two batches at the runner: one's packing, copies and unpacking beside the other's inference; read images/s)"
SR --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-b16x2 --device $DEVICE --warmup 3 --batch 16 --inflight 2
echo "== $M: inputs and outputs bound in GPU memory (--io-binding), then a CUDA graph per shape on top"
for b in 1 32; do
  [ -n "${QUICK:-}" ] && [ $b = 1 ] && continue
  SR --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-io-b$b --device $DEVICE --warmup 3 --batch $b --io-binding
  SR --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-graph-b$b --device $DEVICE --warmup 3 --batch $b --io-binding --ep-option enable_cuda_graph=1
done
echo "== cuDNN's algorithm search: HEURISTIC and DEFAULT against ONNX Runtime's EXHAUSTIVE (above)"
for a in HEURISTIC DEFAULT; do
  for b in 1 32; do
    echo "-- --batch $b --ep-option cudnn_conv_algo_search=$a"
    SR --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-$a-b$b --device $DEVICE --warmup 3 --batch $b --ep-option cudnn_conv_algo_search=$a
  done
done
echo "== a new input shape per image (6 LR crops of 96–140 px sides, as RealSR's vary; no warm-up): EXHAUSTIVE, then HEURISTIC"
mkdir -p /tmp/lrmix
$PY -c '
from PIL import Image
im = Image.open("/tmp/lr100/LR/" + __import__("os").listdir("/tmp/lr100/LR")[0]).convert("RGB").resize((160, 160))
for i, (w, h) in enumerate([(96, 128), (112, 128), (128, 96), (120, 120), (100, 140), (140, 100)]):
    im.crop((0, 0, w, h)).save(f"/tmp/lrmix/{i}.png")'
SR --model /tmp/m/$M.onnx --in /tmp/lrmix --out /tmp/sr-$M-shapes-ex --device $DEVICE
SR --model /tmp/m/$M.onnx --in /tmp/lrmix --out /tmp/sr-$M-shapes-he --device $DEVICE --ep-option cudnn_conv_algo_search=HEURISTIC
echo "== ONNX Runtime's profile of the float32 graph, 20 images at batch 1 (scripts/gpu/ort_profile.py)"
mkdir -p /tmp/lr20 /tmp/prof; cp $(ls -d /tmp/lr100/LR/* | head -20) /tmp/lr20/; rm -f /tmp/prof/sr_*.json
ADDSR_BENCH_ORT_PROFILE=/tmp/prof/sr SR --model /tmp/m/$M.onnx --in /tmp/lr20 --out /tmp/sr-$M-prof --device $DEVICE --warmup 3
$PY scripts/gpu/ort_profile.py "$(ls /tmp/prof/sr_*.json | head -1)" --skip 3 --top 8
echo "== batched outputs against the single-image ones (PSNR; 80 = identical)"
D="b8 b32 b16x2 io-b32 graph-b32 HEURISTIC-b32"
[ -z "${QUICK:-}" ] && D="$D graph-b1"
for d in $D; do
  echo "-- $d"
  $B score --dist /tmp/sr-$M-$d --ref /tmp/sr-$M-b1 -m psnr --no-verify | tail -2
done
if [[ $M == random-* && $DEVICE == cuda && ( -z ${QUICK:-} || -n ${FP16:-} ) ]]; then
  # The same weights as a float16 graph (traced on the GPU), batched, with
  # and without NHWC convolutions: the tensor-core path to the 5 ms goal.
  $PY bench/peer_torch_sr.py --export /tmp/m/$M-fp16.onnx $M-fp16 2>&1 | grep -v -i warn
  placement /tmp/m/$M-fp16.onnx
  echo "== $M-fp16: addsr-bench sr --device $DEVICE, float16 graph"
  for b in 1 8 32; do
    SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-b$b --device $DEVICE --warmup 3 --batch $b
  done
  for b in 8 32; do
    echo "-- --batch $b --ep-option prefer_nhwc=1"
    SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-nhwc-b$b --device $DEVICE --warmup 3 --batch $b --ep-option prefer_nhwc=1
  done
  # The best so far (7.8 ms, H200) was float16 + NHWC at batch 32 with host
  # copies; IO binding took 13.5 → 11.7 ms off float32 at that batch.
  echo "-- --batch 32 --ep-option prefer_nhwc=1 --io-binding"
  SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-nhwc-io-b32 --device $DEVICE --warmup 3 --batch 32 --ep-option prefer_nhwc=1 --io-binding
  echo "-- --batch 16 --inflight 2 --ep-option prefer_nhwc=1"
  SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-nhwc-b16x2 --device $DEVICE --warmup 3 --batch 16 --inflight 2 --ep-option prefer_nhwc=1
  echo "-- --batch 32 --ep-option prefer_nhwc=1 --io-binding --ep-option fuse_conv_bias=1 (cuDNN's fused convolution + bias)"
  SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-fuse-b32 --device $DEVICE --warmup 3 --batch 32 --ep-option prefer_nhwc=1 --io-binding --ep-option fuse_conv_bias=1
  echo "-- --batch 32 --ep-option prefer_nhwc=1 --io-binding --ep-option enable_cuda_graph=1"
  SR --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-fp16-graph-b32 --device $DEVICE --warmup 3 --batch 32 --ep-option prefer_nhwc=1 --io-binding --ep-option enable_cuda_graph=1
  echo "-- fp32 --batch 32 --ep-option prefer_nhwc=1"
  SR --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr-$M-nhwc-b32 --device $DEVICE --warmup 3 --batch 32 --ep-option prefer_nhwc=1
  echo "== float16 outputs against the float32 ones (PSNR)"
  $B score --dist /tmp/sr-$M-fp16-b32 --ref /tmp/sr-$M-b1 -m psnr --no-verify | tail -2
  echo "-- fp16 NHWC IO-bound, and with fuse_conv_bias, against fp16 batch 32"
  for d in fp16-nhwc-io-b32 fp16-fuse-b32; do
    $B score --dist /tmp/sr-$M-$d --ref /tmp/sr-$M-fp16-b32 -m psnr --no-verify | tail -1
  done
fi
echo "== $M: PyTorch eager, same weights (single, then batches of 8 and 32)"
timeout 240 $PY bench/peer_torch_sr.py "$W" "$M" /tmp/lr100/LR
