# Sourced by the device scripts: ONNX Runtime with its CUDA plugin (the
# bundle in .gpu/, unpacked once per machine into /tmp/ort) in the
# environment, and the helpers of lib.sh (unzst, lr_sets, ort_log_summary).
V=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
if [ ! -f /tmp/ort-env.sh ]; then
  CUDA_LIBS=$V/cu13/lib:$V/cudnn/lib .gpu/unpack.sh > /tmp/ort-env.sh
  cp .gpu/zstd /tmp/ort/zstd
fi
source /tmp/ort-env.sh
source scripts/gpu/lib.sh
# The device checks measure what happens on CUDA, so the metrics whose
# graphs crashed the CUDA plugin are run there too, not moved to the CPU
# (metrics.EnvAllowKnownCrash; each check runs them in processes of their own).
export ADDSR_BENCH_ALLOW_KNOWN_CRASH=1
