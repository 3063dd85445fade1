"""Test fixture for the `lpips` metric plumbing: LPIPS-alex at 1/8 width
with seeded RANDOM weights (not a metric: its numbers mean nothing), exported
to ONNX with its manifest, and the values the same PyTorch module gives on
real photo pairs, preprocessed by torchvision's ToTensor and ×2−1.

Run with Debian's python3-torch 1.13 and python3-onnx:
  /usr/bin/python3 metrics/testdata/lpips/make_fixture.py
"""
import hashlib, json, os, sys
import numpy as np
import torch
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, '..', '..', '..'))
sys.path.insert(0, os.path.join(root, 'models', 'export'))
from lpips_arch import LPIPS

torch.manual_seed(1234)
net = LPIPS('alex', width=0.125).eval()
with torch.no_grad():
    for lin in net.lins:  # LPIPS's linear weights are non-negative
        lin.weight.abs_()
path = os.path.join(here, 'lpips-alex.onnx')
x = torch.rand(1, 3, 64, 64) * 2 - 1
torch.onnx.export(net, (x, x), path, input_names=['img0', 'img1'], output_names=['distance'], opset_version=13,
                  dynamic_axes={'img0': {0: 'n', 2: 'h', 3: 'w'}, 'img1': {0: 'n', 2: 'h', 3: 'w'}, 'distance': {0: 'n'}})
sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
json.dump({'name': 'lpips-alex', 'kind': 'metric', 'scale': 0,
           'input': {'name': 'img0', 'layout': 'NCHW', 'range': [-1, 1], 'colour': 'RGB'},
           'output': {'name': 'distance', 'layout': 'N', 'range': [0, 1]},
           'dtype': 'fp32', 'sha256': sha, 'license': 'test fixture (random weights)',
           'source': 'metrics/testdata/lpips/make_fixture.py: LPIPS-alex at 1/8 width, torch.manual_seed(1234)'},
          open(os.path.join(here, 'lpips-alex.json'), 'w'), indent=2)

# The VGG variant at 1/16 width, for the shared metric suite.
torch.manual_seed(99)
vgg = LPIPS('vgg', width=0.0625).eval()
with torch.no_grad():
    for lin in vgg.lins:
        lin.weight.abs_()
vpath = os.path.join(here, 'lpips-vgg.onnx')
torch.onnx.export(vgg, (x, x), vpath, input_names=['img0', 'img1'], output_names=['distance'], opset_version=13,
                  dynamic_axes={'img0': {0: 'n', 2: 'h', 3: 'w'}, 'img1': {0: 'n', 2: 'h', 3: 'w'}, 'distance': {0: 'n'}})
json.dump({'name': 'lpips-vgg', 'kind': 'metric', 'scale': 0,
           'input': {'name': 'img0', 'layout': 'NCHW', 'range': [-1, 1], 'colour': 'RGB'},
           'output': {'name': 'distance', 'layout': 'N', 'range': [0, 1]},
           'dtype': 'fp32', 'sha256': hashlib.sha256(open(vpath, 'rb').read()).hexdigest(),
           'license': 'test fixture (random weights)',
           'source': 'metrics/testdata/lpips/make_fixture.py: LPIPS-vgg at 1/16 width, torch.manual_seed(99)'},
          open(os.path.join(here, 'lpips-vgg.json'), 'w'), indent=2)

def tensor(p):
    a = np.asarray(Image.open(p).convert('RGB'), np.float32) / 255   # ToTensor
    return torch.from_numpy(a).permute(2, 0, 1)[None] * 2 - 1
pairs = []
mt = os.path.join(root, 'metrics', 'testdata')
for name in ('astronaut-noise', 'hubble-blur', 'ihc-jpeg'):
    r, d = tensor(os.path.join(mt, name + '-ref.png')), tensor(os.path.join(mt, name + '-dist.png'))
    for crop in (None, (0, 0, 97, 131)):  # full size, and an odd-sized crop
        rr, dd = (r, d) if crop is None else (r[..., crop[0]:crop[2], crop[1]:crop[3]], d[..., crop[0]:crop[2], crop[1]:crop[3]])
        with torch.no_grad():
            v = float(net(dd, rr)[0])
        pairs.append({'name': name, 'crop': crop, 'value': v})
json.dump({'pairs': pairs}, open(os.path.join(here, 'expected.json'), 'w'), indent=1)
print(os.path.getsize(path), 'bytes;', pairs)
