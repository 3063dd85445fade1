"""Pieces every metric exporter shares: pyiqa's own scores on the
calibration pairs, and the manifest written beside the .onnx file.

`addsr-bench models verify` checks the exported model against these scores
(the manifest's calibration), so they must come from the same pyiqa metric
object the export was verified against.

models/export/selftest/run.sh runs every exporter end to end against a
stand-in for pyiqa (small random networks in pyiqa's module layout), where
pyiqa and its checkpoints are not installed.
"""
import hashlib, importlib, inspect, json, os, sys


def need_pyiqa():
    """pyiqa, or an exit naming what to install (a raw ModuleNotFoundError
    said nothing about how to get it)."""
    try:
        return importlib.import_module('pyiqa')
    except ImportError as e:
        sys.exit(f'{os.path.basename(sys.argv[0])} needs PyTorch and pyiqa (IQA-PyTorch) with its checkpoints: '
                 f'pip install pyiqa (it downloads the weights on first use), then run this again ({e})')


def export_onnx(module, args, path, **kw):
    """torch.onnx.export with the TorchScript-based exporter, which these
    graphs were written for: PyTorch 2.9 and later default to the dynamo
    exporter (needing onnxscript, and tracing hooks differently), so it is
    turned off where the argument exists. Written to a temp file, then
    renamed, so a failed export leaves nothing behind."""
    import torch
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kw.setdefault('dynamo', False)
    tmp = path + '.tmp'
    try:
        torch.onnx.export(module, args, tmp, **kw)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def calibration_scores(score, cal_dir, full_reference=False):
    """pyiqa's score of every dist/ image of cal_dir (with its ref/ twin when
    full_reference); {} without a calibration folder."""
    cal = {}
    if not cal_dir:
        return cal
    for f in sorted(os.listdir(os.path.join(cal_dir, 'dist'))):
        dist = os.path.join(cal_dir, 'dist', f)
        if full_reference:
            cal[f] = float(score(dist, os.path.join(cal_dir, 'ref', f)))
        else:
            cal[f] = float(score(dist))
    return cal


def write_manifest(out, stem, onnx_path, metric, inp, output, license, checkpoint, calibration):
    """Writes out/stem.json for onnx_path: what the harness needs to run the
    model and to check it, written to a temp file and renamed into place."""
    import pyiqa
    with open(onnx_path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    man = {'name': stem, 'kind': 'metric', 'metric': metric, 'scale': 0,
           'input': inp, 'output': output, 'dtype': 'fp32', 'sha256': digest,
           'license': license, 'source': f'pyiqa {pyiqa.__version__} create_metric({metric!r})',
           'pyiqa_version': pyiqa.__version__, 'checkpoint': checkpoint, 'calibration': calibration}
    path = os.path.join(out, stem + '.json')
    with open(path + '.tmp', 'w') as f:
        json.dump(man, f, indent=2)
    os.replace(path + '.tmp', path)
