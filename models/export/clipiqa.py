"""Exports pyiqa's CLIPIQA for addsr-bench's `clipiqa`.

  python3 models/export/clipiqa.py --out .cache/models [--calibration DIR]

The graph takes one full-resolution image normalised with CLIP's mean and std
(addsr-bench does this in Go) and returns the score: the five prompt pairs'
text features are computed here once and stored in the graph as constants;
the image feature comes from CLIP RN50 without its positional embedding, as
pyiqa runs it; the score is the mean over pairs of softmax(logit_scale·cos)
of the positive prompt. Checked against pyiqa before export.

Needs PyTorch and pyiqa with its CLIP checkpoint. Not run in addsr-bench's CI
(no pyiqa there): `addsr-bench models verify` checks the result.
"""
import argparse, os, sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import calibration_scores, export_onnx, need_pyiqa, write_manifest


class ClipIQAScore(torch.nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.clip = arch.clip_model[0] if isinstance(arch.clip_model, list) else arch.clip_model
        with torch.no_grad():
            # pyiqa's tokenized prompts: five (positive, negative) pairs
            text = self.clip.encode_text(arch.prompt_pairs.to(next(self.clip.parameters()).device))
        self.register_buffer('text', F.normalize(text.float(), dim=-1))
        self.register_buffer('scale', self.clip.logit_scale.exp().detach().float())

    def forward(self, x):
        f = F.normalize(self.clip.encode_image(x, pos_embedding=False).float(), dim=-1)
        logits = self.scale * f @ self.text.t()
        return logits.view(x.shape[0], -1, 2).softmax(dim=-1)[..., 0].mean(dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--calibration')
    a = ap.parse_args()
    pyiqa = need_pyiqa()
    metric = pyiqa.create_metric('clipiqa', device='cpu')
    arch = metric.net.eval()
    wrap = ClipIQAScore(arch).eval()
    x = torch.rand(1, 3, 224, 288)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    with torch.no_grad():
        want = float(metric(x))
        got = float(wrap((x - mean) / std))
    assert abs(want - got) < 1e-4 * abs(want) + 1e-6, (want, got)
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, 'clipiqa.onnx')
    export_onnx(wrap, ((x - mean) / std,), path, input_names=['image'], output_names=['score'],
                      opset_version=17, dynamic_axes={'image': {0: 'n', 2: 'h', 3: 'w'}, 'score': {0: 'n'}})
    write_manifest(a.out, 'clipiqa', path, 'clipiqa',
                   {'name': 'image', 'layout': 'NCHW', 'range': [-1.8, 2.2], 'colour': 'RGB'},
                   {'name': 'score', 'layout': 'N', 'range': [0, 1]},
                   'MIT (CLIP); CLIP-IQA (S-Lab License 1.0)', 'CLIP RN50',
                   calibration_scores(metric, a.calibration))
    print('wrote', path)


if __name__ == '__main__':
    main()
