"""pyiqa's LPIPS layout: net.sliceK (torchvision features, split as
PerceptualSimilarity does), linK.model = [Dropout, 1×1 Conv2d], v0.1's
scaling layer; forward(in1, in0) with inputs in [0, 1]."""
import torch
import torch.nn as nn
from torchvision import models

SPLITS = {'alex': [0, 2, 5, 8, 10, 12], 'vgg': [0, 4, 9, 16, 23, 30]}
CHANNELS = {'alex': [64, 192, 384, 256, 256], 'vgg': [64, 128, 256, 512, 512]}


class Trunk(nn.Module):
    def __init__(self, kind):
        super().__init__()
        feats = (models.alexnet if kind == 'alex' else models.vgg16)(weights=None).features
        s = SPLITS[kind]
        for k in range(5):
            seq = nn.Sequential()
            for i in range(s[k], s[k + 1]):
                seq.add_module(str(i), feats[i])
            setattr(self, f'slice{k + 1}', seq)

    def forward(self, x):
        outs = []
        for k in range(1, 6):
            x = getattr(self, f'slice{k}')(x)
            outs.append(x)
        return outs


class NetLinLayer(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(cin, 1, 1, bias=False))
        with torch.no_grad():
            self.model[1].weight.abs_()  # non-negative, as in the checkpoints

    def forward(self, x):
        return self.model(x)


class LPIPS(nn.Module):
    def __init__(self, net='alex'):
        super().__init__()
        self.net = Trunk(net)
        for k, c in enumerate(CHANNELS[net]):
            setattr(self, f'lin{k}', NetLinLayer(c))
        self.register_buffer('shift', torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1))
        self.register_buffer('scale', torch.tensor([.458, .448, .450]).view(1, 3, 1, 1))

    def forward(self, in1, in0):
        a = self.net(((2 * in0 - 1) - self.shift) / self.scale)
        b = self.net(((2 * in1 - 1) - self.shift) / self.scale)
        val = 0
        for k, (f0, f1) in enumerate(zip(a, b)):
            f0 = f0 / (f0.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            f1 = f1 / (f1.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            val = val + getattr(self, f'lin{k}')((f0 - f1) ** 2).mean([2, 3], keepdim=True)
        return val.squeeze(-1).squeeze(-1)
