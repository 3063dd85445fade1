"""get_multiscale_patches with pyiqa's signature, on an image already in
[-1, 1] (pyiqa_torch.musiq_tokens: resizes to longer sides 224 and 384 cut
or padded to 49 and 144 tokens, then every native-resolution patch)."""
from ..archs._blocks import pyiqa_torch


def get_multiscale_patches(image, patch_size=32, patch_stride=32, hse_grid_size=10,
                           longer_side_lengths=(224, 384), max_seq_len_from_original_res=-1):
    assert (patch_size, patch_stride, hse_grid_size, list(longer_side_lengths), max_seq_len_from_original_res) == \
        (32, 32, 10, [224, 384], -1), 'the stand-in covers MUSIQ-KonIQ\'s options only'
    return pyiqa_torch.musiq_tokens(image)
