# Sourced by the device scripts: ONNX Runtime with its CUDA plugin (the
# bundle in .gpu/, unpacked once per machine into /tmp/ort) in the
# environment, and unzst FILE.zst OUT to unpack what prepare.sh compressed.
V=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
if [ ! -f /tmp/ort-env.sh ]; then
  CUDA_LIBS=$V/cu13/lib:$V/cudnn/lib .gpu/unpack.sh > /tmp/ort-env.sh
  cp .gpu/zstd /tmp/ort/zstd
fi
source /tmp/ort-env.sh
unzst() {
  /tmp/ort/zstd -d -q -f "$1" -o "$2" && chmod +x "$2"
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
