#!/usr/bin/env bash
# One device call, before metrics-check.sh: why the learned metrics'
# transformer graphs (MANIQA, MUSIQ, CLIP stand-ins) crashed on the CUDA
# plugin provider on an H200 (2026-11-26: SIGSEGV at address 0x5 inside
# Run, or "illegal memory access" reported at a fused BiasGelu node), where
# LPIPS and the SR graphs (convolutions only, every node on CUDA) ran.
# Those three graphs are the ones with nodes left to the CPU and Memcpy nodes.
#   scripts/gpu/learned-diagnose.sh XFER_DIR
# 1. Python's onnxruntime on the machine, and the same graphs through its
#    CUDA provider (the in-tree one, not the plugin): is it the graph or
#    the plugin? Its library through our binary too (the legacy path), if
#    its version can serve onnxruntime_go's API.
# 2. Each metric on 2 images, one process per setting (a crash ends a
#    process): defaults, graph optimization basic/none
#    (--ort-opt), the Gelu or LayerNorm fusions off
#    (--ort-disable), static shapes (--static-shapes:
#    the graph's shape arithmetic folded away, so no node is left to the
#    CPU and nothing copied between the two; first, as the lead suspect:
#    the plugin provider's CPU-side memory handling, microsoft/onnxruntime
#    #28329), copies on the compute stream (--ep-option
#    use_ep_level_unified_stream=1); the CPU's scores beside them.
#    Then six small graphs, one pattern of those graphs each (a computed
#    Reshape, attention, erf-GELU, LayerNorm, a mask, Expand), through
#    `addsr-bench models probe`, against the CPU.
# 3. With defaults: CUDA_LAUNCH_BLOCKING=1 (the error then names the node
#    whose kernel faults, not a later one), the CPU-placed op types and
#    Memcpy nodes from the verbose log, and the library the SIGSEGV's
#    program counter is in (scripts/gpu/pc_library.py; gdb's backtrace too
#    where the machine has gdb).
#    Then LPIPS's time (slower than PyTorch's) in ONNX Runtime's profile.
# 4. Writes /tmp/learned-workaround.env with the first setting under which
#    every metric ran and matched the CPU, which metrics-check.sh reads (the
#    next call, while the machine is warm).
# About 5 minutes with the stand-ins' export (shared with metrics-check.sh:
# run that in the next call at once, while the machine is warm, e.g.
# SIZES=512 BIG= FP16=1; both in one call may pass a call's 10 minutes
# once the metrics run instead of crashing).
# Found on 2026-11-26 (bench/results/2026-11-26-h200-slice-crash.txt): the
# plugin's Slice kernel; models rewrites Slices into Gathers there since.
# QUICK=1 runs static shapes, defaults and the rewrite off (the control)
# only, and CUDA_LAUNCH_BLOCKING=1 only for metrics no setting ran.
# Knob, for a dry run of the flow on a CPU machine (every "cuda" run on the
# CPU instead):  DEVICE=cpu scripts/gpu/learned-diagnose.sh .xfer
set -uo pipefail
X=$1
source scripts/gpu/device.sh # env.sh or lib.sh, PY
W=${WORK:-/tmp/metrics-check}
mkdir -p "$W"
unzst "$X/addsr-bench.zst" "$W/addsr-bench"
B=$W/addsr-bench
P=bench/learned/peer_torch_metrics.py
[ -f "$W/standins/clipiqa.json" ] || $PY $P export "$W/standins" 2>&1 | grep -v -i warn | grep -v '^  '
[ -d "$W/m512" ] || $PY $P make-images "$W/m512" --size 512x512 --n 100
T=$W/two
rm -rf "$T"; mkdir -p "$T/dist" "$T/ref"
for f in $(ls "$W/m512/dist" | head -2); do cp "$W/m512/dist/$f" "$T/dist/"; cp "$W/m512/ref/$f" "$T/ref/"; done
declare -A STANDIN=([maniqa]=maniqa-koniq [musiq]=musiq-koniq [clipiqa]=clipiqa [lpips]=lpips-alex)
METRICS=${METRICS:-maniqa musiq clipiqa}

if [ -z "${QUICK:-}" ]; then
echo "== 1. Python's onnxruntime here, and the stand-ins through its own CUDA provider"
$PY -c 'import onnxruntime as o, os; print(o.__version__, o.get_available_providers(), os.path.dirname(o.__file__))' 2>&1 | tail -1
for m in $METRICS; do
  timeout 120 $PY - "$W/standins/${STANDIN[$m]}.onnx" <<'EOF' 2>&1 | grep -v -i warn | tail -2
import sys, numpy as np, onnxruntime as o
path = sys.argv[1]
if 'CUDAExecutionProvider' not in o.get_available_providers():
    print(f'{path}: no CUDAExecutionProvider in this onnxruntime'); sys.exit()
s = o.InferenceSession(path, providers=['CUDAExecutionProvider', 'CPUExecutionProvider'])
feeds = {}
for i in s.get_inputs():
    shape = [d if isinstance(d, int) else {'crops': 20, 'seq': 200}.get(d, 1) for d in i.shape]
    if 'h' in i.shape or 'w' in i.shape:
        shape = [1, 3, 224, 256]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    if i.name == 'tokens':
        x[..., -1] = 1
    feeds[i.name] = x
out = s.run(None, feeds)
print(f'{path}: python onnxruntime {o.__version__} CUDA provider ran: output {out[0].ravel()[:3]}')
EOF
done
lib=$($PY -c 'import onnxruntime as o, os, glob; d=os.path.join(os.path.dirname(o.__file__), "capi"); print((glob.glob(d + "/libonnxruntime.so*") + [""])[0])' 2>/dev/null)
if [ -n "$lib" ] && ls "$(dirname "$lib")"/libonnxruntime_providers_cuda.so > /dev/null 2>&1; then
  echo "-- addsr-bench on that library (legacy CUDA path): $lib"
  ONNXRUNTIME_SHARED_LIBRARY_PATH=$lib ORT_CUDA_EP_LIBRARY= timeout 120 $B score --dist "$T/dist" --ref "$T/ref" -m maniqa --models "$W/standins" --device $DEVICE --no-verify --format jsonl 2>&1 |
    grep -v -P '^\t|^goroutine |^runtime\.|^created by|^\s*$|^[a-z0-9]{2,3} +0x' | head -5
fi
fi

# classify: a run's output → one line.
classify() {
  local out=$1
  if grep -q 'SIGSEGV' <<< "$out"; then
    echo "CRASH $(grep -m1 -o 'PC=.*' <<< "$out")"
  elif grep -q 'illegal memory access\|cudaErrorIllegalAddress' <<< "$out"; then
    echo "CUDA illegal address; first report: $(grep -m1 -o 'running [A-Za-z]* node[^S]*' <<< "$out")"
  elif grep -q '^{\|^output ' <<< "$out"; then
    echo "ok $(grep '^{\|^output ' <<< "$out" | tr -d '\n' | cut -c1-150)"
  else
    echo "FAILED $(grep -v '^\s*$' <<< "$out" | head -2 | tr '\n' ' ' | cut -c1-250)"
  fi
}
one() { # ENV-ASSIGNMENTS… -- METRIC [flags…]
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local m=$1; shift
  env "${envs[@]}" timeout 120 $B score --dist "$T/dist" --ref "$T/ref" -m $m --models "$W/standins" --no-verify --format jsonl "$@" 2>&1
}

echo "== 2. each metric, 2 images of 512², one process per setting (CUDA plugin unless said)"
SETTINGS=(
  "defaults|"
  "static shapes||--static-shapes"
  "Slice rewrite off||--slice-as-gather off"
  "telemetry on|ADDSR_BENCH_ORT_TELEMETRY=1"
  "--ort-opt basic||--ort-opt basic"
  "--ort-opt none||--ort-opt none"
  "Gelu fusions off||--ort-disable BiasGeluFusion --ort-disable GeluFusion --ort-disable FastGeluFusion --ort-disable QuickGeluFusion"
  "LayerNorm fusions off||--ort-disable LayerNormFusion --ort-disable SimplifiedLayerNormFusion --ort-disable SkipLayerNormFusion"
  "unified CUDA stream||--ep-option use_ep_level_unified_stream=1"
)
# QUICK=1: static shapes first (the setting metrics-check.sh then takes if
# every metric passes with it), defaults, and the Slice rewrite off (the
# control: every graph with a Slice crashed so); the other settings crashed
# alike on 2026-11-26.
[ -n "${QUICK:-}" ] && SETTINGS=("${SETTINGS[1]}" "${SETTINGS[0]}" "${SETTINGS[2]}")
# A setting is LABEL|ENV-ASSIGNMENT|score FLAGS.
setting() { label=${1%%|*}; local rest=${1#*|}; envs=${rest%%|*}; flags=; [[ $rest == *'|'* ]] && flags=${rest#*|}; }
declare -A OK CPU RAN
for m in $METRICS; do
  CPU[$m]=$(one X=1 -- $m --device cpu | grep -m1 '^{')
  echo "-- $m   cpu: ${CPU[$m]:0:150}"
  for s in "${SETTINGS[@]}"; do
    setting "$s"
    out=$(one ${envs:-X=1} -- $m --device $DEVICE $flags)
    line=$(classify "$out")
    printf '   %-28s %s\n' "$label:" "$line"
    # Not a crash but an error: ONNX Runtime's own words (node, kernel, CUDA call).
    [[ $line == ok* || $line == CRASH* ]] || grep -E -m3 '\[E:onnxruntime|Error running|^skipped' <<< "$out" | cut -c1-400 | sed 's/^/      /'
    [[ $line == ok* ]] && RAN[$m]=1
    if [[ $line == ok* ]] && [ -n "${CPU[$m]}" ] &&
      $PY -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); k=[x for x in a if x!="image"][0]; sys.exit(0 if abs(a[k]-b[k])<=1e-3*max(1e-3,abs(b[k])) else 1)' \
        "$(grep -m1 '^{' <<< "$out")" "${CPU[$m]}"; then
      OK[$label]=$(( ${OK[$label]:-0} + 1 ))
    fi
  done
done

if [ -z "${QUICK:-}" ]; then
echo "== 2b. small graphs, one pattern of those graphs each (bench/learned/crash_graphs.py), models probe, defaults"
$PY bench/learned/crash_graphs.py "$W/crash" > /dev/null
for g in gelu layernorm shape attention mask expand slice slice_gather slice_split reduce softplus avgpool; do
  cpu=$(timeout 60 $B models probe "$W/crash/$g.onnx" --shape 4x49x64 --runs 1 2>&1 | grep '^output')
  out=$(timeout 60 $B models probe "$W/crash/$g.onnx" --shape 4x49x64 --runs 3 --device $DEVICE 2>&1)
  printf '   %-10s cpu: %s\n   %-10s %s: %s\n' $g "${cpu#output }" "" $DEVICE "$(classify "$out")"
  if [[ $(classify "$out") != ok* ]]; then
    for e in --static-shapes "--ort-opt basic"; do
      out=$(timeout 60 $B models probe "$W/crash/$g.onnx" --shape 4x49x64 --runs 3 --device $DEVICE $e 2>&1)
      printf '   %-10s %s, %s: %s\n' "" $DEVICE "$e" "$(classify "$out")"
    done
  fi
done

echo "== 3. defaults, maniqa: the faulting node (CUDA_LAUNCH_BLOCKING=1), CPU-placed op types, Memcpy nodes"
one CUDA_LAUNCH_BLOCKING=1 -- maniqa --device $DEVICE | grep -m3 -o 'running [A-Za-z]* node.*' | cut -c1-300
one ADDSR_BENCH_ORT_LOG=verbose -- maniqa --device $DEVICE > "$W/verbose.log" 2>&1
awk '/Node\(s\) placed on \[CPUExecutionProvider\]/ {on=1; next} on && /^ +[A-Za-z]+ \(/ {print $1; next} on {on=0}' "$W/verbose.log" | sort | uniq -c | sort -rn | head -15
grep -o 'Add Memcpy[A-Za-z]* [a-z]* [^ ]*' "$W/verbose.log" | head -20
echo "-- the same with static shapes: what is still left to the CPU, and Memcpy nodes"
one ADDSR_BENCH_ORT_LOG=verbose -- maniqa --device $DEVICE --static-shapes > "$W/verbose-static.log" 2>&1
awk '/Node\(s\) placed on \[CPUExecutionProvider\]/ {on=1; next} on && /^ +[A-Za-z]+ \(/ {print $1; next} on {on=0}' "$W/verbose-static.log" | sort | uniq -c | sort -rn | head -15
echo "   Memcpy nodes: $(grep -c 'Add Memcpy' "$W/verbose-static.log")"

# Which library the SIGSEGV's program counter is in: the process's memory
# map, copied every 50 ms while it runs (the last copy has every library
# loaded before the crash), against the PC the Go runtime prints.
echo "-- the crash's program counter: library and offset (maniqa, defaults)"
out=$W/segv.out; rm -f "$W/maps.last"
$B score --dist "$T/dist" --ref "$T/ref" -m maniqa --models "$W/standins" --device $DEVICE --no-verify --format jsonl > "$out" 2>&1 &
pid=$! n=0
while kill -0 $pid 2> /dev/null; do
  cp /proc/$pid/maps "$W/maps.tmp" 2> /dev/null && mv "$W/maps.tmp" "$W/maps.last"
  sleep 0.05
  if [ $((n += 1)) -gt 2400 ]; then kill $pid; break; fi  # 2 minutes
done
wait $pid 2> /dev/null
pc=$(grep -m1 -o 'PC=0x[0-9a-f]*' "$out" | cut -d= -f2)
if [ -n "$pc" ] && [ -f "$W/maps.last" ]; then
  $PY scripts/gpu/pc_library.py "$pc" "$W/maps.last"
  if command -v gdb > /dev/null; then
    timeout 120 gdb -q -batch -ex 'handle SIGURG SIGPIPE nostop noprint pass' -ex run -ex 'bt 12' -ex 'info symbol $pc' \
      --args $B score --dist "$T/dist" --ref "$T/ref" -m maniqa --models "$W/standins" --device $DEVICE --no-verify --format jsonl 2>&1 |
      grep -E '^#|in section|SIGSEGV' | head -16
  fi
else
  echo "   no SIGSEGV this time: $(classify "$(cat "$out")")"
fi

echo "== 3b. LPIPS (5.5 ms per 512² pair here against PyTorch's 2.5): ONNX Runtime's profile of 20 pairs, then --timings"
mkdir -p "$W/l20/dist" "$W/l20/ref" "$W/prof"
for f in $(ls "$W/m512/dist" | head -20); do cp "$W/m512/dist/$f" "$W/l20/dist/"; cp "$W/m512/ref/$f" "$W/l20/ref/"; done
rm -f "$W"/prof/lpips_*.json
ADDSR_BENCH_ORT_PROFILE=$W/prof/lpips timeout 120 $B score --dist "$W/l20/dist" --ref "$W/l20/ref" -m lpips --models "$W/standins" --device $DEVICE --no-verify --workers 1 --timings --format jsonl 2>&1 >/dev/null | grep -E 'timings|lpips '
$PY scripts/gpu/ort_profile.py "$(ls "$W"/prof/lpips_*.json | head -1)" --skip 3 --top 8

fi
if [ -n "${QUICK:-}" ]; then
  echo "== 3. defaults with CUDA_LAUNCH_BLOCKING=1, for the metrics no setting ran (an asynchronous CUDA error then names the failing node)"
  for m in $METRICS; do
    [ -n "${RAN[$m]:-}" ] && continue
    out=$(one CUDA_LAUNCH_BLOCKING=1 -- $m --device $DEVICE)
    echo "-- $m: $(classify "$out")"
    grep -E -m4 '\[E:onnxruntime|Error running' <<< "$out" | cut -c1-400 | sed 's/^/      /'
  done
fi

echo "== 4. the first setting under which every metric ran and matched the CPU"
: > /tmp/learned-workaround.env
n=$(wc -w <<< "$METRICS")
for s in "${SETTINGS[@]}"; do
  setting "$s"
  if [ "${OK[$label]:-0}" -eq "$n" ]; then
    echo "WORKAROUND: $label"
    [ -n "$envs" ] && echo "$envs" | sed 's/^\([A-Z_]*\)=\(.*\)$/\1="\2"/' > /tmp/learned-workaround.env
    [ -n "$flags" ] && echo "LEARNED_FLAGS=\"$flags\"" >> /tmp/learned-workaround.env
    exit 0
  fi
done
echo "WORKAROUND: none found (metrics-check.sh will run with defaults)"
