"""Independent NIQE in torch following pyiqa's documented conventions.

Used only to generate and cross-check test values; never imported by Go tests.
Run: /usr/bin/python3 scripts/reference/niqe_pyiqa_port.py IMAGE [IMAGE...]
Flags: --f32resize (resize in float32 as pyiqa's imresize does), --basicsr (BT.601 Y),
--exact (MSCN from moments around each centre pixel: exact arithmetic's
zero wherever a 7×7 neighbourhood is flat)
"""
import json, math, sys
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

P = json.load(open(__file__.rsplit('/', 3)[0] + '/metrics/niqe_pris_params.json'))
MU = torch.tensor(P['mu_pris_param'], dtype=torch.float64)
COV = torch.tensor(P['cov_pris_param'], dtype=torch.float64)

def gauss2d(n, sigma, f32):
    m = (n - 1) / 2
    y, x = np.ogrid[-m:m + 1, -m:m + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h /= h.sum()
    t = torch.from_numpy(h)
    return t.float().double() if f32 else t

def mscn(img, win):
    pad = win.shape[-1] // 2
    x = F.pad(img, (pad, pad, pad, pad), mode='replicate')
    x2 = F.pad(img * img, (pad, pad, pad, pad), mode='replicate')
    mu = F.conv2d(x, win[None, None])
    s2 = F.conv2d(x2, win[None, None])
    sigma = torch.sqrt((s2 - mu * mu).abs())
    return (img - mu) / (sigma + 1)

def mscn_exact(img, win):
    """(x−μ)/(σ+1) in exact arithmetic: μ − c = Σ_k W_k S_k and
    σ² = Σ_k W_k Q_k − (μ−c)² around each centre c, where k = i²+j² names the
    taps of equal weight W_k and S_k, Q_k sum the differences x − c and their
    squares over them. The weights are q^k for a transcendental q, so μ − c
    is exactly 0 iff every S_k is: summing per class first (exact for the
    integer values at full scale) makes it 0 there, where a plain sum leaves
    ±1e-19. Differences within 1e-9 relative count as 0: the half-scale
    image is flat only up to its resize's rounding."""
    pad = win.shape[-1] // 2
    x = F.pad(img, (pad, pad, pad, pad), mode='replicate')[0, 0]
    h, w = img.shape[-2:]
    c = img[0, 0]
    tol = 1e-9 * (1 + c.abs())
    S, Q, W = {}, {}, {}
    for i in range(-pad, pad + 1):
        for j in range(-pad, pad + 1):
            k = i * i + j * j
            if k == 0:
                continue
            v = x[pad + i:pad + i + h, pad + j:pad + j + w] - c
            v = torch.where(v.abs() <= tol, torch.zeros_like(v), v)
            S[k] = S.get(k, 0) + v
            Q[k] = Q.get(k, 0) + v * v
            W[k] = win[pad + i, pad + j]
    m1 = sum(W[k] * torch.where(S[k].abs() <= tol, torch.zeros_like(S[k]), S[k]) for k in sorted(S))
    m2 = sum(W[k] * Q[k] for k in sorted(Q))
    sigma = torch.sqrt((m2 - m1 * m1).abs())
    return (-m1 / (sigma + 1))[None, None]

GAM = torch.arange(0.2, 10 + 0.001, 0.001)  # float32 as pyiqa builds it
def aggd(block, gam):
    r = (2 * torch.lgamma(2 / gam) - (torch.lgamma(1 / gam) + torch.lgamma(3 / gam))).exp()
    l = block[block < 0]; rr = block[block > 0]
    ls = torch.sqrt((l ** 2).sum() / l.numel()); rs = torch.sqrt((rr ** 2).sum() / rr.numel())
    gh = ls / rs
    rhat = block.abs().mean() ** 2 / (block ** 2).mean()
    rn = rhat * (gh ** 3 + 1) * (gh + 1) / (gh ** 2 + 1) ** 2
    a = gam[(r - rn).abs().argmin()]
    f = (torch.lgamma(1 / a) - torch.lgamma(3 / a)).exp().sqrt()
    return a, ls * f, rs * f

def feats(block, gam):
    a, bl, br = aggd(block, gam)
    out = [a, (bl + br) / 2]
    for sh in [(0, 1), (1, 0), (1, 1), (1, -1)]:
        p = block * torch.roll(block, sh, dims=(0, 1))
        a, bl, br = aggd(p, gam)
        m = (br - bl) * (torch.lgamma(2 / a) - torch.lgamma(1 / a)).exp()
        out += [a, m, bl, br]
    return torch.stack([torch.as_tensor(v, dtype=torch.float64) for v in out])

def cubic(x):
    ax = x.abs(); ax2 = ax * ax; ax3 = ax2 * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))

def resize_half(x, dtype):
    # MATLAB imresize(x, 0.5), bicubic, antialias, symmetric padding; rows then columns
    x = x.to(dtype)
    for dim in (0, 1):
        n = x.shape[dim]; out = math.ceil(n * 0.5); s = 0.5
        i = torch.arange(out, dtype=dtype)
        u = (i + 0.5) / s - 0.5
        left = torch.floor(u) - 4
        idx = left[:, None] + torch.arange(10, dtype=dtype)[None]
        w = s * cubic((u[:, None] - idx) * s)
        w = w / w.sum(1, keepdim=True)
        idx = idx.long()
        idx = torch.where(idx < 0, -idx - 1, idx)
        idx = torch.where(idx >= n, 2 * n - 1 - idx, idx)
        if dim == 0:
            x = (x[idx] * w[:, :, None]).sum(1)
        else:
            x = (x[:, idx] * w[None]).sum(2)
    return x.double()

def niqe(y, f32resize, f32win, exact=False):
    h, w = y.shape
    bh, bw = h // 96, w // 96
    y = y[:bh * 96, :bw * 96]
    win = gauss2d(7, 7 / 6, f32win)
    gam = GAM.double() if f32win else torch.arange(0.2, 10.001, 0.001, dtype=torch.float64)
    allf = []
    for scale in (1, 2):
        n = (mscn_exact if exact else mscn)(y[None, None], win)[0, 0]
        bs = 96 // scale
        fs = [feats(n[i * bs:(i + 1) * bs, j * bs:(j + 1) * bs], gam) for i in range(bh) for j in range(bw)]
        allf.append(torch.stack(fs))
        if scale == 1:
            y = resize_half(y / 255, torch.float32 if f32resize else torch.float64) * 255
    d = torch.cat(allf, 1)
    mu = torch.nanmean(d, 0)
    ok = ~torch.isnan(d).any(1)
    c = torch.cov(d[ok].T)
    inv = torch.linalg.pinv((COV + c) / 2)
    diff = MU - mu
    return float(torch.sqrt(diff @ inv @ diff))

def ychannel(path, basicsr):
    a = np.asarray(Image.open(path).convert('RGB'))
    if basicsr:
        y = (65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255 + 16
        return torch.from_numpy(np.round(y))
    t = torch.from_numpy(a.copy()).float() / 255
    y = (t[..., 0] * 0.299 + t[..., 1] * 0.587 + t[..., 2] * 0.114) * 255
    return torch.round(y).double()

if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    for p in args:
        print(p, '%.7f' % niqe(ychannel(p, '--basicsr' in sys.argv), '--f32resize' in sys.argv, '--f32win' in sys.argv, '--exact' in sys.argv))
