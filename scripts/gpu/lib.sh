# Helpers of the device scripts, without side effects: sourced through
# env.sh on the device, and directly for a DEVICE=cpu dry run.

# unzst FILE.zst OUT: unpacks what prepare.sh compressed, with the bundle's
# zstd on the device (env.sh puts it in /tmp/ort), the system's elsewhere.
unzst() {
  local z=zstd
  [ -x /tmp/ort/zstd ] && z=/tmp/ort/zstd
  "$z" -d -q -f "$1" -o "$2" && chmod +x "$2"
}

# lr_sets BINARY: the LR sets the SR checks share, built once per machine:
# /tmp/lr4 (the 4 demo photos) and /tmp/lr100 (100 random 512² crops of them,
# 25 each), both → 128² LR with the sr4 preset.
lr_sets() {
  [ -d /tmp/lr100/LR ] && [ -d /tmp/lr4/LR ] && return
  rm -rf /tmp/photos /tmp/lr4 /tmp/lr100; mkdir -p /tmp/photos
  for i in $(seq -w 0 24); do for f in datasets/samples/*.png datasets/samples/*.jpg; do
    [ -f "$f" ] || continue
    b=$(basename "$f"); cp "$f" "/tmp/photos/${b%.*}_$i.${b##*.}"; done; done
  "$1" degrade --preset sr4 --in datasets/samples --out /tmp/lr4 >/dev/null
  "$1" degrade --preset sr4 --in /tmp/photos --out /tmp/lr100 --crop random --seed 1 >/dev/null
}

# ort_log_summary MAX [EXTRA]: ONNX Runtime's verbose log (ADDSR_BENCH_ORT_LOG)
# on stdin → its node placements, warnings and errors (and lines matching
# the alternative EXTRA, e.g. '|cuda graph'), counted, at most MAX lines.
ort_log_summary() {
  grep -E "placed on|not assigned|\\[W:|\\[E:${2:-}" | sed 's/^.*\] //' | sort | uniq -c | head -"$1"
}
