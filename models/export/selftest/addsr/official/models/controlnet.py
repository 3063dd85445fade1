"""Stand-in for AddSR's models/controlnet.py ControlNetModel (NOT AddSR):
standin.py's ControlNet behind the official forward's keywords and its
return_dict=False tuple (down residuals, mid, repre, feature_map)."""
import torch

import standin_path


class ControlNetModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.m = standin_path.modules()[0]['controlnet']

    @classmethod
    def from_pretrained(cls, path, subfolder=None, low_cpu_mem_usage=True, **kw):
        return cls()

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale=1.0, class_labels=None,
                timestep_cond=None, attention_mask=None, added_cond_kwargs=None, cross_attention_kwargs=None, align=False,
                guess_mode=False, return_dict=True, image_encoder_hidden_states=None, vae_encode_condition_hidden_states=None):
        res = self.m(sample, timestep, encoder_hidden_states, controlnet_cond, image_encoder_hidden_states)
        res = [r * conditioning_scale for r in res]
        return (res[:12], res[12], None, None)
