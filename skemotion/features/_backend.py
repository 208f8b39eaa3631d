"""Array plumbing shared by the functional core: numpy <-> torch, dtypes, frequency bands.

The spectral functions compute with torch (multi-threaded FFTs, CPU or GPU) and accept numpy
arrays or torch tensors: numpy comes in as a zero-copy tensor and goes back out as numpy, a tensor
stays a tensor on its device. float32 stays float32; every other real dtype computes in float64.
"""

from __future__ import annotations

import math
import warnings
from numbers import Real

import numpy as np

DEFAULT_BANDS = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 14.0),
    "beta": (14.0, 31.0),
    "gamma": (31.0, 50.0),
}

TWO_PI_E = 2.0 * math.pi * math.e


def is_torch(X) -> bool:
    """Whether ``X`` is a torch tensor (without importing torch for numpy inputs)."""
    return type(X).__module__.startswith("torch")


def float_dtype(X):
    """numpy dtype the computation runs in: float32 for float32 input, float64 otherwise."""
    dt = X.dtype
    if is_torch(X):
        import torch

        return np.float32 if dt == torch.float32 else np.float64
    return np.float32 if dt == np.float32 else np.float64


def as_numpy_float(X, name: str = "X") -> np.ndarray:
    """Return X as a real float32/float64 numpy array (no copy when already one)."""
    if is_torch(X):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if np.iscomplexobj(X) or not (
        np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)
    ):
        raise TypeError(f"{name} must be a real numeric array; got dtype {X.dtype}.")
    dt = np.float32 if X.dtype == np.float32 else np.float64
    return X.astype(dt, copy=False)


def to_torch(X):
    """Return ``(tensor, was_numpy)``: a float tensor viewing X's memory where possible."""
    import torch

    if is_torch(X):
        if X.is_complex() or X.dtype == torch.bool:
            raise TypeError(f"X must be a real numeric tensor; got dtype {X.dtype}.")
        if X.dtype not in (torch.float32, torch.float64):
            X = X.to(torch.float64)
        return X, False
    X = as_numpy_float(X)
    with warnings.catch_warnings():  # read-only arrays are fine: nothing writes into X
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(X), True


def from_torch(T, was_numpy: bool):
    """Return T as numpy when the input was numpy, else as it is."""
    return T.detach().cpu().numpy() if was_numpy else T


def check_bands(bands, name: str = "bands") -> tuple[list[str], np.ndarray]:
    """Validate frequency bands and return ``(names, edges)`` with edges of shape (n_bands, 2).

    ``bands`` is None (the default five bands), a dict ``{name: (low, high)}`` or a sequence of
    ``(low, high)`` pairs (named ``"low-high"``). Each band needs ``0 <= low < high``.
    """
    if bands is None:
        bands = DEFAULT_BANDS
    if isinstance(bands, dict):
        names = [str(k) for k in bands]
        pairs = list(bands.values())
    else:
        try:
            pairs = [tuple(b) for b in bands]
        except TypeError as exc:
            raise ValueError(
                f"{name} must be a dict {{name: (low, high)}} or a sequence of (low, high) "
                f"pairs in Hz; got {bands!r}."
            ) from exc
        names = [f"{_fmt(lo)}-{_fmt(hi)}" for lo, hi in pairs]
    if len(pairs) == 0:
        raise ValueError(f"{name} must hold at least one band; got {bands!r}.")
    edges = []
    for nm, pair in zip(names, pairs):
        pair = tuple(pair)
        if (
            len(pair) != 2
            or not all(isinstance(v, Real) and not isinstance(v, bool) for v in pair)
            or not all(np.isfinite(v) for v in pair)
            or not 0 <= pair[0] < pair[1]
        ):
            raise ValueError(
                f"{name}: band {nm!r} must be a pair (low, high) of frequencies in Hz with "
                f"0 <= low < high; got {pair!r}."
            )
        edges.append((float(pair[0]), float(pair[1])))
    return names, np.asarray(edges, dtype=np.float64)


def _fmt(v) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else str(v)


def band_bin_ranges(n_times: int, sfreq: float, edges: np.ndarray) -> list[tuple[int, int]]:
    """Index range ``[k0, k1)`` of the one-sided FFT bins of each band.

    A band ``(low, high)`` holds the bins with ``low <= f < high`` and never the DC bin (band
    variances are variances about the mean); a band whose ``high`` reaches the Nyquist frequency
    also holds the Nyquist bin. A band above the Nyquist frequency, or too narrow for the
    frequency resolution, holds no bin (``k0 == k1``).
    """
    n_freqs = n_times // 2 + 1
    df = sfreq / n_times
    nyq = sfreq / 2.0
    out = []
    for lo, hi in edges:
        k0 = max(1, math.ceil(lo / df - 1e-9))
        k1 = n_freqs if hi >= nyq else math.ceil(hi / df - 1e-9)
        k0 = min(k0, n_freqs)
        out.append((k0, max(k0, min(k1, n_freqs))))
    return out
