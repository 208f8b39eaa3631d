"""Array plumbing shared by the functional core: numpy <-> torch, dtypes, frequency bands.

The spectral functions compute with torch (multi-threaded FFTs, CPU or GPU) and accept numpy
arrays or torch tensors: numpy comes in as a zero-copy tensor and goes back out as numpy, a tensor
stays a tensor on its device. float32 stays float32; every other real dtype computes in float64.

The argument checks of the functional core live here too. This module imports neither
scikit-learn nor torch at import time, so that ``skemotion.features.functional`` imports alone.
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


def as_numpy_float(X, name: str = "X", where: str | None = None) -> np.ndarray:
    """Return X as a real float32/float64 numpy array (no copy when already one)."""
    if is_torch(X):
        X = X.detach().cpu().numpy()
    try:
        X = np.asarray(X)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise ValueError(f"{_prefix(where)}argument {name} is not an array: {exc}") from exc
    if np.iscomplexobj(X) or not (
        np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)
    ):
        raise TypeError(
            f"{_prefix(where)}argument {name} must be a real numeric array; got dtype {X.dtype}."
        )
    dt = np.float32 if X.dtype == np.float32 else np.float64
    return X.astype(dt, copy=False)


def _prefix(where: str | None) -> str:
    return f"{where}: " if where else ""


def check_finite_array(value, name: str, where: str) -> np.ndarray:
    """An array argument other than X gets the checks X gets: the shared
    :func:`skemotion._validation.check_finite_array` (real numbers, finite), for the function or
    estimator named ``where``.

    Returns a float32 (for float32 input) or float64 numpy array; a torch tensor is copied to
    the CPU first. It imports scikit-learn when it runs, not at import time.
    """
    from .._validation import check_finite_array as _check

    if is_torch(value):
        value = value.detach().cpu().numpy()
    return _check(where, value, name, dtype=[np.float64, np.float32])


def check_positive_finite(value, name: str, where: str, *, allow_zero: bool = False) -> float:
    """A real number (not a bool) that is finite and > 0 (>= 0 with ``allow_zero``)."""
    ok = (
        isinstance(value, Real)
        and not isinstance(value, bool | np.bool_)
        and bool(np.isfinite(value))
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"{where}: argument {name} must be a finite number {bound}; got {value!r}."
        )
    return float(value)


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
    if any(stride < 0 for stride in X.strides):  # e.g. X[..., ::-1], sosfiltfilt's output
        X = X.copy()  # torch cannot view negative strides
    with warnings.catch_warnings():  # read-only arrays are fine: nothing writes into X
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(X), True


def from_torch(T, was_numpy: bool):
    """Return T as numpy when the input was numpy, else as it is."""
    return T.detach().cpu().numpy() if was_numpy else T


def check_bands(
    bands, where: str, name: str = "bands", sfreq: float | None = None
) -> tuple[list[str], np.ndarray]:
    """Validate frequency bands and return ``(names, edges)`` with edges of shape (n_bands, 2).

    ``bands`` is None (the default five bands), a dict ``{name: (low, high)}`` or a sequence of
    ``(low, high)`` pairs (named ``"low-high"``). Each band needs ``0 <= low < high``, finite;
    with ``sfreq``, also ``low`` below the Nyquist frequency (a band with no frequency below it
    would give a constant feature). Errors name ``where`` (the estimator or function) and the
    argument.
    """
    if bands is None:
        bands = DEFAULT_BANDS
    usage = (
        f"{where}: argument {name} must be a dict {{name: (low, high)}} or a sequence of "
        "(low, high) pairs in Hz"
    )
    if isinstance(bands, dict):
        names = [str(k) for k in bands]
        pairs = list(bands.values())
    else:
        if isinstance(bands, str):
            raise ValueError(f"{usage}; got {bands!r}.")
        try:
            pairs = [tuple(b) for b in bands]
        except TypeError as exc:
            raise ValueError(f"{usage}; got {bands!r}.") from exc
        names = [f"{_fmt(p[0])}-{_fmt(p[1])}" if _is_pair(p) else repr(p) for p in pairs]
    if len(pairs) == 0:
        raise ValueError(f"{where}: argument {name} must hold at least one band; got {bands!r}.")
    edges = []
    for nm, pair in zip(names, pairs):
        pair = tuple(pair) if isinstance(pair, tuple | list | np.ndarray) else (pair,)
        if not _is_pair(pair) or not 0 <= pair[0] < pair[1]:
            raise ValueError(
                f"{where}: argument {name}: band {nm!r} must be a pair (low, high) of finite "
                f"frequencies in Hz with 0 <= low < high; got {pair!r}."
            )
        if sfreq is not None and pair[0] >= sfreq / 2:
            raise ValueError(
                f"{where}: argument {name}: band {nm!r} ({_fmt(pair[0])}-{_fmt(pair[1])} Hz) "
                f"has no frequency below the Nyquist frequency {_fmt(sfreq / 2)} Hz of "
                f"sfreq={_fmt(sfreq)}: its feature would be constant."
            )
        edges.append((float(pair[0]), float(pair[1])))
    return names, np.asarray(edges, dtype=np.float64)


def _is_pair(pair) -> bool:
    return (
        isinstance(pair, tuple)
        and len(pair) == 2
        and all(isinstance(v, Real) and not isinstance(v, bool | np.bool_) for v in pair)
        and all(np.isfinite(v) for v in pair)
    )


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
