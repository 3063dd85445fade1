"""Test fixture for the musiq plumbing: a tiny network with seeded RANDOM
weights taking MUSIQ's token input [1, seq, 3075] (not a metric), and the
scores it gives on photos when the tokens are built in PyTorch the way
pyiqa's get_multiscale_patches builds them (F.interpolate bicubic to the
rounded size, TF-SAME padding, F.unfold, nearest-interpolated hash grid).

Run: /usr/bin/python3 metrics/testdata/nr/make_musiq.py
"""
import hashlib, json, os
import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from pyiqa_torch import musiq_input  # the script's folder is on sys.path

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, '..', '..', '..'))


class TinyMusiq(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(3072, 8)
        self.pos = nn.Parameter(torch.randn(100, 8) * 0.5)
        self.scale = nn.Parameter(torch.randn(3, 8) * 0.5)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        t = self.embed(x[..., :3072]) + self.pos[x[..., -3].long()] + self.scale[x[..., -2].long()]
        m = x[..., -1:]
        pooled = (torch.tanh(t) * m).sum(dim=1) / m.sum(dim=1)
        return self.head(pooled).view(-1)


torch.manual_seed(4)
net = TinyMusiq().eval()
path = os.path.join(here, 'musiq-koniq.onnx')
torch.onnx.export(net, (torch.zeros(1, 200, 3075),), path, input_names=['tokens'], output_names=['score'],
                  opset_version=13, dynamic_axes={'tokens': {0: 'n', 1: 'seq'}, 'score': {0: 'n'}})
json.dump({'name': 'musiq-koniq', 'kind': 'metric', 'scale': 0,
           'input': {'name': 'tokens', 'layout': 'NCHW', 'range': [-1, 1], 'colour': 'RGB'},
           'output': {'name': 'score', 'layout': 'N', 'range': [0, 100]},
           'dtype': 'fp32', 'sha256': hashlib.sha256(open(path, 'rb').read()).hexdigest(),
           'license': 'test fixture (random weights)', 'source': 'metrics/testdata/nr/make_musiq.py'},
          open(os.path.join(here, 'musiq-koniq.json'), 'w'), indent=2)

out = []
for path_, box in [('metrics/testdata/hubble-blur-ref.png', None), ('datasets/samples/astronaut.png', None),
                   ('datasets/samples/astronaut.png', (13, 7, 424, 308)), ('datasets/samples/ihc.png', (0, 0, 301, 233)),
                   ('datasets/samples/ihc.png', (5, 9, 5 + 97, 9 + 161)),
                   ('datasets/samples/astronaut.png', (5, 100, 305, 140)), ('datasets/samples/ihc.png', (3, 4, 3 + 45, 4 + 33))]:
    im = Image.open(os.path.join(root, path_)).convert('RGB')
    if box:
        im = im.crop(box)
    x = torch.from_numpy(np.asarray(im, np.float32) / 255).permute(2, 0, 1)[None]
    t = musiq_input(x)
    with torch.no_grad():
        out.append({'image': path_, 'box': box, 'seq': t.shape[1], 'musiq': float(net(t)[0]),
                    'token_checksum': float(t.double().sum())})
json.dump(out, open(os.path.join(here, 'musiq_expected.json'), 'w'), indent=1)
print(out)
