"""A stand-in for pyiqa, for testing models/export/*.py where pyiqa and its
checkpoints cannot be installed. NOT pyiqa: small networks with seeded random
weights, laid out under the attribute names and call conventions of pyiqa's
own modules (read from IQA-PyTorch's source: archs/lpips_arch.py,
maniqa_arch.py, musiq_arch.py, clipiqa_arch.py, clip_model.py and
data/multiscale_trans_util.py), so that an exporter that reaches into pyiqa
the wrong way fails here as it would for a user. Preprocessing is
metrics/testdata/nr/pyiqa_torch.py (torch.nn.functional), independent of
the Go code that `addsr-bench models verify` then checks against it.

Only the surface the exporters touch exists: create_metric(name) for lpips,
lpips-vgg, maniqa, maniqa-pipal, musiq and clipiqa; metric.net; metric(dist[,
ref]) on tensors or image paths; pyiqa.archs.maniqa_arch.uniform_crop /
random_crop; pyiqa.data.multiscale_trans_util.get_multiscale_patches.
"""
import zlib

import numpy as np
import torch
from PIL import Image

__version__ = '0.0+selftest-standin'


def _load(x):
    """pyiqa's imread2tensor: RGB in [0, 1], 1×3×H×W."""
    if isinstance(x, str):
        a = np.asarray(Image.open(x).convert('RGB'), dtype=np.float32) / 255
        return torch.from_numpy(a).permute(2, 0, 1)[None].contiguous()
    return x


class InferenceModel(torch.nn.Module):
    def __init__(self, name, net, full_reference):
        super().__init__()
        self.metric_name, self.net, self.full_reference = name, net.eval(), full_reference

    @torch.no_grad()
    def forward(self, target, ref=None):
        if self.full_reference:
            return self.net(_load(target), _load(ref))
        return self.net(_load(target))


def create_metric(name, device='cpu', as_loss=False, **kw):
    from .archs import clipiqa_arch, lpips_arch, maniqa_arch, musiq_arch
    torch.manual_seed(zlib.crc32(name.encode()))
    if name in ('lpips', 'lpips-vgg'):
        net, fr = lpips_arch.LPIPS(net='alex' if name == 'lpips' else 'vgg'), True
    elif name in ('maniqa', 'maniqa-pipal'):
        net, fr = maniqa_arch.MANIQA(train_dataset='koniq' if name == 'maniqa' else 'pipal'), False
    elif name == 'musiq':
        net, fr = musiq_arch.MUSIQ(), False
    elif name == 'clipiqa':
        net, fr = clipiqa_arch.CLIPIQA(), False
    else:
        raise NotImplementedError(f'the pyiqa stand-in has no {name!r}')
    return InferenceModel(name, net, fr).to(device)
