"""Check tensors for an AddSR pipeline: each graph's inputs and the PyTorch
module's outputs on them, written to check.bin and described in
pipeline.json's "check" section, so that `addsr-bench models verify
PIPELINE_DIR` runs the ONNX graphs through the Go harness and compares
(ONNX Runtime's Python package is not needed).

Inputs are stored as float16 (make_inputs rounds them to float16 before
the modules run, so they are exact), outputs as float32, little-endian;
a tensor used twice (the text embeddings feed ControlNet and the UNet) is
stored once.
"""
import hashlib, os

import numpy as np


def fp16_exact(t):
    """t rounded to float16 values, kept in float32."""
    return t.half().float()


def write_check(out, cases, tolerance):
    """cases: {graph: (inputs {name: tensor}, outputs {name: tensor})} →
    the manifest's check section; tolerance: {graph: (atol, rtol)}."""
    path = os.path.join(out, 'check.bin')
    graphs, off, seen = {}, 0, {}
    with open(path + '.tmp', 'wb') as f:
        for name, (ins, outs) in cases.items():
            entry = {'inputs': [], 'outputs': [], 'atol': tolerance[name][0], 'rtol': tolerance[name][1]}
            for kind, tensors, dtype in (('inputs', ins, '<f2'), ('outputs', outs, '<f4')):
                for n, t in tensors.items():
                    a = t.detach().float().cpu().numpy()
                    if dtype == '<f2':
                        assert np.array_equal(a.astype('<f2').astype(np.float32), a), f'{name}.{n}: not float16-exact'
                    raw = a.astype(dtype).tobytes()
                    key = hashlib.sha256(raw).hexdigest() + dtype
                    if key not in seen:
                        f.write(raw)
                        seen[key] = off
                        off += len(raw)
                    entry[kind].append({'name': n, 'shape': list(a.shape), 'dtype': 'f16' if dtype == '<f2' else 'f32', 'offset': seen[key]})
            graphs[name] = entry
    os.replace(path + '.tmp', path)
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {'file': 'check.bin', 'sha256': digest, 'graphs': graphs}
