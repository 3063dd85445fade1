"""Full-size stand-ins for the learned metrics' networks, with seeded RANDOM
weights: the layer shapes and operations of the networks pyiqa runs (LPIPS
AlexNet/VGG16, MUSIQ, MANIQA's ViT-B/8 + TAB + Swin, CLIP RN50), so that
timing, memory and the Go + ONNX plumbing can be measured at real sizes
where no checkpoint can be downloaded. Their scores mean nothing.

Written from the papers' and packages' published architecture descriptions;
where a stand-in departs from pyiqa's network it says so next to the code
(such departures change the cost by a few per cent at most).

Each stand-in takes exactly what the Go metric feeds the exported graph:
  lpips-alex, lpips-vgg  img0, img1: N×3×H×W in [-1, 1]  → distance [N]
  maniqa-koniq           image: 20×3×224×224, (x−0.5)/0.5 → score, weight [20, 784]
  musiq-koniq            tokens: 1×S×3075                 → score [1]
  clipiqa                image: 1×3×H×W, CLIP mean/std   → score [1]
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'models', 'export'))
from lpips_arch import LPIPS  # noqa: E402  (the same module the exporter uses)


# --- MUSIQ (Ke et al. 2021; pyiqa's MUSIQ with KonIQ's single output) -------

def same_pad(x, k, s):
    """TensorFlow 'SAME' zero padding for a k×k window at stride s."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


class StdConv(nn.Conv2d):
    """Weight-standardised convolution with SAME padding."""
    def forward(self, x):
        w = self.weight - self.weight.mean((1, 2, 3), keepdim=True)
        w = w / (w.std((1, 2, 3), keepdim=True) + 1e-5)
        return F.conv2d(same_pad(x, self.kernel_size[0], self.stride[0]), w, self.bias, self.stride)


class MusiqBottleneck(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.c1, self.g1 = StdConv(cin, cin, 1, bias=False), nn.GroupNorm(32, cin, eps=1e-4)
        self.c2, self.g2 = StdConv(cin, cin, 3, bias=False), nn.GroupNorm(32, cin, eps=1e-4)
        self.c3, self.g3 = StdConv(cin, cout, 1, bias=False), nn.GroupNorm(32, cout, eps=1e-4)
        self.proj, self.gp = StdConv(cin, cout, 1, bias=False), nn.GroupNorm(32, cout, eps=1e-4)

    def forward(self, x):
        idt = self.gp(self.proj(x))
        x = F.relu(self.g1(self.c1(x)))
        x = F.relu(self.g2(self.c2(x)))
        return F.relu(self.g3(self.c3(x)) + idt)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block with a key mask (masked logits → −1e3)."""
    def __init__(self, dim, heads, mlp, eps=1e-6):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(dim, eps=eps), nn.LayerNorm(dim, eps=eps)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, mlp), nn.Linear(mlp, dim)
        self.heads = heads

    def attend(self, x, mask=None):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5
        if mask is not None:
            m2 = mask.reshape(b, 1, n, 1) * mask.reshape(b, 1, 1, n)
            a = a.masked_fill(m2 == 0, -1e3)
        return self.out((a.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c))

    def forward(self, x, mask=None):
        x = x + self.attend(self.n1(x), mask)
        return x + self.fc2(F.gelu(self.fc1(self.n2(x))))


class Musiq(nn.Module):
    def __init__(self, hidden=384, layers=14, heads=6, mlp=1152, grid=10, scales=3):
        super().__init__()
        self.root = StdConv(3, 64, 7, 2, bias=False)
        self.gn = nn.GroupNorm(32, 64, eps=1e-6)
        self.block = MusiqBottleneck(64, 256)
        self.embed = nn.Linear(256 * 8 * 8, hidden)
        self.pos = nn.Parameter(torch.randn(grid * grid, hidden) * 0.02)
        self.scale = nn.Parameter(torch.randn(scales, hidden) * 0.02)
        self.cls = nn.Parameter(torch.randn(1, 1, hidden) * 0.02)
        self.blocks = nn.ModuleList([EncoderBlock(hidden, heads, mlp) for _ in range(layers)])
        self.norm = nn.LayerNorm(hidden, eps=1e-6)
        self.head = nn.Linear(hidden, 1)

    def forward(self, tokens):
        b, s, _ = tokens.shape
        pos, sid, mask = tokens[..., -3].long(), tokens[..., -2].long(), tokens[..., -1]
        x = tokens[..., :-3].reshape(-1, 3, 32, 32)
        x = F.relu(self.gn(self.root(x)))
        x = F.max_pool2d(same_pad(x, 3, 2), 3, 2)
        x = self.block(x).permute(0, 2, 3, 1).reshape(b, s, -1)  # TF's channel order
        x = self.embed(x) + self.pos[pos] + self.scale[sid]
        x = torch.cat([self.cls.expand(b, -1, -1), x], dim=1)
        mask = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)  # the cls token
        for blk in self.blocks:
            x = blk(x, mask)
        return self.head(self.norm(x)[:, 0]).view(-1)


# --- MANIQA (Yang et al. 2022; pyiqa's MANIQA) -------------------------------

class TABlock(nn.Module):
    """Transposed attention over channels: tokens of length n = 28² each."""
    def __init__(self, n):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(n, n), nn.Linear(n, n), nn.Linear(n, n)
        self.scale = n ** -0.5

    def forward(self, x):  # b, c, n
        b, c, n = x.shape
        a = (self.q(x) @ self.k(x).transpose(-2, -1) * self.scale).softmax(-1)
        return (a @ self.v(x)).transpose(1, 2).reshape(b, c, n) + x


class WindowBlock(nn.Module):
    """Swin block: attention inside 4×4 windows, shifted by 2 every other
    block. (Stand-in: the shifted windows' attention mask is left out.)"""
    def __init__(self, dim, heads, mlp, res, window, shift):
        super().__init__()
        self.blk = EncoderBlock(dim, heads, mlp, eps=1e-5)
        self.res, self.w, self.shift = res, window, shift

    def forward(self, x):  # b, h·w, c
        b, n, c = x.shape
        h, w, ws = self.res, self.res, self.w
        y = self.blk.n1(x).view(b, h, w, c)
        if self.shift:
            y = torch.roll(y, (-self.shift, -self.shift), (1, 2))
        y = y.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, c)
        y = self.blk.attend(y).view(b, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)
        if self.shift:
            y = torch.roll(y, (self.shift, self.shift), (1, 2))
        x = x + y.reshape(b, n, c)
        return x + self.blk.fc2(F.gelu(self.blk.fc1(self.blk.n2(x))))


class Swin(nn.Module):
    """Two stages of two window blocks, each stage closed by a 3×3 conv and
    a residual, on a 28×28 grid."""
    def __init__(self, dim, heads=4, mlp=768, res=28, window=4):
        super().__init__()
        self.stages = nn.ModuleList([nn.ModuleList([WindowBlock(dim, heads, mlp, res, window, s) for s in (0, window // 2)])
                                     for _ in range(2)])
        self.convs = nn.ModuleList([nn.Conv2d(dim, dim, 3, 1, 1) for _ in range(2)])
        self.res = res

    def forward(self, x):  # b, c, h, w
        b, c, h, w = x.shape
        for blocks, conv in zip(self.stages, self.convs):
            y = x.flatten(2).transpose(1, 2)
            for blk in blocks:
                y = blk(y)
            x = conv(y.transpose(1, 2).reshape(b, c, h, w)) + x
        return x


class ViTB8(nn.Module):
    """ViT-B/8 at 224² (timm's vit_base_patch8_224 layout): 784 patches + cls,
    12 blocks of 768. MANIQA uses the outputs of blocks 6–9, so the stand-in
    stops after block 9 (pyiqa's timm forward also runs blocks 10–11 and the
    head, whose results it discards: about 17% more ViT work in eager)."""
    def __init__(self, dim=768, depth=10, heads=12):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 8, 8)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, 785, dim) * 0.02)
        self.blocks = nn.ModuleList([EncoderBlock(dim, heads, 4 * dim) for _ in range(depth)])

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        taps = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i >= 6:
                taps.append(x[:, 1:])
        return torch.cat(taps, dim=2)  # b, 784, 3072


class Maniqa(nn.Module):
    def __init__(self, embed=768, size=28):
        super().__init__()
        self.vit = ViTB8()
        self.tab1 = nn.ModuleList([TABlock(size * size) for _ in range(2)])
        self.conv1 = nn.Conv2d(embed * 4, embed, 1)
        self.swin1 = Swin(embed)
        self.tab2 = nn.ModuleList([TABlock(size * size) for _ in range(2)])
        self.conv2 = nn.Conv2d(embed, embed // 2, 1)
        self.swin2 = Swin(embed // 2)
        d = embed // 2
        self.score = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 1), nn.ReLU())
        self.weight = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 1), nn.Sigmoid())
        self.size = size

    def forward(self, image):
        s = self.size
        f = self.vit(image).transpose(1, 2)  # b, 3072, 784
        for t in self.tab1:
            f = t(f)
        f = self.swin1(self.conv1(f.reshape(f.shape[0], -1, s, s)))
        f = f.flatten(2)
        for t in self.tab2:
            f = t(f)
        f = self.swin2(self.conv2(f.reshape(f.shape[0], -1, s, s)))
        f = f.flatten(2).transpose(1, 2)  # b, 784, 384
        # softplus on the score (MANIQA: ReLU) so that random weights give
        # graded scores; the weights' branch is MANIQA's.
        return F.softplus(self.score[:3](f)).flatten(1), self.weight(f).flatten(1)


# --- CLIP RN50 image tower, as CLIPIQA runs it (Radford et al. 2021) ----------

class ClipBottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.c2, self.b2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False), nn.BatchNorm2d(planes)
        self.pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.c3, self.b3 = nn.Conv2d(planes, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4)
        self.down = None
        if stride > 1 or cin != planes * 4:
            self.down = nn.Sequential(nn.AvgPool2d(stride) if stride > 1 else nn.Identity(),
                                      nn.Conv2d(cin, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = F.relu(self.b1(self.c1(x)))
        out = F.relu(self.b2(self.c2(out)))
        out = self.b3(self.c3(self.pool(out)))
        return F.relu(out + (self.down(x) if self.down is not None else x))


class ClipIQA(nn.Module):
    """ModifiedResNet RN50 (3-conv stem, anti-aliased strides, attention
    pooling without the positional embedding, so any size), then
    mean over 5 prompt pairs of softmax(100·cos)[positive]."""
    def __init__(self, layers=(3, 4, 6, 3), width=64, out_dim=1024, heads=32):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width // 2, 3, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(),
            nn.Conv2d(width // 2, width // 2, 3, 1, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(),
            nn.Conv2d(width // 2, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(), nn.AvgPool2d(2))
        blocks, cin = [], width
        for i, n in enumerate(layers):
            planes = width * 2 ** i
            for j in range(n):
                blocks.append(ClipBottleneck(cin, planes, 2 if (j == 0 and i > 0) else 1))
                cin = planes * 4
        self.blocks = nn.Sequential(*blocks)
        self.q, self.k, self.v = nn.Linear(cin, cin), nn.Linear(cin, cin), nn.Linear(cin, cin)
        self.proj = nn.Linear(cin, out_dim)
        self.heads = heads
        self.register_buffer('text', F.normalize(torch.randn(10, out_dim), dim=-1))
        # random BatchNorm statistics, so that eval mode is not an identity
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)

    def forward(self, image):
        x = self.blocks(self.stem(image))
        n, c = x.shape[:2]
        x = x.flatten(2).transpose(1, 2)  # n, hw, c
        x = torch.cat([x.mean(1, keepdim=True), x], dim=1)
        hd = c // self.heads
        q = self.q(x[:, :1]).view(n, 1, self.heads, hd).transpose(1, 2)
        k = self.k(x).view(n, -1, self.heads, hd).transpose(1, 2)
        v = self.v(x).view(n, -1, self.heads, hd).transpose(1, 2)
        a = (q @ k.transpose(-2, -1) * hd ** -0.5).softmax(-1)
        f = self.proj((a @ v).transpose(1, 2).reshape(n, c))
        f = F.normalize(f, dim=-1)
        logits = 100 * f @ self.text.t()
        return logits.view(n, 5, 2).softmax(-1)[..., 0].mean(-1)


def build(name, seed=0):
    """The stand-in for metric model NAME, its weights drawn from seed."""
    torch.manual_seed(seed)
    if name == 'lpips-alex':
        net = LPIPS('alex')
    elif name == 'lpips-vgg':
        net = LPIPS('vgg')
    elif name == 'musiq-koniq':
        net = Musiq()
    elif name == 'maniqa-koniq':
        net = Maniqa()
    elif name == 'clipiqa':
        net = ClipIQA()
    else:
        raise ValueError(name)
    if name.startswith('lpips'):
        # the LPIPS linear heads are non-negative in the real checkpoints
        with torch.no_grad():
            for lin in net.lins:
                lin.weight.abs_()
    return net.eval()


NAMES = ['lpips-alex', 'lpips-vgg', 'maniqa-koniq', 'musiq-koniq', 'clipiqa']
