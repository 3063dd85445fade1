"""Builds the metric test pairs and their expected scores from independent
implementations (none of them this project's Go code).

Run with Debian's packages (python3-skimage 0.19, python3-opencv 4.6,
python3-torch 1.13, python3-pil):
  /usr/bin/python3 metrics/testdata/make_reference.py

Pairs: crops of the demo photos (datasets/samples) and a distorted copy made
here with a seeded generator. Expected values:
  psnr           numpy, float64 on ToTensor-style float32 samples
  psnry          numpy, YIQ Y in float32 on [0,1]
  psnr-basicsr*  numpy, BasicSR's formula
  ssim, ssimc    scikit-image structural_similarity (gaussian_weights, sigma
                 1.5, use_sample_covariance=False, data_range 255) on the
                 rounded pyiqa inputs; the pairs are mild enough that pyiqa's
                 clamp of cs at 0 never triggers (checked below)
  ssim-basicsr*  OpenCV filter2D with getGaussianKernel(11, 1.5), BasicSR's
                 recipe
  niqe*          torch port in scripts/reference/niqe_pyiqa_port.py
"""
import json, os, sys
import numpy as np
import cv2
import torch
from PIL import Image
from skimage.metrics import structural_similarity

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, 'scripts', 'reference'))
import niqe_pyiqa_port as nq

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261125)

def load(name):
    return np.asarray(Image.open(os.path.join(root, 'datasets', 'samples', name)).convert('RGB'))

pairs = []
a = load('astronaut.png')[60:252, 150:350]                 # 200x192
noisy = np.clip(a.astype(np.float64) + rng.normal(0, 12, a.shape), 0, 255).round().astype(np.uint8)
pairs.append(('astronaut-noise', a, noisy))
h = load('hubble_deep_field.jpg')[300:496, 400:600]        # 200x196
blur = cv2.GaussianBlur(h, (7, 7), 1.2, borderType=cv2.BORDER_REFLECT)
pairs.append(('hubble-blur', h, blur))
i = load('ihc.png')[200:400, 150:350]                      # 200x200
ok, enc = cv2.imencode('.jpg', i[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 30])
jpeg = cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1]
pairs.append(('ihc-jpeg', i, jpeg))

def f32(x):  # torchvision ToTensor: uint8 / 255 in float32
    return x.astype(np.float32) / np.float32(255)

def yiq(x, scale, rnd):
    t = torch.from_numpy(f32(x))
    y = (t[..., 0] * 0.299 + t[..., 1] * 0.587 + t[..., 2] * 0.114) * scale
    y = y.numpy().astype(np.float64)
    return np.round(y) if rnd else y

def bt601(x):
    x = x.astype(np.float64)
    return (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255 + 16

def sk_ssim(p, q):
    return structural_similarity(p, q, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)

def cs_min(p, q):
    _, S = structural_similarity(p, q, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, full=True)
    return S.min()

def cv_ssim(p, q):
    C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    k = cv2.getGaussianKernel(11, 1.5); w = np.outer(k, k.T)
    f = lambda z: cv2.filter2D(z, -1, w)[5:-5, 5:-5]
    m1, m2 = f(p), f(q)
    s1, s2, s12 = f(p * p) - m1 ** 2, f(q * q) - m2 ** 2, f(p * q) - m1 * m2
    return (((2 * m1 * m2 + C1) * (2 * s12 + C2)) / ((m1 ** 2 + m2 ** 2 + C1) * (s1 + s2 + C2))).mean()

out = {'generated_by': 'metrics/testdata/make_reference.py', 'pairs': []}
for name, ref, dist in pairs:
    Image.fromarray(ref).save(os.path.join(here, name + '-ref.png'))
    Image.fromarray(dist).save(os.path.join(here, name + '-dist.png'))
    v = {}
    v['psnr'] = float(10 * np.log10(1 / (np.mean((f32(dist).astype(np.float64) - f32(ref)) ** 2) + 1e-8)))
    v['psnry'] = float(10 * np.log10(1 / (np.mean((yiq(dist, 1, False) - yiq(ref, 1, False)) ** 2) + 1e-8)))
    v['psnr-basicsr'] = float(20 * np.log10(255 / np.sqrt(np.mean((bt601(dist) - bt601(ref)) ** 2))))
    v['psnr-basicsr-rgb'] = float(20 * np.log10(255 / np.sqrt(np.mean((dist.astype(np.float64) - ref) ** 2))))
    yd, yr = yiq(dist, 255, True), yiq(ref, 255, True)
    assert cs_min(yd, yr) > -0.5  # no strongly negative structure terms
    v['ssim'] = float(sk_ssim(yd, yr))
    v['ssimc'] = float(np.mean([sk_ssim(np.round(f32(dist[..., c]) * np.float32(255)).astype(np.float64),
                                        np.round(f32(ref[..., c]) * np.float32(255)).astype(np.float64)) for c in range(3)]))
    v['ssim-basicsr'] = float(cv_ssim(bt601(dist), bt601(ref)))
    v['ssim-basicsr-rgb'] = float(np.mean([cv_ssim(dist[..., c].astype(np.float64), ref[..., c].astype(np.float64)) for c in range(3)]))
    if min(dist.shape[:2]) >= 96:
        v['niqe'] = nq.niqe(torch.from_numpy(yiq(dist, 255, True)), True, True)
        v['niqe-basicsr'] = nq.niqe(torch.from_numpy(np.round(bt601(dist))), False, False)
    out['pairs'].append({'name': name, 'values': v})
    print(name, v)
json.dump(out, open(os.path.join(here, 'reference_values.json'), 'w'), indent=1)
