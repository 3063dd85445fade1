"""Images with flat neighbourhoods for NIQE (issue: flat 7×7 windows must
give MSCN coefficients of exactly 0), and their expected scores:

  niqe-basicsr  scripts/reference/niqe_pyiqa_port.py in --exact mode (float64,
                moments around each centre pixel, BT.601 Y as BasicSR)
  niqe          the same port in pyiqa's conventions (float32 window and grid,
                float32 resize)

    /usr/bin/python3 metrics/testdata/flat/make_flat.py
"""
import io, json, os, sys
import numpy as np
from PIL import Image, ImageOps

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, '..', '..', '..')
sys.path.insert(0, os.path.join(root, 'scripts', 'reference'))
import torch
import niqe_pyiqa_port as nq

samples = os.path.join(root, 'datasets', 'samples')


def crop(name, w=288, h=192, x=0, y=0):
    return Image.open(os.path.join(samples, name)).convert('RGB').crop((x, y, x + w, y + h))


def jpeg(im, q):
    b = io.BytesIO()
    im.save(b, 'JPEG', quality=q)
    return Image.open(io.BytesIO(b.getvalue())).convert('RGB')


rng = np.random.default_rng(3)
blocks = np.full((192, 288, 3), 128, np.uint8)
blocks[:, 144:] = rng.integers(0, 256, (192, 144, 3), dtype=np.uint8)  # texture beside a constant half
blocks[40:80, 20:100] = 37                                              # and constant blocks
blocks[120:170, 60:130] = 250
images = {
    'astronaut-jpeg30': jpeg(crop('astronaut.png', x=100, y=20), 30),
    'hubble-jpeg30': jpeg(crop('hubble_deep_field.jpg', x=50, y=50), 30),
    'retina-jpeg30': jpeg(crop('retina.jpg', x=120, y=120), 30),
    'ihc-posterized': ImageOps.posterize(crop('ihc.png', x=30, y=30), 2),
    'astronaut-posterized': ImageOps.posterize(crop('astronaut.png', x=150, y=200), 3),
    'blocks': Image.fromarray(blocks),
}
out = {}
for name, im in images.items():
    p = os.path.join(here, name + '.png')
    im.save(p)
    y_bs = nq.ychannel(p, True)
    y_pq = nq.ychannel(p, False)
    flat = int(sum(((y_bs[i:i + 7, j:j + 7] == y_bs[i + 3, j + 3]).all()) for i in range(0, y_bs.shape[0] - 6, 1) for j in range(0, y_bs.shape[1] - 6, 1)))
    out[name] = {'niqe-basicsr': nq.niqe(y_bs, False, False, exact=True),
                 'niqe-basicsr-separable': nq.niqe(y_bs, False, False, exact=False),
                 'niqe': nq.niqe(y_pq, True, True),
                 'flat_windows': flat}
    print(name, out[name], flush=True)
with open(os.path.join(here, 'expected.json'), 'w') as f:
    json.dump(out, f, indent=1)
