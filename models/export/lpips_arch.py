"""LPIPS v0.1 (Zhang et al. 2018) as a single module that takes both images
and returns the distance: the graph addsr-bench's `lpips` metric runs.

The structure follows the `lpips` package: a scaling layer, the five ReLU
taps of AlexNet (or VGG16) features, unit-normalised channels, squared
differences weighted by 1×1 convolutions, spatial means, summed. `width`
shrinks every channel count, for test fixtures only.
"""
import torch
import torch.nn as nn

SHIFT = [-.030, -.088, -.188]
SCALE = [.458, .448, .450]


def alex_slices(w=1.0):
    c = [int(64 * w), int(192 * w), int(384 * w), int(256 * w), int(256 * w)]
    s = [nn.Sequential(nn.Conv2d(3, c[0], 11, 4, 2), nn.ReLU()),
         nn.Sequential(nn.MaxPool2d(3, 2), nn.Conv2d(c[0], c[1], 5, 1, 2), nn.ReLU()),
         nn.Sequential(nn.MaxPool2d(3, 2), nn.Conv2d(c[1], c[2], 3, 1, 1), nn.ReLU()),
         nn.Sequential(nn.Conv2d(c[2], c[3], 3, 1, 1), nn.ReLU()),
         nn.Sequential(nn.Conv2d(c[3], c[4], 3, 1, 1), nn.ReLU())]
    return nn.ModuleList(s), c


def vgg_slices(w=1.0):
    ch = [int(64 * w), int(128 * w), int(256 * w), int(512 * w), int(512 * w)]
    def block(cin, cout, n, pool):
        layers = [nn.MaxPool2d(2, 2)] if pool else []
        for i in range(n):
            layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, 1, 1), nn.ReLU()]
        return nn.Sequential(*layers)
    s = [block(3, ch[0], 2, False), block(ch[0], ch[1], 2, True), block(ch[1], ch[2], 3, True),
         block(ch[2], ch[3], 3, True), block(ch[3], ch[4], 3, True)]
    return nn.ModuleList(s), ch


class LPIPS(nn.Module):
    def __init__(self, net='alex', width=1.0):
        super().__init__()
        self.slices, chans = alex_slices(width) if net == 'alex' else vgg_slices(width)
        self.lins = nn.ModuleList([nn.Conv2d(c, 1, 1, 1, 0, bias=False) for c in chans])
        self.register_buffer('shift', torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer('scale', torch.tensor(SCALE).view(1, 3, 1, 1))

    def forward(self, img0, img1):
        """img0, img1: N×3×H×W in [-1, 1]. Returns N distances."""
        x, y = (img0 - self.shift) / self.scale, (img1 - self.shift) / self.scale
        total = 0
        for s, lin in zip(self.slices, self.lins):
            x, y = s(x), s(y)
            nx = x / (torch.sqrt(torch.sum(x * x, dim=1, keepdim=True)) + 1e-10)
            ny = y / (torch.sqrt(torch.sum(y * y, dim=1, keepdim=True)) + 1e-10)
            total = total + lin((nx - ny) ** 2).mean(dim=(2, 3))
        return total.view(-1)
