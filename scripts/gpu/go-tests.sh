#!/usr/bin/env bash
# On the device: the GPU tests of runners/ and metrics/ (CUDA against the
# CPU, alone and batched), from the test binaries scripts/gpu/prepare.sh
# built, run in their package folders so that testdata/ is found.
#   scripts/gpu/go-tests.sh XFER_DIR
set -euo pipefail
X=$(cd "$1" && pwd)
V=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
if [ ! -f /tmp/ort-env.sh ]; then
  CUDA_LIBS=$V/cu13/lib:$V/cudnn/lib .gpu/unpack.sh > /tmp/ort-env.sh
  cp .gpu/zstd /tmp/ort/zstd
fi
source /tmp/ort-env.sh
rc=0
for p in runners metrics; do
  /tmp/ort/zstd -d -q -f "$X/$p.test.zst" -o /tmp/$p.test
  chmod +x /tmp/$p.test
  echo "== go test -run 'CUDA' ./$p"
  (cd $p && /tmp/$p.test -test.run 'CUDA' -test.v) || rc=1
done
exit $rc
