#!/usr/bin/env bash
# One device call: ONNX Runtime's CUDA plugin EP through the Go binary on a
# Real-ESRGAN model, checked against PyTorch on the GPU, and timed beside it.
#   scripts/gpu/device-check.sh XFER_DIR MODEL
# XFER_DIR holds addsr-bench.zst (a stripped build) and MODEL.{param,bin};
# .gpu/ holds ../shared/gpu/ort-gpu-bundle.sh's bundle (unpacked once into
# /tmp/ort, which stays while the machine is warm).
set -euo pipefail
X=$1 M=$2
OUTD=${OUT:-/tmp/out}
mkdir -p "$OUTD"
source scripts/gpu/env.sh
unzst "$X/addsr-bench.zst" /tmp/addsr-bench
B=/tmp/addsr-bench
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
mkdir -p /tmp/m
$B models import-ncnn --param "$X/$M.param" --bin "$X/$M.bin" --out /tmp/m/$M.onnx
lr_sets $B
echo "== $M: CUDA through the Go runner (4 demo images), then PyTorch on the GPU with the same weights"
$B sr --model /tmp/m/$M.onnx --in /tmp/lr4/LR --out /tmp/sr4-$M --device cuda
python3 scripts/reference/validate_realesrgan.py "$X" "$M" /tmp/lr4/LR /tmp/sr4-$M --device cuda || echo "VALIDATION FAILED"
echo "== $M: 100 images of 128², addsr-bench sr --device cuda (ms per image = runner time, host copies included)"
t0=$(date +%s%N)
$B sr --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr100-$M --device cuda
echo "wall $(( ($(date +%s%N) - t0) / 1000000 )) ms for 100 images (process start, session, decode, run, encode)"
$B sr --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr100b-$M --device cuda --warmup 5
echo "== $M: whole images batched (--batch B): throughput over the 100 images"
$B sr --model /tmp/m/$M.onnx --in /tmp/lr4/LR --out /tmp/sr4b-$M --device cuda --batch 4
python3 scripts/reference/validate_realesrgan.py "$X" "$M" /tmp/lr4/LR /tmp/sr4b-$M --device cuda || echo "BATCHED VALIDATION FAILED"
for b in 4 8 16 32; do
  $B sr --model /tmp/m/$M.onnx --in /tmp/lr100/LR --out /tmp/sr100-$M-b$b --device cuda --warmup 3 --batch $b
done
echo "== $M: float16 graph (import-ncnn --fp16), CUDA"
$B models import-ncnn --fp16 --param "$X/$M.param" --bin "$X/$M.bin" --out /tmp/m/$M-fp16.onnx
$B sr --model /tmp/m/$M-fp16.onnx --in /tmp/lr4/LR --out /tmp/sr4-$M-fp16 --device cuda --warmup 3
python3 scripts/reference/validate_realesrgan.py "$X" "$M" /tmp/lr4/LR /tmp/sr4-$M-fp16 --device cuda || echo "(fp16 vs torch fp32: below 45 dB)"
$B sr --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr100-$M-fp16 --device cuda --warmup 5
for b in 8 32; do
  $B sr --model /tmp/m/$M-fp16.onnx --in /tmp/lr100/LR --out /tmp/sr100-$M-fp16-b$b --device cuda --warmup 3 --batch $b
done
echo "== $M: inputs and outputs bound in GPU memory (--io-binding), and a CUDA graph per shape"
for g in "" "-fp16"; do
  for b in 1 32; do
    echo "-- $M$g --batch $b --io-binding"
    timeout 120 $B sr --model /tmp/m/$M$g.onnx --in /tmp/lr100/LR --out /tmp/sr100-$M$g-io-b$b --device cuda --warmup 3 --batch $b --io-binding || true
    echo "-- $M$g --batch $b --io-binding --ep-option enable_cuda_graph=1"
    timeout 120 $B sr --model /tmp/m/$M$g.onnx --in /tmp/lr100/LR --out /tmp/sr100-$M$g-graph-b$b --device cuda --warmup 3 --batch $b --io-binding --ep-option enable_cuda_graph=1 || true
  done
done
timeout 120 $B sr --model /tmp/m/$M.onnx --in /tmp/lr4/LR --out /tmp/sr4g-$M --device cuda --batch 4 --io-binding --ep-option enable_cuda_graph=1 || true
python3 scripts/reference/validate_realesrgan.py "$X" "$M" /tmp/lr4/LR /tmp/sr4g-$M --device cuda || echo "CUDA GRAPH VALIDATION FAILED"
echo "== $M: CUDA provider options"
for o in "prefer_nhwc=1" "cudnn_conv_algo_search=EXHAUSTIVE" ; do
  for g in "" "-fp16"; do
    echo "-- $M$g --ep-option $o --ep-option cudnn_conv_use_max_workspace=1"
    $B sr --model /tmp/m/$M$g.onnx --in /tmp/lr100/LR --out /tmp/sr100-$M$g-o --device cuda --warmup 5 --ep-option $o --ep-option cudnn_conv_use_max_workspace=1 || true
  done
done
echo "== $M: PyTorch eager"
python3 bench/peer_torch_sr.py "$X" "$M" /tmp/lr100/LR
echo "== auto and the error path"
$B sr --model /tmp/m/$M.onnx --in /tmp/lr4/LR --out /tmp/sr-auto --device auto
$B sr --model /tmp/m/$M.onnx --in /tmp/lr4/LR --out /tmp/sr-c9 --device cuda:9 || true
