"""Expected outputs of MATLAB's imresize(bicubic) from an independent numpy
implementation: dense weight matrices over a symmetrically padded signal
(np.pad mode='symmetric'), rather than the Go code's mirrored tap indices.

Run: /usr/bin/python3 internal/imresize/testdata/make_reference.py
"""
import json, math, os
import numpy as np

def cubic(x):
    ax = np.abs(x)
    return np.where(ax <= 1, 1.5 * ax**3 - 2.5 * ax**2 + 1,
                    np.where(ax <= 2, -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2, 0.0))

def matrix(n_in, n_out, scale, antialias=True):
    kw = 4.0 / scale if (scale < 1 and antialias) else 4.0
    pad = int(math.ceil(kw)) + 2
    M = np.zeros((n_out, n_in + 2 * pad))
    for i in range(n_out):
        u = (i + 1) / scale + 0.5 * (1 - 1 / scale)          # 1-based centre
        for j in range(-pad, n_in + pad):                    # 0-based input index
            d = u - (j + 1)
            w = scale * cubic(d * scale) if (scale < 1 and antialias) else cubic(d)
            if abs(d) <= kw / 2 + 1:
                M[i, j + pad] += w
        M[i] /= M[i].sum()
    return M, pad

def resize(x, out_h, out_w, sh, sw):
    Mh, ph = matrix(x.shape[0], out_h, sh)
    Mw, pw = matrix(x.shape[1], out_w, sw)
    xp = np.pad(x, ((ph, ph), (0, 0)), mode='symmetric')
    y = Mh @ xp                                   # rows first (MATLAB order on ties)
    yp = np.pad(y, ((0, 0), (pw, pw)), mode='symmetric')
    return yp @ Mw.T

rng = np.random.default_rng(7)
x = rng.uniform(0, 1, (11, 13))
cases = []
for s in (0.25, 0.5, 0.75, 2.0, 4.0):
    oh, ow = math.ceil(11 * s), math.ceil(13 * s)
    cases.append({'scale': s, 'out_w': ow, 'out_h': oh, 'pix': resize(x, oh, ow, s, s).ravel().tolist()})
here = os.path.dirname(os.path.abspath(__file__))
json.dump({'w': 13, 'h': 11, 'pix': x.ravel().tolist(), 'cases': cases}, open(os.path.join(here, 'reference.json'), 'w'))
