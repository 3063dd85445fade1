"""Expected values for PILBicubic: random 8-bit RGB images resized with
Pillow's Image.resize(..., Image.BICUBIC) (Debian python3-pil 9.4.0).

    /usr/bin/python3 internal/imresize/testdata/pil/make_pil.py
"""
import hashlib, json, os
import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
# (w, h) → (ow, oh): AddSR's ×4 upscale, the cut to a multiple of 8, the
# short side to 128, a reduction, and one side only.
cases = [((13, 7), (52, 28)), ((31, 20), (124, 80)), ((125, 34), (120, 32)),
         ((100, 60), (213, 128)), ((40, 52), (17, 11)), ((24, 24), (24, 97)), ((50, 9), (7, 9))]
out = []
for i, ((w, h), (ow, oh)) in enumerate(cases):
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if i % 2:  # smooth content too, where the kernel's rounding shows
        a = np.cumsum(a.astype(np.int64), axis=1) % 256
        a = a.astype(np.uint8)
    src = f'in{i}.png'
    Image.fromarray(a).save(os.path.join(here, src))
    r = np.asarray(Image.fromarray(a).resize((ow, oh), Image.BICUBIC))
    planes = b''.join(np.ascontiguousarray(r[:, :, c]).tobytes() for c in range(3))
    out.append({'in': src, 'w': ow, 'h': oh, 'sha256': hashlib.sha256(planes).hexdigest()})
with open(os.path.join(here, 'expected.json'), 'w') as f:
    json.dump({'pillow': Image.__version__, 'cases': out}, f, indent=1)
