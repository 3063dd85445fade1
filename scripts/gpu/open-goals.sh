#!/usr/bin/env bash
# The next device call for the open speed goals of the learned metrics
# (issue 7), everything not yet measured, each beside its baseline in the
# same call: about 8 minutes on an H200 (estimate from the earlier calls'
# parts). Prepare here with `scripts/gpu/prepare.sh none`, then one call
# carrying .gpu and .xfer:
#   scripts/gpu/open-goals.sh .xfer > $OUT/open-goals.log 2>&1
#  1. CUDA graphs give the CPU's scores: TestLearnedOnCUDA/*/cuda-graph
#     (IO-bound sessions, a CUDA graph per shape; never run on a GPU yet).
#     Then the four models' loading, in turn against at once (sessions
#     made concurrently since the signal-handler lock went).
#  2. LPIPS, MUSIQ and CLIPIQA alone, 100 images of 512², float32: plain
#     sessions against IO-bound ones with a CUDA graph (the remedy for
#     MUSIQ's and LPIPS's launch-bound runs), one worker, then 4 workers
#     × 8 stacked; PyTorch eager on the same modules and images.
#  3. The four metrics in one process (float16 graphs, --workers 8 --batch
#     4, the best so far: 4.97 s scoring, 13.1 s whole): with the models
#     now loaded and warmed up at once, then with --threads 1 (ONNX
#     Runtime's CPU thread pools: one per session, by default as big as
#     the machine, spinning beside the launches), then with CUDA graphs;
#     and one image cold (start-up: was 2.8 s before the first image and
#     1.8 s for it).
#     3b: MANIQA alone in float16, stacked (the one metric that is
#     GPU-bound: 25.0 images/s one at a time against PyTorch's 29.5).
#  4. LPIPS's ONNX Runtime profile (20 images): where its time goes.
# Sections past LIMIT seconds (default 520) are skipped, saying so.
# DEVICE=cpu N=4 FOUR=lpips,musiq,clipiqa is a dry run of the flow on a
# CPU machine (no float16 copies, no CUDA graph, the GPU tests skipped).
set -uo pipefail
X=$1
DEVICE=${DEVICE:-cuda}
N=${N:-100}
W=${WORK:-/tmp/metrics-check}
mkdir -p "$W"
if [ "$DEVICE" = cuda ]; then
  source scripts/gpu/env.sh
  PY=python3
  GRAPH="--io-binding --ep-option enable_cuda_graph=1"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
else
  source scripts/gpu/lib.sh
  PY=/usr/bin/python3
  GRAPH="--io-binding" # IO binding on the CPU: the same path, no CUDA graph
fi
unzst "$X/addsr-bench.zst" "$W/addsr-bench"
unzst "$X/metrics.test.zst" /tmp/metrics.test
B=$W/addsr-bench
P=bench/learned/peer_torch_metrics.py
export ADDSR_BENCH_ALLOW_KNOWN_CRASH=1
ORT_FLAGS=--static-shapes  # was ADDSR_BENCH_ORT_STATIC_SHAPES=1: the settings that change results are flags
# Sections run in order of priority; past LIMIT seconds (default 520, under
# a call's 600) the rest are skipped, saying so, so that the log comes back.
LIMIT=${LIMIT:-520}
t0=$SECONDS
sec() {
  echo; echo "== $(date +%T) (+$((SECONDS - t0)) s) $*"
  if [ $((SECONDS - t0)) -gt "$LIMIT" ]; then echo "   skipped: past LIMIT=$LIMIT s"; return 1; fi
}

# score SET MODELS ARGS…: addsr-bench score, its timing lines.
score() {
  local set=$1 models=$2; shift 2
  timeout 120 $B score --dist "$set/dist" --ref "$set/ref" --models "$models" --device $DEVICE --format jsonl --no-verify --timings $ORT_FLAGS "$@" 2>&1 > /dev/null |
    grep -aE '^timings|^models loaded|^warm-up|^  (lpips|maniqa|musiq|clipiqa) |skipped|rror' | head -9
}
# four LABEL SET ARGS…: the four metrics (float16 graphs) in one process,
# the whole process timed.
four() {
  local label=$1 set=$2; shift 2
  /usr/bin/time -f "  whole process: %e s ($label)" $B score --dist "$set/dist" --ref "$set/ref" -m ${FOUR:-lpips,maniqa,musiq,clipiqa} \
    --models "$F16" --device $DEVICE --format jsonl --no-verify --timings $ORT_FLAGS "$@" 2>&1 > /dev/null |
    grep -aE '^timings|^models loaded|^warm-up|^  (lpips|maniqa|musiq|clipiqa) |whole process|skipped|rror' | head -10
}

sec "0. stand-ins (random weights), float16 copies, $N images of 512²"
NAMES="lpips-alex maniqa-koniq musiq-koniq clipiqa"
[ -f "$W/standins/clipiqa.json" ] || $PY $P export "$W/standins" --names $NAMES 2>&1 | grep -v -i warn | grep -v '^  '
F16=$W/standins-fp16
if [ "$DEVICE" = cuda ]; then
  [ -f "$F16/clipiqa.json" ] || python3 models/export/to_fp16.py "$W/standins" "$F16" --names $NAMES 2>&1 | grep -v -i warn
else
  F16=$W/standins
fi
[ -d "$W/m512" ] || $PY $P make-images "$W/m512" --size 512x512 --n $N
mkdir -p "$W/one/dist" "$W/one/ref" "$W/p20/dist" "$W/p20/ref"
cp "$W/m512/dist/000.png" "$W/one/dist/"; cp "$W/m512/ref/000.png" "$W/one/ref/"
for f in $(ls "$W/m512/dist" | head -20); do cp "$W/m512/dist/$f" "$W/p20/dist/"; cp "$W/m512/ref/$f" "$W/p20/ref/"; done

if sec "1. TestLearnedOnCUDA/*/cuda-graph: IO-bound with a CUDA graph per shape against the CPU, 1e-4"; then
  for m in lpips musiq maniqa clipiqa; do
    (cd metrics && timeout 90 /tmp/metrics.test -test.run "^TestLearnedOnCUDA\$/^$m\$/^cuda-graph\$" -test.v 2>&1 |
      grep -E '^(=== RUN|\s*--- |PASS|FAIL|ok|SIG)|rror|CUDA .*CPU' | head -12)
  done
fi

if sec "1b. loading the four float16 models, one after another against at once (plain sessions made on load; static ones wait for a shape)"; then
  (cd metrics && env ADDSR_BENCH_MODELS=$F16 ADDSR_BENCH_DEVICE=$DEVICE timeout 150 /tmp/metrics.test -test.run '^$' -test.bench 'Load$' -test.benchtime 2x 2>&1 |
    grep -E '^(Benchmark|ok|FAIL|SIG)|rror')
fi

if sec "2. each metric alone, $N images of 512², float32 graphs: plain, then IO-bound with a CUDA graph"; then
  for m in lpips musiq clipiqa; do
    for cfg in "1 1" "4 8"; do
      set -- $cfg
      echo "-- $m --workers $1 --batch $2"
      score "$W/m512" "$W/standins" -m $m --workers $1 --batch $2 --warmup 2
      echo "-- $m --workers $1 --batch $2 $GRAPH"
      score "$W/m512" "$W/standins" -m $m --workers $1 --batch $2 --warmup 2 $GRAPH
    done
  done
  echo "-- PyTorch eager, the same modules and images (float32, then float16)"
  if [ "$DEVICE" = cuda ]; then
    timeout 120 python3 $P time "$W/standins" --dist "$W/m512/dist" --ref "$W/m512/ref" --device cuda --names lpips-alex musiq-koniq clipiqa 2>&1 | grep -v -i warn
    timeout 120 python3 $P time "$W/standins" --dist "$W/m512/dist" --ref "$W/m512/ref" --device cuda --half --names lpips-alex musiq-koniq clipiqa 2>&1 | grep -v -i warn
  fi
fi

if sec "3. the four metrics in one process, float16 graphs, whole process"; then
  four "one image, cold" "$W/one" --workers 1
  four "--workers 8 --batch 4, warm-up 1" "$W/m512" --workers 8 --batch 4 --warmup 1
  four "--workers 8 --batch 4, warm-up 1, --threads 1" "$W/m512" --workers 8 --batch 4 --warmup 1 --threads 1
  four "--workers 8 --batch 4, warm-up 1, CUDA graphs" "$W/m512" --workers 8 --batch 4 --warmup 1 $GRAPH
  four "--workers 4 --batch 8, warm-up 1, CUDA graphs, --threads 1" "$W/m512" --workers 4 --batch 8 --warmup 1 --threads 1 $GRAPH
  four "--workers 8 --batch 4, warm-up 1 (again: the spread between calls)" "$W/m512" --workers 8 --batch 4 --warmup 1
fi

if sec "3b. MANIQA alone, float16 graph: one image at a time, then 2 workers x 4 stacked; PyTorch eager float16"; then
  for cfg in "1 1" "2 4"; do
    set -- $cfg
    [ "$DEVICE" = cuda ] || { echo "   (CUDA only: MANIQA takes 17 s an image on the 2-core CPU)"; break; }
    echo "-- maniqa (float16 graph) --workers $1 --batch $2"
    score "$W/m512" "$F16" -m maniqa --workers $1 --batch $2 --warmup 2
  done
  if [ "$DEVICE" = cuda ]; then
    timeout 150 python3 $P time "$W/standins" --dist "$W/m512/dist" --device cuda --half --names maniqa-koniq 2>&1 | grep -v -i warn
  fi
fi

if sec "4. LPIPS's profile: 20 images, float32, one worker (ONNX Runtime's trace summed by operator)"; then
  mkdir -p "$W/prof"
  ADDSR_BENCH_ORT_PROFILE=$W/prof/lpips timeout 120 $B score --dist "$W/p20/dist" --ref "$W/p20/ref" -m lpips --models "$W/standins" \
    --device $DEVICE --no-verify --workers 1 --timings --format jsonl 2>&1 > /dev/null | grep -aE '^timings|  lpips '
  f=$(ls -t "$W"/prof/lpips*.json 2>/dev/null | head -1)
  [ -n "$f" ] && $PY scripts/gpu/ort_profile.py "$f" --skip 2 --top 20
fi
echo
echo "open-goals.sh: $((SECONDS - t0)) s"
