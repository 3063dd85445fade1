#!/usr/bin/env bash
# The exporters end to end, against a stand-in for pyiqa (./pyiqa: small
# random-weight networks with pyiqa's module layout and call conventions —
# NOT pyiqa): each models/export/*.py builds its wrapper from the stand-in's
# modules, checks it against the stand-in's own forward, exports, and writes
# the manifest with the stand-in's scores on the calibration pairs; then
# `addsr-bench models verify` scores the same pairs with Go + ONNX.
#
#   models/export/selftest/run.sh [OUT_DIR] [PAIRS_DIR]   (about a minute on 2 cores)
#
# Needs bin/addsr-bench (make build), ORT (make ort), Debian's python3-torch,
# python3-torchvision, python3-onnx, python3-pil; PAIRS_DIR defaults to
# ../shared/data/pyiqa-calibration. Not part of `make test` (no Python there).
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-.cache/export-selftest}
PAIRS=${2:-../shared/data/pyiqa-calibration}
PY=${PYTHON:-/usr/bin/python3}
rm -rf "$OUT"
export PYTHONPATH=$PWD/models/export/selftest${PYTHONPATH:+:$PYTHONPATH}
run() { echo "\$ python3 models/export/$*"; "$PY" models/export/"$@" --out "$OUT" --calibration "$PAIRS" 2>&1 | grep -v -i 'warn\|^  '; }
run lpips.py --net alex
run lpips.py --net vgg
run maniqa.py --weights koniq
run maniqa.py --weights pipal
run musiq.py
run clipiqa.py
echo "\$ addsr-bench models verify $OUT --pairs $PAIRS"
bin/addsr-bench models verify "$OUT" --pairs "$PAIRS"
