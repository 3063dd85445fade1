"""What every writer of an AddSR pipeline folder shares (models/export/addsr.py,
and the test fixtures' runners/addsr/testdata/standin.py and realsize.py):
the official script's defaults, file hashes, graph files, and check tensors.

Check tensors are each graph's inputs and the PyTorch module's outputs on
them, written to check.bin and described in pipeline.json's "check"
section, so that `addsr-bench models verify PIPELINE_DIR` runs the ONNX
graphs through the Go harness and compares (ONNX Runtime's Python package
is not needed).

Inputs are stored as float16 (make_inputs rounds them to float16 before
the modules run, so they are exact), outputs as float32, little-endian;
a tensor used twice (the text embeddings feed ControlNet and the UNet) is
stored once.
"""
import hashlib, os

import numpy as np

ADDED = 'clean, high-resolution, 8k, extremely detailed, best quality, sharp'
NEGATIVE = 'dotted, noise, blur, lowres, smooth'
# test_addsr.py's defaults; PSR_weight is the pipeline's 0.4 (the script's
# flag is not passed on); latent tiles are its 320 and 4.
DEFAULTS = {'psr': True, 'psr_weight': 0.4, 'prompt': 'ram', 'user_prompt': '', 'added_prompt': ADDED,
            'negative_prompt': NEGATIVE, 'guidance_scale': 0, 'colour_fix': 'adain', 'process_size': 512,
            'upscale': 4, 'seed': 0, 'latent_tile': 320, 'latent_tile_overlap': 4,
            'vae_decode_tile': 0, 'vae_decode_overlap': 8}


def sha256(path):
    """A file's SHA-256, read in 1 MiB pieces (graphs can be gigabytes)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return h.hexdigest()


def save_graph(onnx, model, out, name):
    """Writes out/name.onnx, with the weights in name.onnx.data past 1.8 GB."""
    size = sum(len(t.raw_data) for t in model.graph.initializer)
    path = os.path.join(out, name + '.onnx')
    if size > 1.8e9:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=name + '.onnx.data', size_threshold=1024)
        return [name + '.onnx.data']
    onnx.save_model(model, path)
    return []


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
    return {'file': 'check.bin', 'sha256': sha256(path), 'graphs': graphs}
