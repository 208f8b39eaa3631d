"""Augmentations: batched signal transformations (the SSL-ECG pretext transforms) and, to
come, resamplers."""

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

__all__ = [
    "ECG_TRANSFORMS",
    "add_noise_snr",
    "make_pretext_batch",
    "negate",
    "permute_segments",
    "scale",
    "time_reverse",
    "time_warp",
]
