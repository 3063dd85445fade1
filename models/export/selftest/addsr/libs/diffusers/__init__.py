"""A stand-in for the two diffusers classes AddSR's exporter uses (NOT
diffusers): AutoencoderKL's encode/decode call conventions over
standin.py's VAE, and DDPMScheduler's config and ᾱ."""
import json, os
from types import SimpleNamespace

import torch

import standin_path


class AutoencoderKL(torch.nn.Module):
    def __init__(self):
        super().__init__()
        mods = standin_path.modules()[0]
        self.encoder, self.decoder = mods['vae_encoder'], mods['vae_decoder']
        self.config = SimpleNamespace(scaling_factor=0.18215)

    @classmethod
    def from_pretrained(cls, path, subfolder=None, **kw):
        return cls()

    def encode(self, x):
        mean, logvar = self.encoder(x)
        return SimpleNamespace(latent_dist=SimpleNamespace(mean=mean, logvar=torch.clamp(logvar, -30.0, 20.0)))

    def decode(self, z, return_dict=True):
        return (self.decoder(z),)


class DDPMScheduler:
    def __init__(self, config):
        self.config = config
        betas = torch.linspace(config['beta_start'] ** 0.5, config['beta_end'] ** 0.5, config['num_train_timesteps'], dtype=torch.float32) ** 2
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)

    @classmethod
    def from_pretrained(cls, path, subfolder=None):
        with open(os.path.join(path, subfolder or '', 'scheduler_config.json')) as f:
            return cls(json.load(f))
