"""pyiqa's MANIQA layout, small: vit (blocks hooked into save_output),
extract_feature (blocks 6–9 without cls), tablock1/conv1/swintransformer1,
tablock2/conv2/swintransformer2, fc_score/fc_weight; forward normalises with
mean = std = 0.5, then crops with this module's uniform_crop (eval) or
random_crop (training), looked up at call time as pyiqa's are."""
import numpy as np
import torch
import torch.nn as nn

from ._blocks import EncoderBlock, Swin, TABlock, pyiqa_torch


def random_crop(x, crop_size, crop_num):
    b, c, h, w = x.shape
    out = []
    for _ in range(crop_num):
        sh, sw = np.random.randint(0, h - crop_size + 1), np.random.randint(0, w - crop_size + 1)
        out.append(x[..., sh:sh + crop_size, sw:sw + crop_size])
    return torch.stack(out, dim=1).reshape(b * crop_num, c, crop_size, crop_size)


# A module-level name, as in pyiqa, so that the exporter can replace it.
uniform_crop = pyiqa_torch.uniform_crop


class Block(EncoderBlock):
    pass


class ViT(nn.Module):
    def __init__(self, dim, depth=12, heads=2):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 8, 8)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, 785, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, 2 * dim) for _ in range(depth)])

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        return self.blocks(torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos)


class SaveOutput:
    def __init__(self):
        self.outputs = []

    def __call__(self, module, module_in, module_out):
        self.outputs.append(module_out)

    def clear(self):
        self.outputs = []


class MANIQA(nn.Module):
    def __init__(self, embed_dim=32, img_size=224, patch_size=8, test_sample=20, train_dataset='koniq'):
        super().__init__()
        self.img_size, self.patch_size, self.test_sample = img_size, patch_size, test_sample
        self.input_size = img_size // patch_size
        self.vit = ViT(embed_dim)
        self.save_output = SaveOutput()
        for m in self.vit.modules():
            if isinstance(m, Block):
                m.register_forward_hook(self.save_output)
        n = self.input_size ** 2
        self.tablock1 = nn.ModuleList([TABlock(n) for _ in range(2)])
        self.conv1 = nn.Conv2d(embed_dim * 4, embed_dim, 1)
        self.swintransformer1 = Swin(embed_dim, heads=2, mlp=2 * embed_dim, res=self.input_size)
        self.tablock2 = nn.ModuleList([TABlock(n) for _ in range(2)])
        self.conv2 = nn.Conv2d(embed_dim, embed_dim // 2, 1)
        self.swintransformer2 = Swin(embed_dim // 2, heads=2, mlp=embed_dim, res=self.input_size)
        d = embed_dim // 2
        self.fc_score = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(0.1), nn.Linear(d, 1), nn.ReLU())
        self.fc_weight = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(0.1), nn.Linear(d, 1), nn.Sigmoid())
        with torch.no_grad():
            self.fc_score[3].bias.fill_(0.5)  # graded, mostly positive scores from random weights
        self.register_buffer('default_mean', torch.full((1, 3, 1, 1), 0.5))
        self.register_buffer('default_std', torch.full((1, 3, 1, 1), 0.5))

    def extract_feature(self, save_output):
        return torch.cat([save_output.outputs[i][:, 1:] for i in (6, 7, 8, 9)], dim=2)

    def forward(self, x):
        x = (x - self.default_mean) / self.default_std
        bsz = x.shape[0]
        if self.training:
            x = random_crop(x, crop_size=224, crop_num=1)
        else:
            x = uniform_crop(x, crop_size=224, crop_num=self.test_sample)
        self.vit(x)
        x = self.extract_feature(self.save_output)
        self.save_output.outputs.clear()
        s = self.input_size
        x = x.transpose(1, 2)
        for tab in self.tablock1:
            x = tab(x)
        x = self.swintransformer1(self.conv1(x.reshape(x.shape[0], -1, s, s))).flatten(2)
        for tab in self.tablock2:
            x = tab(x)
        x = self.swintransformer2(self.conv2(x.reshape(x.shape[0], -1, s, s))).flatten(2).transpose(1, 2)
        score = self.fc_score(x).reshape(bsz, -1)
        weight = self.fc_weight(x).reshape(bsz, -1)
        return ((weight * score).sum(dim=-1) / (weight.sum(dim=-1) + 1e-8)).unsqueeze(1)
