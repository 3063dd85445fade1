#!/usr/bin/env bash
# One device call of experiments for the speed goals, each beside its
# baseline in the same call (H200, 2026-11-26, after metrics-check.sh and
# sr-batch-check.sh GOAL=1 gave the baselines and profiles):
#  1. SR (Real-ESRGAN x4plus stand-in): RRDBNet's dense-block Concats took
#     43% of kernel time; bench/concat_split.py rewrites Conv(Concat(…)) as
#     a sum of convolutions. Timed both ways (and each with a CUDA graph),
#     outputs compared.
#  2. Learned metrics: MUSIQ is launch-bound in ONNX Runtime (~600 nodes a
#     run); bench/learned/cuda_graph_potential.py times host tensors,
#     device-bound IO and a CUDA graph in Python's onnxruntime.
#  3. The four metrics in one process: where the whole process's time goes
#     beyond the scoring (one image, cold), and cuDNN's HEURISTIC algorithm
#     search against ONNX Runtime's EXHAUSTIVE default for the first shapes.
#   scripts/gpu/speed-experiments.sh XFER_DIR     (carry .gpu and .xfer)
set -uo pipefail
X=$1
source scripts/gpu/env.sh
unzst "$X/addsr-bench.zst" /tmp/addsr-bench
B=/tmp/addsr-bench
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
SR() { timeout 120 $B sr "$@" 2>&1 | grep -E 'images →|rror' || echo "sr $*: exit $?"; }

echo "== 1. SR: Conv(Concat) as sums of convolutions (bench/concat_split.py)"
mkdir -p /tmp/m
python3 bench/peer_torch_sr.py --export /tmp/m/random-x4plus.onnx random-x4plus 2>&1 | grep wrote
python3 bench/peer_torch_sr.py --export /tmp/m/random-x4plus-fp16.onnx random-x4plus-fp16 2>&1 | grep wrote
for m in random-x4plus random-x4plus-fp16; do python3 bench/concat_split.py /tmp/m/$m.onnx /tmp/m/$m-split.onnx; done
lr_sets $B
for m in random-x4plus-fp16 random-x4plus-fp16-split; do
  for b in 25 50; do
    echo "-- $m --batch $b --ep-option prefer_nhwc=1"
    SR --model /tmp/m/$m.onnx --in /tmp/lr100/LR --out /tmp/sr-$m-b$b --device cuda --warmup 3 --batch $b --ep-option prefer_nhwc=1
  done
  echo "-- $m --batch 50 (NCHW)"
  SR --model /tmp/m/$m.onnx --in /tmp/lr100/LR --out /tmp/sr-$m-nchw --device cuda --warmup 3 --batch 50
  echo "-- $m --batch 25 --inflight 2 --ep-option prefer_nhwc=1"
  SR --model /tmp/m/$m.onnx --in /tmp/lr100/LR --out /tmp/sr-$m-x2 --device cuda --warmup 3 --batch 25 --inflight 2 --ep-option prefer_nhwc=1
  # A CUDA graph was slower than plain runs on the graph with Concats
  # (17.7 against 7.0 ms at batch 25, 2026-11-26); without them?
  echo "-- $m --batch 25 --ep-option prefer_nhwc=1 --io-binding --ep-option enable_cuda_graph=1"
  SR --model /tmp/m/$m.onnx --in /tmp/lr100/LR --out /tmp/sr-$m-graph --device cuda --warmup 3 --batch 25 --ep-option prefer_nhwc=1 --io-binding --ep-option enable_cuda_graph=1
done
for m in random-x4plus random-x4plus-split; do
  echo "-- $m (float32) --batch 32"
  SR --model /tmp/m/$m.onnx --in /tmp/lr100/LR --out /tmp/sr-$m-b32 --device cuda --warmup 3 --batch 32
done
echo "-- split against plain (PSNR of 8-bit outputs; 80 = identical)"
for p in "random-x4plus-fp16-split-b50 random-x4plus-fp16-b50" "random-x4plus-split-b32 random-x4plus-b32"; do
  set -- $p; $B score --dist /tmp/sr-$1 --ref /tmp/sr-$2 -m psnr --no-verify | tail -2 | head -1
done

echo "== 2. learned metrics: launches against a CUDA graph (bench/learned/cuda_graph_potential.py)"
W=/tmp/metrics-check
P=bench/learned/peer_torch_metrics.py
[ -f $W/standins/clipiqa.json ] || python3 $P export $W/standins 2>&1 | grep -v -i warn | grep -v '^  '
python3 models/export/to_fp16.py $W/standins $W/standins-fp16 --names musiq-koniq maniqa-koniq clipiqa lpips-alex 2>&1 | grep -v -i warn
for d in standins standins-fp16; do
  timeout 150 python3 bench/learned/cuda_graph_potential.py $W/$d --names musiq-koniq clipiqa lpips-alex maniqa-koniq --runs 30 2>&1 | grep -v -i warn
done

echo "== 3. the four metrics in one process, float16 graphs"
[ -d $W/m512 ] || python3 $P make-images $W/m512 --size 512x512 --n 100
mkdir -p $W/one/dist $W/one/ref
cp $W/m512/dist/000.png $W/one/dist/; cp $W/m512/ref/000.png $W/one/ref/
four() { # LABEL SET MODELS ARGS…
  local label=$1 set=$2 models=$3; shift 3
  /usr/bin/time -f "  whole process: %e s ($label)" $B score --dist $set/dist --ref $set/ref -m lpips,maniqa,musiq,clipiqa \
    --models $models --device cuda --format jsonl --no-verify --timings $ORT_FLAGS "$@" 2>&1 > /dev/null | grep -aE '^timings|^models loaded|^warm-up|whole process|skipped|rror' | head -8
}
ORT_FLAGS=--static-shapes  # was ADDSR_BENCH_ORT_STATIC_SHAPES=1
four "one image, cold: start-up and first shapes" $W/one $W/standins-fp16 --workers 1
four "one image, cold, HEURISTIC" $W/one $W/standins-fp16 --workers 1 --ep-option cudnn_conv_algo_search=HEURISTIC
four "100 images, --workers 4 --batch 8, warm-up 1" $W/m512 $W/standins-fp16 --workers 4 --batch 8 --warmup 1
four "100 images, --workers 4 --batch 8, warm-up 1, HEURISTIC" $W/m512 $W/standins-fp16 --workers 4 --batch 8 --warmup 1 --ep-option cudnn_conv_algo_search=HEURISTIC
four "100 images, --workers 8 --batch 4, warm-up 1" $W/m512 $W/standins-fp16 --workers 8 --batch 4 --warmup 1
four "100 images, float32, --workers 4 --batch 8, warm-up 1, HEURISTIC" $W/m512 $W/standins --workers 4 --batch 8 --warmup 1 --ep-option cudnn_conv_algo_search=HEURISTIC
