# Sourced by device scripts: with DEVICE=cuda (the default) the CUDA
# bundle's environment (env.sh) and the GPU's name; with DEVICE=cpu, for a
# dry run of a script's flow on this machine, the helpers alone (lib.sh).
# PY is the Python with torch on each.
DEVICE=${DEVICE:-cuda}
if [ "$DEVICE" = cuda ]; then
  source scripts/gpu/env.sh
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  PY=python3
else
  source scripts/gpu/lib.sh
  PY=/usr/bin/python3 # Debian's, with torch
fi
