"""pyiqa's CLIPIQA layout, small: clip_model is a one-element list (so its
weights stay out of the state dict) holding a CLIP with encode_image(image,
pos_embedding), encode_text(tokens), logit_scale and forward(image, text,
pos_embedding) → logits per image; prompt_pairs are the tokenized five
positive/negative pairs; forward normalises with CLIP's mean and std and
returns the mean over pairs of softmax(logits)[positive]."""
import math

import torch
import torch.nn as nn

from ._blocks import pyiqa_torch

PROMPTS = ['Good image', 'bad image', 'Sharp image', 'blurry image', 'sharp edges', 'blurry edges',
           'High resolution image', 'low resolution image', 'Noise-free image', 'noisy image']


def tokenize(texts, context=77, vocab=1000):
    """Stands in for clip.tokenize: start token, one id per byte, end token
    (the largest id, found by argmax as CLIP does), zero padding."""
    out = torch.zeros(len(texts), context, dtype=torch.long)
    for i, t in enumerate(texts):
        ids = [vocab - 2] + [1 + b % (vocab - 3) for b in t.encode()] + [vocab - 1]
        out[i, :len(ids)] = torch.tensor(ids)
    return out


class Visual(nn.Module):
    def __init__(self, width=16, out=32):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 2, 1)
        self.body = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), nn.Conv2d(width, 2 * width, 3, 2, 1), nn.ReLU())
        self.attn = nn.MultiheadAttention(2 * width, 2, batch_first=True)
        self.pos = nn.Parameter(torch.randn(50, 2 * width) * 0.02)
        self.proj = nn.Linear(2 * width, out)

    def forward(self, x, pos_embedding=False):
        x = self.body(self.conv1(x)).flatten(2).transpose(1, 2)
        x = torch.cat([x.mean(1, keepdim=True), x], dim=1)
        if pos_embedding:  # CLIP's fixed-size embedding: only at 7×7 (+1) tokens
            x = x + self.pos[:x.shape[1]]
        return self.proj(self.attn(x[:, :1], x, x, need_weights=False)[0][:, 0])


class CLIP(nn.Module):
    def __init__(self, dim=32, vocab=1000, context=77):
        super().__init__()
        self.visual = Visual(out=dim)
        self.token_embedding = nn.Embedding(vocab, dim)
        self.positional_embedding = nn.Parameter(torch.randn(context, dim) * 0.01)
        self.ln_final = nn.LayerNorm(dim)
        self.text_projection = nn.Parameter(torch.randn(dim, dim) * dim ** -0.5)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(100.0)))

    @property
    def dtype(self):
        return self.visual.conv1.weight.dtype

    def encode_image(self, image, pos_embedding):
        return self.visual(image.type(self.dtype), pos_embedding=pos_embedding)

    def encode_text(self, text):
        x = self.ln_final(self.token_embedding(text) + self.positional_embedding)
        return x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection

    def forward(self, image, text, pos_embedding=False, text_features=None):
        im = self.encode_image(image, pos_embedding)
        tx = self.encode_text(text) if text_features is None else text_features
        im = im / im.norm(dim=-1, keepdim=True)
        tx = tx / tx.norm(dim=-1, keepdim=True)
        logits = self.logit_scale.exp() * im @ tx.t()
        return logits, logits.t()


class CLIPIQA(nn.Module):
    def __init__(self, model_type='clipiqa', pos_embedding=False):
        super().__init__()
        self.clip_model = [CLIP().eval()]
        self.prompt_pairs = tokenize(PROMPTS)
        self.model_type, self.pos_embedding = model_type, pos_embedding
        self.default_mean = torch.tensor(pyiqa_torch.CLIP_MEAN).view(1, 3, 1, 1)
        self.default_std = torch.tensor(pyiqa_torch.CLIP_STD).view(1, 3, 1, 1)

    def forward(self, x):
        x = (x - self.default_mean.to(x)) / self.default_std.to(x)
        clip_model = self.clip_model[0].to(x)
        logits, _ = clip_model(x, self.prompt_pairs.to(x.device), pos_embedding=self.pos_embedding)
        probs = logits.reshape(logits.shape[0], -1, 2).softmax(dim=-1)
        return probs[..., 0].mean(dim=1, keepdim=True)
