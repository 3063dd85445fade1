#!/usr/bin/env bash
# One device call for the learned metrics (issue: LPIPS, MANIQA, MUSIQ,
# CLIPIQA on ONNX): full-size stand-ins with random weights
# (bench/learned/standins.py), exported here, run by the Go binary on CUDA
# and by PyTorch eager on the same images; Go vs torch scores; peak GPU
# memory; the 100-image goal; memory against image size.
#   scripts/gpu/metrics-check.sh XFER_DIR
# XFER_DIR holds addsr-bench.zst (a stripped build); .gpu/ holds
# ../shared/gpu/ort-gpu-bundle.sh's bundle. First run on an H200 on
# 2026-11-26: 5.5 minutes, with MANIQA, MUSIQ and CLIPIQA crashing at once
# (bench/results/2026-11-26-h200-learned.txt: ONNX Runtime 1.29.0's CUDA
# plugin crashes on Slice; models rewrites Slices since,
# bench/results/2026-11-26-h200-slice-crash.txt). The setting
# scripts/gpu/learned-diagnose.sh found in a call before, on the same warm
# machine, is read from /tmp/learned-workaround.env unless ONNX Runtime's
# settings are set already (e.g. LEARNED_FLAGS=--static-shapes).
#
# LEAN=1 leaves out the node placement listing, the --batch 16 reruns and
# the single-worker whole-process run (about 2 minutes less).
# FP16=1 adds float16 conversions of the same stand-ins (CUDA only) at the
# first size: the route to the 5 s goal.
# PROFILE=1 adds ONNX Runtime's profile of each metric (20 images;
# PROFILE_METRICS picks them).
# GOAL_CONFIGS="2 16,4 8" sets the four-metric runs' --workers and --batch
# at 512² (comma-separated pairs).
# THROUGHPUT="4x1 4x8" adds, per metric, runs at those --workers x --batch
# (their images/s against PyTorch's single stream).
# Knobs, for a dry run of the script's flow on a CPU machine:
#   DEVICE=cpu N=2 SIZES=512 METRICS="lpips clipiqa" BIG= scripts/gpu/metrics-check.sh .xfer
set -uo pipefail
X=$1
DEVICE=${DEVICE:-cuda}
N=${N:-100}
SIZES=${SIZES:-512 1080}
METRICS=${METRICS:-lpips lpips-vgg maniqa musiq clipiqa}
BIG=${BIG-2048 4096}
W=${WORK:-/tmp/metrics-check}
mkdir -p "$W"
declare -A STANDIN=([lpips]=lpips-alex [lpips-vgg]=lpips-vgg [maniqa]=maniqa-koniq [musiq]=musiq-koniq [clipiqa]=clipiqa)
names=""
for m in $METRICS; do names="$names ${STANDIN[$m]}"; done
paper=$(for m in lpips maniqa musiq clipiqa; do [[ " $METRICS " == *" $m "* ]] && printf '%s,' $m; done)
paper=${paper%,}

# The setting learned-diagnose.sh found (a call before, on the same warm
# machine), unless the caller set ONNX Runtime's settings itself.
if [ -s /tmp/learned-workaround.env ] && [ -z "${LEARNED_FLAGS:-}" ]; then
  echo "settings from learned-diagnose.sh: $(tr '\n' ' ' < /tmp/learned-workaround.env)"
  set -a; . /tmp/learned-workaround.env; set +a
fi
if [ "$DEVICE" = cuda ]; then
  source scripts/gpu/env.sh
  unzst "$X/addsr-bench.zst" "$W/addsr-bench"
  PY=python3
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
else
  source scripts/gpu/lib.sh
  unzst "$X/addsr-bench.zst" "$W/addsr-bench"
  PY=/usr/bin/python3
fi
B=$W/addsr-bench
P=bench/learned/peer_torch_metrics.py
[ -f "$W/standins/clipiqa.json" ] || $PY $P export "$W/standins" 2>&1 | grep -v -i warn | grep -v '^  '
for S in $SIZES; do
  size=512x512
  [ $S = 1080 ] && size=1080x800
  [ -d "$W/m$S" ] || $PY $P make-images "$W/m$S" --size $size --n $N
done

# peak CMD…: runs CMD while sampling nvidia-smi every 50 ms; prints the
# highest use above the level before it started (CUDA context included).
peak() {
  if ! command -v nvidia-smi > /dev/null; then
    "$@"
    return
  fi
  local base; base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 50 > "$W/mem.log" &
  local p=$! rc=0
  "$@" || rc=$?
  kill $p; wait $p 2>/dev/null
  # To stderr: a caller may be collecting the command's stdout (records).
  echo "  peak GPU memory $(( $(sort -n "$W/mem.log" | tail -1) - base )) MiB above idle (nvidia-smi, CUDA context included)" >&2
  [ $rc -eq 0 ] || echo "  exit status $rc (2: the Go runtime's report of a signal, such as a crash inside ONNX Runtime)" >&2
  return $rc
}
score() { # SIZE ARGS…: addsr-bench score on that size's set (models: $SD)
  local S=$1; shift
  $B score --dist "$W/m$S/dist" --ref "$W/m$S/ref" --models "$SD" --device $DEVICE --timings --warmup 2 --format jsonl --no-verify ${LEARNED_FLAGS:-} "$@"
}
SD=$W/standins
# throughput SIZE METRIC: the metric's images/s at each THROUGHPUT
# workers x batch (models: $SD).
throughput() {
  for wb in ${THROUGHPUT:-}; do
    echo "-- --workers ${wb%x*} --batch ${wb#*x} (images/s: timings line)"
    score $1 -m $2 --workers ${wb%x*} --batch ${wb#*x} 2>&1 > /dev/null | grep -a '^timings'
  done
}
# four SIZE LABEL WORKERS BATCH: the paper's metrics in one process on that
# size's set (models: $SD), the whole process timed.
four() {
  /usr/bin/time -f "  whole process: %e s ($2: ORT start, sessions, one warm-up pass, decode, scoring), --workers $3 --batch $4" \
    $B score --dist "$W/m$1/dist" --ref "$W/m$1/ref" -m $paper --models "$SD" --device $DEVICE --format jsonl --no-verify --timings --warmup 1 ${LEARNED_FLAGS:-} --workers $3 --batch $4 2>&1 > /dev/null | grep -aE '^timings|^models loaded|^warm-up|whole process|skipped|rror' | head -10
}

# Where ONNX Runtime put each graph's nodes (one left to the CPU costs
# copies), from its verbose log, on one image of the first size.
S0=${SIZES%% *}
echo "== node placement and ONNX Runtime warnings (ADDSR_BENCH_ORT_LOG=verbose, one image)"
mkdir -p "$W/one/dist" "$W/one/ref"
f=$(ls "$W/m$S0/dist" | head -1)
cp "$W/m$S0/dist/$f" "$W/one/dist/"; cp "$W/m$S0/ref/$f" "$W/one/ref/"
for m in $([ -z "${LEAN:-}" ] && echo $METRICS); do
  echo "-- $m"
  ADDSR_BENCH_ORT_LOG=verbose timeout 120 $B score --dist "$W/one/dist" --ref "$W/one/ref" -m $m --models "$W/standins" --device $DEVICE --no-verify ${LEARNED_FLAGS:-} 2>&1 |
    ort_log_summary 10
done

for S in $SIZES; do
  echo "== ${S}: PyTorch eager, same modules, preprocessing in torch on the $DEVICE"
  $PY $P time "$W/standins" --dist "$W/m$S/dist" --ref "$W/m$S/ref" --device $DEVICE --names $names --json "$W/t$S.json" 2>&1 | grep -v -i warn
  rm -f "$W/g$S.jsonl"
  for m in $METRICS; do
    echo "== ${S}: addsr-bench score -m $m --device $DEVICE --workers 1"
    peak score $S -m $m --workers 1 >> "$W/g$S.jsonl"
    throughput $S $m
    if [ $S = 512 ] && [ -z "${LEAN:-}" ]; then
      echo "-- --workers 1 --batch 16"
      [ -z "${LEAN:-}" ] && score $S -m $m --workers 1 --batch 16 > /dev/null
    fi
  done
  echo "== ${S}: Go + ONNX ($DEVICE) against torch ($DEVICE)"
  $PY $P compare "$W/t$S.json" "$W/g$S.jsonl"
  if [ -n "$paper" ]; then
    echo "== ${S}: $paper on $N images in one process (goal: the four in < 5 s at 512²)"
    configs=("1 1" "2 16")
    [ -n "${LEAN:-}" ] && configs=("2 16")
    [ $S = 1080 ] && configs=("2 8")
    [ -n "${GOAL_CONFIGS:-}" ] && [ $S = 512 ] && IFS=, read -ra configs <<< "$GOAL_CONFIGS"
    for wb in "${configs[@]}"; do
      four $S "float32 graphs" $wb
    done
  fi
done

# The same graphs in float16 behind float32 inputs and outputs
# (models/export/to_fp16.py, the conversion users run on their exports):
# MANIQA's 136 ms per image in PyTorch eager float32 (H200) alone breaks the
# 5 s budget for 100 images. Scores against the float32 torch ones say what
# half precision costs in accuracy.
if [ "$DEVICE" = cuda ] && [ -n "${FP16:-}" ]; then
  S=${SIZES%% *}
  echo "== ${S}: float16 graphs (FP16=1): models/export/to_fp16.py, PyTorch eager in float16, Go + ONNX"
  [ -f "$W/standins-fp16/${STANDIN[${METRICS##* }]}.json" ] || $PY models/export/to_fp16.py "$W/standins" "$W/standins-fp16" --names $names 2>&1 | grep -v -i warn
  $PY $P time "$W/standins" --half --dist "$W/m$S/dist" --ref "$W/m$S/ref" --device $DEVICE --names $names --json "$W/t${S}h.json" 2>&1 | grep -v -i warn
  SD=$W/standins-fp16
  rm -f "$W/g${S}h.jsonl"
  for m in $METRICS; do
    echo "-- ${S}: addsr-bench score -m $m (float16 graph) --workers 1, then --batch 16"
    peak score $S -m $m --workers 1 >> "$W/g${S}h.jsonl"
    throughput $S $m
    [ -z "${LEAN:-}" ] && score $S -m $m --workers 1 --batch 16 > /dev/null
  done
  echo "-- Go + ONNX float16 against torch float16, then against torch float32 (the cost of half precision)"
  $PY $P compare "$W/t${S}h.json" "$W/g${S}h.jsonl"
  $PY $P compare "$W/t$S.json" "$W/g${S}h.jsonl"
  if [ -n "$paper" ]; then
    configs=("2 16")
    [ -n "${GOAL_CONFIGS:-}" ] && IFS=, read -ra configs <<< "$GOAL_CONFIGS"
    for wb in "${configs[@]}"; do
      four $S "float16 graphs" $wb
    done
  fi
  SD=$W/standins
fi

# Where each graph's time goes on the device (PROFILE=1): ONNX Runtime's
# profile of 20 images of the first size, summed by operator and provider
# (MUSIQ took 18 ms an image against PyTorch's 10 on the H200), of the
# metrics in PROFILE_METRICS (default: all), float32 graphs and, with
# FP16=1, the float16 ones.
if [ -n "${PROFILE:-}" ]; then
  S=${SIZES%% *}
  mkdir -p "$W/p20/dist" "$W/p20/ref" "$W/prof"
  for f in $(ls "$W/m$S/dist" | head -20); do cp "$W/m$S/dist/$f" "$W/p20/dist/"; cp "$W/m$S/ref/$f" "$W/p20/ref/"; done
  dirs=standins
  [ "$DEVICE" = cuda ] && [ -n "${FP16:-}" ] && dirs="standins standins-fp16"
  for d in $dirs; do
    for m in ${PROFILE_METRICS:-$METRICS}; do
      echo "== ${S}: ONNX Runtime's profile of $m ($d), 20 images (PROFILE=1)"
      rm -f "$W"/prof/${m}_*.json
      ADDSR_BENCH_ORT_PROFILE=$W/prof/$m timeout 180 $B score --dist "$W/p20/dist" --ref "$W/p20/ref" -m $m --models "$W/$d" --device $DEVICE --no-verify --workers 1 --timings --format jsonl ${LEARNED_FLAGS:-} 2>&1 >/dev/null | grep -E "timings|  $m "
      f=$(ls "$W"/prof/${m}_*.json 2>/dev/null | head -1)
      [ -n "$f" ] && $PY scripts/gpu/ort_profile.py "$f" --skip 3 --top 8
    done
  done
fi

if [ -n "$BIG" ]; then
  echo "== memory against image size (one process per size; single image)"
  for px in $BIG; do
    [ -d "$W/big$px" ] || $PY $P make-images "$W/big$px" --size ${px}x$px --n 1 > /dev/null
    for m in lpips clipiqa musiq; do
      echo "-- $m at ${px}²"
      peak sh -c "$B score --dist $W/big$px/dist --ref $W/big$px/ref -m $m --models $W/standins --device $DEVICE --timings --workers 1 --format jsonl --no-verify ${LEARNED_FLAGS:-} 2>&1 >/dev/null | grep -E 'timings:|  $m |memory|skipped'"
    done
  done
fi
