"""pyiqa's preprocessing for MANIQA, MUSIQ and CLIPIQA written with
torch.nn.functional: the independent reference the Go preprocessing is
tested against (make_fixtures.py, make_musiq.py) and the torch side of
bench/learned/peer_torch_metrics.py. Tensors are N×3×H×W in [0, 1].
"""
import math

import torch
import torch.nn.functional as F

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def maniqa_input(x):
    """(x−0.5)/0.5, then the 20 uniform 224² crops."""
    return uniform_crop((x - 0.5) / 0.5, 224, 20)


def uniform_crop(x, crop_size, crop_num):
    """pyiqa's uniform crops: short side ≤ crop_size → bilinear by
    (crop_size+1)/short (the scale factor given to F.interpolate); then
    crops on a ⌈√n⌉² grid at steps (H−crop)//⌊√n⌋, (W−crop)//⌊√n⌋, the
    first crop_num in row-major order, image by image (N·crop_num crops)."""
    n, c, h, w = x.shape
    if min(h, w) <= crop_size:
        x = F.interpolate(x, scale_factor=(crop_size + 1) / min(h, w), mode='bilinear', align_corners=False)
        h, w = x.shape[-2:]
    k, g = int(math.sqrt(crop_num)), math.ceil(math.sqrt(crop_num))
    sh, sw = (h - crop_size) // k, (w - crop_size) // k
    crops = [x[..., i * sh:i * sh + crop_size, j * sw:j * sw + crop_size] for i in range(g) for j in range(g)]
    return torch.stack(crops[:crop_num], dim=1).reshape(n * crop_num, c, crop_size, crop_size)


def clip_input(x):
    """CLIP's mean and std."""
    mean = torch.tensor(CLIP_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def musiq_patches(img, scale_id, max_seq=None):
    """32² patches, stride 32, TF-SAME zero padding (F.unfold order), then
    the hashed position (10×10 grid by nearest interpolation), the scale id
    and the mask; padded or cut to max_seq tokens."""
    n, c, h, w = img.shape
    ch, cw = math.ceil(h / 32), math.ceil(w / 32)
    pr, pc = (ch - 1) * 32 + 32 - h, (cw - 1) * 32 + 32 - w
    x = F.pad(img, (pc // 2, pc - pc // 2, pr // 2, pr - pr // 2))
    p = F.unfold(x, 32, stride=32)                                  # n, 3072, L
    g = torch.arange(10, device=img.device).float().reshape(1, 1, 10)
    hw = F.interpolate(g, size=cw, mode='nearest').repeat(1, ch, 1)
    hh = F.interpolate(g, size=ch, mode='nearest').transpose(1, 2).repeat(1, 1, cw)
    pos = (hh * 10 + hw).reshape(1, 1, -1)
    out = torch.cat([p, pos, torch.full_like(pos, scale_id), torch.ones_like(pos)], dim=1)
    if max_seq is not None:
        out = torch.cat([out, torch.zeros(n, out.shape[1], max_seq, device=img.device)], dim=-1)[..., :max_seq]
    return out


def musiq_input(x):
    """(x−0.5)·2, then musiq_tokens."""
    return musiq_tokens((x - 0.5) * 2)


def musiq_tokens(x):
    """pyiqa's get_multiscale_patches on an image already in [-1, 1]: bicubic
    resizes to longer sides 224 and 384 (Python-rounded sizes) cut or padded
    to 49 and 144 tokens, then the native patches: N × seq × 3075."""
    h, w = x.shape[-2:]
    outs = []
    for sid, L in enumerate([224, 384]):
        r = L / max(h, w)
        rs = F.interpolate(x, (round(h * r), round(w * r)), mode='bicubic', align_corners=False)
        outs.append(musiq_patches(rs, sid, int(math.ceil(L / 32) ** 2)))
    outs.append(musiq_patches(x, 2))
    return torch.cat(outs, dim=-1).transpose(1, 2)
