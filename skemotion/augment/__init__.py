"""Augmentations: label-preserving EEG transforms for training deep classifiers on the device
(``augment=[...]``), batched signal transformations (the SSL-ECG pretext transforms) and the
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
from ._signal import (
    AmplitudeScale,
    BandNoise,
    BatchAugmentation,
    ChannelDropout,
    FrequencyShift,
    Mixup,
    TimeShift,
    amplitude_scale,
    band_limited_noise,
    channel_dropout,
    frequency_shift,
    mixup,
    time_shift,
)

__all__ = [
    "AmplitudeScale",
    "BandNoise",
    "BatchAugmentation",
    "ChannelDropout",
    "ECG_TRANSFORMS",
    "ESCGANSampler",
    "FrequencyShift",
    "Mixup",
    "TimeShift",
    "amplitude_scale",
    "band_limited_noise",
    "channel_dropout",
    "frequency_shift",
    "mixup",
    "time_shift",
    "add_noise_snr",
    "make_pretext_batch",
    "negate",
    "permute_segments",
    "scale",
    "time_reverse",
    "time_warp",
]
