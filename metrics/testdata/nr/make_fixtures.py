"""Test fixtures for the maniqa, maniqa-pipal and clipiqa plumbing: tiny
networks with seeded RANDOM weights and the I/O of the real exports (not
metrics: their numbers mean nothing), and the scores the same modules give
after pyiqa's preprocessing done in PyTorch (torch.nn.functional resize,
tensor slicing) on photos of several sizes.

Run with Debian's python3-torch 1.13 and python3-onnx:
  /usr/bin/python3 metrics/testdata/nr/make_fixtures.py
"""
import hashlib, json, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from pyiqa_torch import clip_input, maniqa_input  # the script's folder is on sys.path

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, '..', '..', '..'))


class TinyManiqa(nn.Module):
    """20 crops of 224² → per-token score (ReLU) and weight (sigmoid)."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 32, 32)
        self.fs, self.fw = nn.Linear(8, 1), nn.Linear(8, 1)
    def forward(self, x):
        t = F.relu(self.conv(x)).flatten(2).transpose(1, 2)   # 20 × 49 × 8
        # softplus rather than MANIQA's ReLU, so that random weights give
        # graded scores and the test sees every token
        return F.softplus(self.fs(t)).squeeze(-1), torch.sigmoid(self.fw(t)).squeeze(-1)


class TinyClipIQA(nn.Module):
    """Full-resolution image → mean over 5 prompt pairs of softmax(scale·cos)[positive]."""
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 8, 7, 4, 3), nn.Conv2d(8, 16, 3, 2, 1)
        self.proj = nn.Linear(16, 16)
        self.register_buffer('text', F.normalize(torch.randn(10, 16), dim=-1))
    def forward(self, x):
        f = F.relu(self.c2(F.relu(self.c1(x)))).mean(dim=(2, 3))
        f = F.normalize(self.proj(f), dim=-1)
        logits = 5 * f @ self.text.t()  # 1 × 10 (CLIP's scale is 100; 5 keeps random features from saturating)
        p = logits.view(-1, 5, 2).softmax(dim=-1)[..., 0]  # positive prompt of each pair
        return p.mean(dim=-1)


def export(net, name, sample, inputs, outputs, dyn):
    path = os.path.join(here, name + '.onnx')
    torch.onnx.export(net, sample, path, input_names=inputs, output_names=outputs, opset_version=13, dynamic_axes=dyn)
    json.dump({'name': name, 'kind': 'metric', 'scale': 0,
               'input': {'name': inputs[0], 'layout': 'NCHW', 'range': [-1, 1], 'colour': 'RGB'},
               'output': {'name': outputs[0], 'layout': 'N', 'range': [0, 1]},
               'dtype': 'fp32', 'sha256': hashlib.sha256(open(path, 'rb').read()).hexdigest(),
               'license': 'test fixture (random weights)', 'source': 'metrics/testdata/nr/make_fixtures.py'},
              open(os.path.join(here, name + '.json'), 'w'), indent=2)


nets = {}
for name, seed in (('maniqa-koniq', 1), ('maniqa-pipal', 2)):
    torch.manual_seed(seed)
    nets[name] = TinyManiqa().eval()
    # the batch dimension is free, so that several images' crops stack
    export(nets[name], name, torch.rand(20, 3, 224, 224), ['image'], ['score', 'weight'],
           {'image': {0: 'crops'}, 'score': {0: 'crops'}, 'weight': {0: 'crops'}})
torch.manual_seed(3)
nets['clipiqa'] = TinyClipIQA().eval()
export(nets['clipiqa'], 'clipiqa', torch.rand(1, 3, 96, 128), ['image'], ['score'], {'image': {0: 'n', 2: 'h', 3: 'w'}, 'score': {0: 'n'}})


def tensor(path, box=None):
    im = Image.open(path).convert('RGB')
    if box:
        im = im.crop(box)
    return torch.from_numpy(np.asarray(im, np.float32) / 255).permute(2, 0, 1)[None]


def maniqa(net, x):
    s, wt = net(maniqa_input(x))
    return float((wt * s).sum() / (wt.sum() + 1e-8))


def clipiqa(net, x):
    return float(net(clip_input(x))[0])


images = [('metrics/testdata/hubble-blur-ref.png', None), ('datasets/samples/astronaut.png', None),
          ('datasets/samples/astronaut.png', (13, 7, 13 + 411, 7 + 301)), ('datasets/samples/ihc.png', (0, 0, 301, 233)),
          # thin (MANIQA's upscale by 225/40 = 5.625) and tiny (by 225/33)
          ('datasets/samples/astronaut.png', (5, 100, 305, 140)), ('datasets/samples/ihc.png', (3, 4, 3 + 45, 4 + 33))]
out = []
with torch.no_grad():
    for path, box in images:
        x = tensor(os.path.join(root, path), box)
        out.append({'image': path, 'box': box,
                    'maniqa': maniqa(nets['maniqa-koniq'], x), 'maniqa-pipal': maniqa(nets['maniqa-pipal'], x),
                    'clipiqa': clipiqa(nets['clipiqa'], x)})
json.dump(out, open(os.path.join(here, 'expected.json'), 'w'), indent=1)
print(out)
