"""pyiqa's MUSIQ layout, small: conv_root, gn_root, root_pool, block1,
embedding, transformer_encoder(x, spatial positions, scale positions, masks),
head (one output for KonIQ), data_preprocess_opts, patch_size; forward maps
[0, 1] to [-1, 1], builds the tokens with get_multiscale_patches and returns
dist_to_mos of the head."""
import torch
import torch.nn as nn

from ._blocks import EncoderBlock, MusiqBottleneck, StdConv, same_pad
from ..data.multiscale_trans_util import get_multiscale_patches


class SamePad(nn.Module):
    def forward(self, x):
        return same_pad(x, 3, 2)


class TransformerEncoder(nn.Module):
    def __init__(self, hidden, layers, heads, mlp, grid=10, scales=3):
        super().__init__()
        self.posembed_input = nn.Parameter(torch.randn(grid * grid, hidden) * 0.02)
        self.scaleembed_input = nn.Parameter(torch.randn(scales, hidden) * 0.02)
        self.cls = nn.Parameter(torch.randn(1, 1, hidden) * 0.02)
        self.blocks = nn.ModuleList([EncoderBlock(hidden, heads, mlp) for _ in range(layers)])
        self.encoder_norm = nn.LayerNorm(hidden, eps=1e-6)

    def forward(self, x, spatial, scale, mask):
        x = x + self.posembed_input[spatial.long()] + self.scaleembed_input[scale.long()]
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)
        mask = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1).float()
        for blk in self.blocks:
            x = blk(x, mask)
        return self.encoder_norm(x)


class MUSIQ(nn.Module):
    def __init__(self, patch_size=32, hidden=64, layers=2, heads=2, mlp=128):
        super().__init__()
        self.patch_size = patch_size
        self.data_preprocess_opts = {'patch_size': patch_size, 'patch_stride': patch_size, 'hse_grid_size': 10,
                                     'longer_side_lengths': [224, 384], 'max_seq_len_from_original_res': -1}
        self.conv_root = StdConv(3, 64, 7, 2, bias=False)
        self.gn_root = nn.GroupNorm(32, 64, eps=1e-6)
        self.root_pool = nn.Sequential(nn.ReLU(True), SamePad(), nn.MaxPool2d(3, 2))
        self.block1 = MusiqBottleneck(64, 256)
        self.embedding = nn.Linear(256 * (patch_size // 4) ** 2, hidden)
        self.transformer_encoder = TransformerEncoder(hidden, layers, heads, mlp)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        x = get_multiscale_patches((x - 0.5) * 2, **self.data_preprocess_opts)
        b, seq_len, _ = x.shape
        pos, scale, mask = x[:, :, -3], x[:, :, -2], x[:, :, -1].bool()
        x = x[:, :, :-3].reshape(-1, 3, self.patch_size, self.patch_size)
        x = self.block1(self.root_pool(self.gn_root(self.conv_root(x))))
        x = x.permute(0, 2, 3, 1).reshape(b, seq_len, -1)
        x = self.transformer_encoder(self.embedding(x), pos, scale, mask)
        q = self.head(x[:, 0])
        return (q * torch.arange(1, q.shape[-1] + 1).to(q)).sum(dim=-1, keepdim=True)  # dist_to_mos
