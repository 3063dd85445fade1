"""Stand-in for SeeSR/AddSR's ram/models/ram_lora.py (NOT RAM): the
attributes the exporter reads — visual_encoder, image_proj, label_embed,
wordvec_proj, tagging_head(mode='tagging'), fc, class_threshold, tag_list —
over standin.py's tiny tagger, and ram()'s signature."""
import numpy as np
import torch
import torch.nn as nn

import standin_path


class VisualEncoder(nn.Module):
    def __init__(self, r):
        super().__init__()
        self.patch, self.norm = r.patch, r.norm

    def forward(self, image):
        tok = self.patch(image).flatten(2).transpose(1, 2)
        return self.norm(torch.cat([tok.mean(1, keepdim=True), tok], dim=1))


class TaggingHead(nn.Module):
    def __init__(self, r):
        super().__init__()
        self.k, self.v = r.k, r.v

    def forward(self, encoder_embeds, encoder_hidden_states, encoder_attention_mask, return_dict=False, mode='tagging'):
        assert mode == 'tagging' and not return_dict
        a = torch.softmax(encoder_embeds @ self.k(encoder_hidden_states).transpose(1, 2) / 4, dim=-1)
        return (a @ self.v(encoder_hidden_states),)


class RAMLora(nn.Module):
    def __init__(self):
        super().__init__()
        mods, _, _, thresholds = standin_path.modules()
        r = mods['ram']
        self.visual_encoder, self.image_proj = VisualEncoder(r), r.image_proj
        self.label_embed = r.label_embed
        self.wordvec_proj = nn.Identity()
        self.tagging_head = TaggingHead(r)
        self.fc = nn.Sequential(r.fc, Scale(4))
        self.tag_list = np.array(standin_path.standin.TAGS)
        self.class_threshold = torch.tensor(thresholds, dtype=torch.float32)

    def generate_image_embeds(self, image):
        return self.image_proj(self.visual_encoder(image))


class Scale(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.s = s

    def forward(self, x):
        return x * self.s


def ram(pretrained='', pretrained_condition='', **kwargs):
    assert kwargs.get('vit') == 'swin_l' and kwargs.get('image_size') == 384, kwargs
    return RAMLora()
