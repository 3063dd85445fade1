"""A stand-in for transformers.CLIPTextModel (NOT CLIP): standin.py's text
encoder behind CLIPTextModel's call (int64 ids → (hidden states,))."""
import torch

import standin_path


class CLIPTextModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.m = standin_path.modules()[0]['text_encoder']

    @classmethod
    def from_pretrained(cls, path, subfolder=None, **kw):
        return cls()

    def forward(self, input_ids, attention_mask=None):
        assert input_ids.dtype == torch.long
        return (self.m(input_ids),)
