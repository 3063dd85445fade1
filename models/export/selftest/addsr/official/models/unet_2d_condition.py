"""Stand-in for AddSR's models/unet_2d_condition.py UNet2DConditionModel
(NOT AddSR): standin.py's UNet behind the official forward's keywords."""
import torch

import standin_path


class UNet2DConditionModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.m = standin_path.modules()[0]['unet']

    @classmethod
    def from_pretrained(cls, path, subfolder=None, **kw):
        return cls()

    def forward(self, sample, timestep, encoder_hidden_states, class_labels=None, timestep_cond=None, attention_mask=None,
                cross_attention_kwargs=None, added_cond_kwargs=None, down_block_additional_residuals=None,
                mid_block_additional_residual=None, encoder_attention_mask=None, return_dict=True, image_encoder_hidden_states=None):
        return (self.m(sample, timestep, encoder_hidden_states, image_encoder_hidden_states,
                       *down_block_additional_residuals, mid_block_additional_residual),)
