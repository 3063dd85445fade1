"""Exports pyiqa's MUSIQ (KonIQ) for addsr-bench's `musiq`.

  python3 models/export/musiq.py --out .cache/models [--calibration DIR]

The graph takes the multi-scale token tensor addsr-bench builds in Go
([1, seq, 3075]: 3072 pixel values, hashed position, scale id, mask; seq
varies with the image size) and returns the MOS. The wrapper runs pyiqa's
MUSIQ forward after its get_multiscale_patches step, and is checked against
pyiqa on a real-sized random image before export.

Needs PyTorch and pyiqa with its checkpoint. Not run in addsr-bench's CI
(no pyiqa there): `addsr-bench models verify` checks the result (pyiqa's
tolerance for musiq is 3e-2 relative).
"""
import argparse, os, sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import calibration_scores, export_onnx, need_pyiqa, write_manifest


class MusiqFromTokens(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        n = self.net
        b, seq_len, _ = x.shape
        pos, scale, mask = x[:, :, -3], x[:, :, -2], x[:, :, -1].bool()
        x = x[:, :, :-3].reshape(-1, 3, n.patch_size, n.patch_size)
        x = n.block1(n.root_pool(n.gn_root(n.conv_root(x))))
        x = x.permute(0, 2, 3, 1).reshape(b, seq_len, -1)
        x = n.transformer_encoder(n.embedding(x), pos, scale, mask)
        q = n.head(x[:, 0])
        return (q * torch.arange(1, q.shape[-1] + 1).to(q)).sum(dim=-1)  # dist_to_mos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--calibration')
    a = ap.parse_args()
    pyiqa = need_pyiqa()
    from pyiqa.data.multiscale_trans_util import get_multiscale_patches
    metric = pyiqa.create_metric('musiq', device='cpu')
    net = metric.net.eval()
    wrap = MusiqFromTokens(net).eval()
    img = torch.rand(1, 3, 384, 512)
    with torch.no_grad():
        want = float(net(img))
        tokens = get_multiscale_patches((img - 0.5) * 2, **net.data_preprocess_opts)
        got = float(wrap(tokens))
    assert abs(want - got) < 1e-4 * abs(want), (want, got)
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, 'musiq-koniq.onnx')
    export_onnx(wrap, (tokens,), path, input_names=['tokens'], output_names=['score'], opset_version=17,
                      dynamic_axes={'tokens': {0: 'n', 1: 'seq'}, 'score': {0: 'n'}})
    write_manifest(a.out, 'musiq-koniq', path, 'musiq',
                   {'name': 'tokens', 'layout': 'NCHW', 'range': [-1, 1], 'colour': 'RGB'},
                   {'name': 'score', 'layout': 'N', 'range': [0, 100]},
                   'Apache-2.0 (MUSIQ, Google Research)', 'MUSIQ KonIQ',
                   calibration_scores(metric, a.calibration))
    print('wrote', path)


if __name__ == '__main__':
    main()
