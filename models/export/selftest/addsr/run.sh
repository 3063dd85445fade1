#!/usr/bin/env bash
# models/export/addsr.py end to end against stand-ins in the official
# module layout (./official: AddSR's models/ and ram/; ./libs: diffusers'
# AutoencoderKL and DDPMScheduler, transformers' CLIPTextModel) wrapping
# runners/addsr/testdata/standin.py's tiny random networks — NOT AddSR.
# Then `addsr-bench models verify` runs the exported graphs on the check
# tensors, and `sr` runs the exported pipeline and the committed stand-in
# pipeline on the reference LRs: their outputs must match within one level.
#
#   models/export/selftest/addsr/run.sh [OUT_DIR]     (about 30 s on 2 cores)
#
# Needs bin/addsr-bench (make build), ORT (make ort), Debian's python3-torch,
# python3-onnx, python3-numpy, python3-regex.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OUT=${1:-.cache/export-selftest-addsr}
PY=${PYTHON:-/usr/bin/python3}
ST=models/export/selftest/addsr
rm -rf "$OUT"; mkdir -p "$OUT"
W=$OUT/weights
mkdir -p $W/sd2/tokenizer $W/sd2/scheduler $W/addsr/unet $W/addsr/controlnet
cp runners/addsr/testdata/pipeline/tokenizer/{vocab.json,merges.txt} $W/sd2/tokenizer/
echo '{"pad_token": "!"}' > $W/sd2/tokenizer/special_tokens_map.json
echo '{"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "prediction_type": "epsilon"}' > $W/sd2/scheduler/scheduler_config.json
echo stand-in > $W/ram.pth; echo stand-in > $W/dape.pth
export PYTHONPATH=$PWD/$ST/libs${PYTHONPATH:+:$PYTHONPATH}
echo "\$ python3 models/export/addsr.py --code $ST/official --sd2 $W/sd2 --addsr $W/addsr --ram $W/ram.pth --dape $W/dape.pth --out $OUT/pipeline"
"$PY" models/export/addsr.py --code $ST/official --sd2 $W/sd2 --addsr $W/addsr --ram $W/ram.pth --dape $W/dape.pth \
  --out "$OUT/pipeline" 2>&1 | grep -v -i 'warn\|^  \|_C\._jit'
echo "\$ addsr-bench models verify $OUT/pipeline"
bin/addsr-bench models verify "$OUT/pipeline"
mkdir -p "$OUT/lr"; cp runners/addsr/testdata/cases/square/img0.png "$OUT/lr/a.png"; cp runners/addsr/testdata/cases/small/img0.png "$OUT/lr/b.png"
for p in exported:$OUT/pipeline committed:runners/addsr/testdata/pipeline; do
  bin/addsr-bench sr --model "${p#*:}" --in "$OUT/lr" --out "$OUT/sr-${p%%:*}" --save-steps --workers 1 >/dev/null 2>&1
done
"$PY" - "$OUT" <<'PYEOF'
import sys, os, numpy as np
sys.path.insert(0, 'models/export/selftest/addsr/libs')
out = sys.argv[1]
from PIL import Image  # python3-pil
worst = 0
for d, _, fs in os.walk(os.path.join(out, 'sr-exported')):
    for f in fs:
        if not f.endswith('.png'):
            continue  # sr's .addsr-bench marker
        a = np.asarray(Image.open(os.path.join(d, f))).astype(int)
        b = np.asarray(Image.open(os.path.join(d.replace('sr-exported', 'sr-committed'), f))).astype(int)
        worst = max(worst, np.abs(a - b).max())
print(f'exported vs committed stand-in pipeline: outputs within {worst} levels')
sys.exit(1 if worst > 1 else 0)
PYEOF
