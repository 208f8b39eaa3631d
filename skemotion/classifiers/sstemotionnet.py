"""SST-EmotionNet as a scikit-learn classifier on raw EEG windows."""

from __future__ import annotations

import numpy as np

from ..features.functional import differential_entropy, grid_weights

__all__: list[str] = []


# --- stream preparation: pure, batched functions ------------------------------------------


def _segment_matrix(n_times: int, n_segments: int) -> np.ndarray:
    """Area-averaging resampling matrix ``(n_times, n_segments)``.

    Column ``k`` averages the piecewise-constant signal (sample ``t`` held over ``[t, t+1)``)
    over ``[k * T / d, (k + 1) * T / d)``: whole blocks of ``T / d`` samples when ``d``
    divides ``T``, fractional samples at the edges otherwise (and plain upsampling by
    repetition when ``T < d``). Every column sums to 1.
    """
    edges = np.arange(n_segments + 1) * (n_times / n_segments)
    t = np.arange(n_times)[:, None]
    overlap = np.minimum(t + 1, edges[None, 1:]) - np.maximum(t, edges[None, :-1])
    return np.clip(overlap, 0.0, None) * (n_segments / n_times)


def _segment_means(X: np.ndarray, n_segments: int) -> np.ndarray:
    """``(n, C, T)`` -> ``(n, C, n_segments)``: the mean of each of ``n_segments`` equal parts."""
    M = _segment_matrix(X.shape[-1], n_segments).astype(X.dtype)
    return X @ M


def _band_de(X: np.ndarray, sfreq: float, bands) -> np.ndarray:
    """Differential entropy per band ``(n, C, n_bands)`` (:func:`differential_entropy`)."""
    return differential_entropy(X, sfreq, bands)


def _to_maps(values: np.ndarray, weights: np.ndarray, grid_shape) -> np.ndarray:
    """Per-channel values ``(n, C, F)`` to electrode maps ``(n, 1, H, W, F)``.

    ``weights`` ``(H * W, C)`` is the linear channel-to-pixel map of :func:`grid_weights`
    (interpolation included), applied to the whole batch with one matrix product.
    """
    h, w = grid_shape
    W = weights.astype(values.dtype, copy=False)
    maps = np.matmul(W, values)  # (n, H*W, F)
    return maps.reshape(values.shape[0], 1, h, w, values.shape[-1])


def _map_weights(ch_names, grid_size: int, interpolation: str):
    """Pixel weights ``(H * W, C)`` and ``(H, W)`` of the interpolated electrode map."""
    return grid_weights(list(ch_names), f"{grid_size}x{grid_size}", interpolation)
