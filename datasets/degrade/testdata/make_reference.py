"""Expected values from independent implementations for the degrade tests.

Run with Debian's python3-torch 1.13 and python3-scipy:
  /usr/bin/python3 datasets/degrade/testdata/make_reference.py

- resize: torch.nn.functional.interpolate (area, bilinear, bicubic;
  align_corners=False; scale_factor or size), on a seeded 1x1x13x17 tensor.
- sinc: scipy.special.j1 for the circular low-pass kernel.
"""
import json, math, os
import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import j1

rng = np.random.default_rng(11)
x = rng.uniform(0, 1, (13, 17)).astype(np.float32)
t = torch.from_numpy(x)[None, None]
cases = []
for mode in ('area', 'bilinear', 'bicubic'):
    for sf in (0.37, 0.5, 1.3, 2.0):
        kw = {} if mode == 'area' else {'align_corners': False}
        y = F.interpolate(t, scale_factor=sf, mode=mode, **kw)[0, 0].numpy()
        cases.append({'mode': mode, 'scale': sf, 'w': y.shape[1], 'h': y.shape[0], 'pix': y.ravel().astype(float).tolist()})
    for size in ((5, 7), (20, 9)):
        kw = {} if mode == 'area' else {'align_corners': False}
        y = F.interpolate(t, size=size, mode=mode, **kw)[0, 0].numpy()
        cases.append({'mode': mode, 'scale': 0, 'w': y.shape[1], 'h': y.shape[0], 'pix': y.ravel().astype(float).tolist()})

sinc = []
for k, omega in ((7, math.pi / 3), (13, 2.0), (21, math.pi)):
    c = (k - 1) / 2
    yy, xx = np.mgrid[0:k, 0:k]
    r = np.hypot(xx - c, yy - c)
    with np.errstate(divide='ignore', invalid='ignore'):
        ker = omega * j1(omega * r) / (2 * np.pi * r)
    ker[k // 2, k // 2] = omega ** 2 / (4 * np.pi)
    ker /= ker.sum()
    sinc.append({'size': k, 'omega': omega, 'w': ker.ravel().tolist()})

here = os.path.dirname(os.path.abspath(__file__))
json.dump({'input': {'w': 17, 'h': 13, 'pix': x.ravel().astype(float).tolist()}, 'resize': cases, 'sinc': sinc},
          open(os.path.join(here, 'reference.json'), 'w'))
