#!/usr/bin/env bash
# The learned metrics' stand-ins on the CPU, Go + ONNX beside PyTorch eager
# (Debian's python3-torch 1.13), same modules, same images: timings and the
# largest relative difference between the two.
#   bench/learned/cpu-check.sh [WORK_DIR]     (about 8 minutes on 2 cores)
# Needs bin/addsr-bench (make build), python3-torch, python3-onnx, python3-pil.
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${1:-/tmp/addsr-learned}
P=bench/learned/peer_torch_metrics.py
mkdir -p "$W"
[ -f "$W/standins/clipiqa.json" ] || /usr/bin/python3 $P export "$W/standins" 2>&1 | grep -v -i warn
# Images: the demo's 4 bicubic ×4 outputs (512²) and their HR.
[ -d "$W/demo" ] || bin/addsr-bench demo --no-models --out "$W/demo" > /dev/null
D=$W/demo/run/outputs/demo/bicubic/steps0 R=$W/demo/dataset/HR
mkdir -p "$W/two"; cp "$D/astronaut.png" "$D/retina.png" "$W/two/"
echo "# $(date -u +%F) learned-metric stand-ins (random weights, full size) on the CPU: $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(go env GOVERSION), ONNX Runtime 1.29.0"
echo "# command: bench/learned/cpu-check.sh; images: the demo's 4 bicubic ×4 outputs (512²) against their HR; maniqa on astronaut and retina only"
echo "\$ peer_torch_metrics.py time --threads 2 (lpips, lpips-vgg, musiq, clipiqa)"
/usr/bin/python3 $P time "$W/standins" --dist "$D" --ref "$R" --threads 2 --names lpips-alex lpips-vgg musiq-koniq clipiqa --json "$W/t4.json" 2>&1 | grep -v -i warn
for wtb in "1 2 1" "2 1 1" "2 2 1" "1 2 4"; do
  set -- $wtb
  echo "\$ addsr-bench score -m lpips,lpips-vgg,musiq,clipiqa --timings --workers $1 --threads $2 --batch $3"
  bin/addsr-bench score --dist "$D" --ref "$R" -m lpips,lpips-vgg,musiq,clipiqa --models "$W/standins" --format jsonl --timings --no-verify --workers $1 --threads $2 --batch $3 2>&1 > "$W/g4w$1t$2b$3.jsonl"
done
echo "\$ peer_torch_metrics.py compare (Go --workers 1, one image per inference)"
/usr/bin/python3 $P compare "$W/t4.json" "$W/g4w1t2b1.jsonl" --tol 1e-4
echo "\$ peer_torch_metrics.py compare (Go --workers 1 --batch 4: the four images in one inference per metric)"
/usr/bin/python3 $P compare "$W/t4.json" "$W/g4w1t2b4.jsonl" --tol 1e-4
echo "\$ peer_torch_metrics.py time --threads 2 --names maniqa-koniq (2 images)"
/usr/bin/python3 $P time "$W/standins" --dist "$W/two" --threads 2 --names maniqa-koniq --warmup 0 --json "$W/t2.json" 2>&1 | grep -v -i warn
for b in 1 2; do
  echo "\$ addsr-bench score -m maniqa --timings --workers 1 --batch $b"
  bin/addsr-bench score --dist "$W/two" -m maniqa --models "$W/standins" --format jsonl --timings --workers 1 --batch $b 2>&1 > "$W/g2b$b.jsonl"
  /usr/bin/python3 $P compare "$W/t2.json" "$W/g2b$b.jsonl" --tol 1e-4
done
