"""Exports LPIPS v0.1 (alex or vgg) for addsr-bench's `lpips` / `lpips-vgg`.

For users with PyTorch and pyiqa (IQA-PyTorch) and its checkpoints:

  python3 models/export/lpips.py --net alex --out .cache/models [--calibration ../shared/data/pyiqa-calibration]

It builds the graph of models/export/lpips_arch.py (both images in, the
distance out; inputs N×3×H×W in [−1, 1]) with pyiqa's weights, checks that it
matches pyiqa's own LPIPS on random inputs, exports ONNX (opset 13, dynamic
sizes) and writes the manifest: SHA-256, pyiqa version, checkpoint, and the
scores pyiqa itself gives on the calibration pairs, which
`addsr-bench models verify` then compares with the Go + ONNX metric.
"""
import argparse, os, sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import calibration_scores, export_onnx, need_pyiqa, write_manifest
from lpips_arch import LPIPS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--net', choices=['alex', 'vgg'], default='alex')
    ap.add_argument('--out', required=True)
    ap.add_argument('--calibration', help='folder with ref/ and dist/ pairs (pyiqa-calibration)')
    a = ap.parse_args()
    pyiqa = need_pyiqa()
    name = 'lpips' if a.net == 'alex' else 'lpips-vgg'
    ref = pyiqa.create_metric(name, device='cpu', as_loss=False)
    net = ref.net  # pyiqa's LPIPS module
    ours = LPIPS(a.net).eval()
    # pyiqa keeps the torchvision features in net.net.sliceK and the 1×1
    # layers in net.linK.model[1] (after a Dropout).
    feats = [m for k in range(1, 6) for m in getattr(net.net, f'slice{k}') if isinstance(m, torch.nn.Conv2d)]
    mine = [m for s in ours.slices for m in s if isinstance(m, torch.nn.Conv2d)]
    assert len(feats) == len(mine), (len(feats), len(mine))
    with torch.no_grad():
        for src, dst in zip(feats, mine):
            dst.weight.copy_(src.weight); dst.bias.copy_(src.bias)
        for k, lin in enumerate(ours.lins):
            lin.weight.copy_(getattr(net, f'lin{k}').model[1].weight)
        x, y = torch.rand(2, 3, 96, 80), torch.rand(2, 3, 96, 80)
        want = ref(x, y).flatten()
        got = ours(x * 2 - 1, y * 2 - 1)
        assert torch.allclose(want, got, rtol=1e-4, atol=1e-6), (want, got)
    os.makedirs(a.out, exist_ok=True)
    stem = 'lpips-' + a.net
    path = os.path.join(a.out, stem + '.onnx')
    export_onnx(ours, (x[:1] * 2 - 1, y[:1] * 2 - 1), path, input_names=['img0', 'img1'], output_names=['distance'],
                      opset_version=13, dynamic_axes={'img0': {0: 'n', 2: 'h', 3: 'w'}, 'img1': {0: 'n', 2: 'h', 3: 'w'}, 'distance': {0: 'n'}})
    write_manifest(a.out, stem, path, name,
                   {'name': 'img0', 'layout': 'NCHW', 'range': [-1, 1], 'colour': 'RGB'},
                   {'name': 'distance', 'layout': 'N', 'range': [0, 1]},
                   'BSD-2-Clause (LPIPS, Richard Zhang et al.)', f'LPIPS v0.1 {a.net}',
                   calibration_scores(ref, a.calibration, full_reference=True))
    print('wrote', path)


if __name__ == '__main__':
    main()
