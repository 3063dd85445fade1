#!/usr/bin/env bash
# On the device: the GPU tests of runners/ and metrics/ (CUDA against the
# CPU, alone and batched), from the test binaries scripts/gpu/prepare.sh
# built, run in their package folders so that testdata/ is found.
#   scripts/gpu/go-tests.sh XFER_DIR
# (after scripts/gpu/metrics-check.sh in the same call, it also runs the
# learned metrics' Go benchmark on the stand-ins it exported; after
# scripts/gpu/sr-batch-check.sh random-x4plus, the SR benchmark on its model;
# BENCH_ONLY=1 skips the tests and runs only the benchmarks, NO_BENCH=1 the
# learned metrics' benchmark; DEVICE=cpu is a
# dry run of the flow on a CPU machine: the GPU tests skip, the benchmarks
# run on the CPU)
set -euo pipefail
X=$(cd "$1" && pwd)
DEVICE=${DEVICE:-cuda}
if [ "$DEVICE" = cuda ]; then
  source scripts/gpu/env.sh
else
  source scripts/gpu/lib.sh
fi
rc=0
LEARNED=${LEARNED:-lpips lpips-vgg maniqa maniqa-pipal musiq clipiqa}
for p in runners metrics; do
  unzst "$X/$p.test.zst" /tmp/$p.test
  [ -n "${BENCH_ONLY:-}" ] && continue  # the tests ran in an earlier call
  if [ $p = runners ]; then
    echo "== go test -run 'CUDA' ./$p"
    (cd $p && timeout 300 /tmp/$p.test -test.run 'CUDA' -test.v) || rc=1
    continue
  fi
  # One process per learned metric: a crash inside the provider in one
  # (a signal ends the process) leaves the others' results.
  for m in $LEARNED; do
    echo "== go test -run 'TestLearnedOnCUDA/^$m\$' ./$p"
    (cd $p && timeout 120 /tmp/$p.test -test.run "^TestLearnedOnCUDA\$/^$m\$" -test.v 2>&1 | grep -v -P '^\t|^goroutine |^runtime\.|^created by' | head -40) || rc=1
  done
  echo "== go test -run 'TestKnownCrashOnCUDA' ./$p"
  (cd $p && ADDSR_BENCH_ALLOW_KNOWN_CRASH= timeout 120 /tmp/$p.test -test.run '^TestKnownCrashOnCUDA$' -test.v) || rc=1
done
# With the stand-ins exported (scripts/gpu/metrics-check.sh ran first in the
# call), the learned metrics' benchmark on CUDA: images/s, alone and 16 stacked.
if [ -d /tmp/metrics-check/standins ] && [ -z "${NO_BENCH:-}" ]; then
  for m in $LEARNED; do
    echo "== go test -run '^\$' -bench 'BenchmarkLearned/^$m\$' -benchtime 5x ./metrics, on $DEVICE"
    (cd metrics && ADDSR_BENCH_MODELS=/tmp/metrics-check/standins ADDSR_BENCH_DEVICE=$DEVICE \
      timeout 120 /tmp/metrics.test -test.run '^$' -test.bench "^BenchmarkLearned\$/^$m\$" -test.benchtime 5x 2>&1 |
      grep -E '^(Benchmark|SIGSEGV|PC=|ok|FAIL|PASS|---)|rror') || rc=1
  done
fi
# With an SR model exported (scripts/gpu/sr-batch-check.sh ran first in the
# call, or SR_MODEL names one), the SR benchmark on CUDA: host tensors, IO
# binding, CUDA graph, at batches 1, 8 and 32.
SR_MODEL=${SR_MODEL:-/tmp/m/random-x4plus.onnx}
if [ -f "$SR_MODEL" ]; then
  echo "== go test -run '^\$' -bench 'SR\$' -benchtime 20x ./runners, on $DEVICE, $SR_MODEL"
  (cd runners && ADDSR_BENCH_SR_MODEL=$SR_MODEL ADDSR_BENCH_DEVICE=$DEVICE \
    timeout 240 /tmp/runners.test -test.run '^$' -test.bench 'SR$' -test.benchtime 20x) || rc=1
fi
exit $rc
