"""Exports pyiqa's MANIQA for addsr-bench's `maniqa` (KonIQ) / `maniqa-pipal`.

  python3 models/export/maniqa.py --weights koniq|pipal --out .cache/models [--calibration DIR]

The graph takes the 20 normalised 224² crops addsr-bench cuts in Go
(N×3×224×224, values (x−0.5)/0.5) and returns each crop's per-token score
and weight (N×T each); Go computes Σ(w·s)/(Σw+1e-8) over all tokens of all
crops, as pyiqa does. The wrapper runs pyiqa's MANIQA forward from the ViT
on, without its own normalisation and random crops, and is checked against
pyiqa on fixed crops before export.

Needs PyTorch, timm and pyiqa with its checkpoints. Not run in addsr-bench's
CI (no pyiqa there): `addsr-bench models verify` checks the result.
"""
import argparse, os, sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import calibration_scores, export_onnx, need_pyiqa, write_manifest


class ManiqaTokens(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        # pyiqa's MANIQA forward from the ViT on (its einops rearranges
        # written as reshapes): b·(h w)·c tokens, TAB over the 784 positions.
        n = self.net
        s = n.input_size
        n.vit(x)
        f = n.extract_feature(n.save_output).transpose(1, 2)  # b, c, h·w
        n.save_output.outputs.clear()
        for tab in n.tablock1:
            f = tab(f)
        f = n.swintransformer1(n.conv1(f.reshape(f.shape[0], -1, s, s))).flatten(2)
        for tab in n.tablock2:
            f = tab(f)
        f = n.swintransformer2(n.conv2(f.reshape(f.shape[0], -1, s, s))).flatten(2).transpose(1, 2)
        return n.fc_score(f).flatten(1), n.fc_weight(f).flatten(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--weights', choices=['koniq', 'pipal'], default='koniq')
    ap.add_argument('--out', required=True)
    ap.add_argument('--calibration')
    a = ap.parse_args()
    pyiqa = need_pyiqa()
    name = 'maniqa' if a.weights == 'koniq' else 'maniqa-pipal'
    metric = pyiqa.create_metric(name, device='cpu')
    net = metric.net.eval()
    wrap = ManiqaTokens(net).eval()
    crops = torch.rand(20, 3, 224, 224) * 2 - 1
    import pyiqa.archs.maniqa_arch as arch
    with torch.no_grad():
        s, w = wrap(crops)
        got = float((w * s).sum() / (w.sum() + 1e-8))
        # pyiqa's own forward on the same crops: its crop step (uniform_crop
        # in eval mode in current pyiqa, random_crop in older releases) is
        # replaced by these crops; its normalisation then acts on a dummy.
        patched = {f: getattr(arch, f) for f in ('uniform_crop', 'random_crop') if hasattr(arch, f)}
        if not patched:
            sys.exit('pyiqa.archs.maniqa_arch has neither uniform_crop nor random_crop: unknown pyiqa version')
        for f in patched:
            setattr(arch, f, lambda x, crop_size, crop_num: crops)
        try:
            want = float(net(torch.rand(1, 3, 256, 256)))
        finally:
            for f, fn in patched.items():
                setattr(arch, f, fn)
    assert abs(want - got) < 1e-4 * abs(want) + 1e-6, (want, got)
    os.makedirs(a.out, exist_ok=True)
    stem = 'maniqa-' + a.weights
    path = os.path.join(a.out, stem + '.onnx')
    export_onnx(wrap, (crops,), path, input_names=['image'], output_names=['score', 'weight'], opset_version=17,
                dynamic_axes={'image': {0: 'crops'}, 'score': {0: 'crops'}, 'weight': {0: 'crops'}})
    write_manifest(a.out, stem, path, name,
                   {'name': 'image', 'layout': 'NCHW', 'range': [-1, 1], 'colour': 'RGB'},
                   {'name': 'score', 'layout': 'NT', 'range': [0, 1]},
                   'Apache-2.0 (MANIQA)', f'MANIQA {a.weights}',
                   calibration_scores(metric, a.calibration))
    print('wrote', path)


if __name__ == '__main__':
    main()
