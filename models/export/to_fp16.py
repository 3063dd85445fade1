"""Converts exported models to float16 (weights and activations) behind
float32 inputs and outputs, for the GPU's tensor cores: what addsr-bench
feeds and reads does not change, only the graph inside.

  python3 models/export/to_fp16.py IN_DIR OUT_DIR [--names NAME ...]

For each NAME.onnx with its manifest NAME.json in IN_DIR (all of them when
--names is left out) it writes OUT_DIR/NAME.onnx and a copy of the manifest
with dtype fp16, the new file's SHA-256 and the conversion added to its
source; the calibration scores stay pyiqa's float32 ones, so
`addsr-bench models verify OUT_DIR --pairs …` says whether half precision
keeps the metric within pyiqa's tolerance before anyone trusts a table
scored with it. The conversion is ONNX Runtime's own
(onnxruntime.transformers.float16, or the same code in onnxconverter-common):
its default block list keeps the operators that need float32 in float32,
with casts around them.

Needs onnx and onnxruntime (or onnxconverter-common); runs on the CPU. Not
run in addsr-bench's CI (neither is installed there): the device script
scripts/gpu/metrics-check.sh (FP16=1) converts the learned-metric stand-ins
with it and compares their scores and speed with the float32 graphs.
"""
import argparse, hashlib, json, os, sys

import onnx


def converter():
    try:
        import onnxruntime
        from onnxruntime.transformers.float16 import convert_float_to_float16
        return convert_float_to_float16, f'onnxruntime {onnxruntime.__version__} transformers.float16'
    except ImportError:
        pass
    try:
        import onnxconverter_common
        from onnxconverter_common.float16 import convert_float_to_float16
        return convert_float_to_float16, f'onnxconverter-common {onnxconverter_common.__version__} float16'
    except ImportError:
        sys.exit('to_fp16.py needs onnxruntime (its transformers.float16 module) or onnxconverter-common: pip install onnxruntime')


def write_atomic(path, data):
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('src')
    ap.add_argument('dst')
    ap.add_argument('--names', nargs='+', help='model stems (default: every NAME.onnx with a NAME.json)')
    a = ap.parse_args()
    convert, how = converter()
    names = a.names or sorted(f[:-5] for f in os.listdir(a.src)
                              if f.endswith('.onnx') and os.path.exists(os.path.join(a.src, f[:-5] + '.json')))
    if not names:
        sys.exit(f'{a.src}: no NAME.onnx with its NAME.json manifest')
    os.makedirs(a.dst, exist_ok=True)
    for name in names:
        src = os.path.join(a.src, name + '.onnx')
        with open(os.path.join(a.src, name + '.json')) as f:
            man = json.load(f)
        if man.get('dtype') == 'fp16':
            sys.exit(f'{src}: its manifest says it is float16 already')
        m16 = convert(onnx.load(src), keep_io_types=True)
        data = m16.SerializeToString()
        out = os.path.join(a.dst, name + '.onnx')
        write_atomic(out, data)
        man['dtype'] = 'fp16'
        man['sha256'] = hashlib.sha256(data).hexdigest()
        man['source'] = f"{man.get('source', '')}; converted to float16 with float32 I/O by {how}"
        write_atomic(os.path.join(a.dst, name + '.json'), (json.dumps(man, indent=2) + '\n').encode())
        print(f'{name}: {os.path.getsize(src) / 1e6:.0f} MB → {len(data) / 1e6:.0f} MB float16 → {out}', flush=True)


if __name__ == '__main__':
    main()
