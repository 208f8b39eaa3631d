"""Augmentations: batched signal transformations (the SSL-ECG pretext transforms) and the
ESC-GAN resampler."""

from ._ecg import (
    ECG_TRANSFORMS,
    add_noise_snr,
    make_pretext_batch,
    negate,
    permute_segments,
    scale,
    time_reverse,
    time_warp,
)
from ._escgan import ESCGANSampler

__all__ = [
    "ECG_TRANSFORMS",
    "ESCGANSampler",
    "add_noise_snr",
    "make_pretext_batch",
    "negate",
    "permute_segments",
    "scale",
    "time_reverse",
    "time_warp",
]
