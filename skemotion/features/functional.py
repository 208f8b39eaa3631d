"""Functional forms of the feature transformers: pure, batched functions, arrays in and out.

numpy arrays and (for the FFT-based functions) torch tensors on any device are accepted; the
transformers of :mod:`skemotion.features` are thin shells around these functions.
"""

from ._backend import DEFAULT_BANDS
from ._emg import emg_contamination, make_emg_noise, snr_db_from_exp_snr
from ._filtering import bandpass_filter, notch_filter, remove_baseline
from ._grid import electrode_grid, electrode_positions_2d, grid_weights
from ._spectral import band_power, band_variance, differential_entropy, stft_spectrogram

__all__ = [
    "DEFAULT_BANDS",
    "band_power",
    "band_variance",
    "bandpass_filter",
    "differential_entropy",
    "electrode_grid",
    "electrode_positions_2d",
    "emg_contamination",
    "grid_weights",
    "make_emg_noise",
    "notch_filter",
    "remove_baseline",
    "snr_db_from_exp_snr",
    "stft_spectrogram",
]
