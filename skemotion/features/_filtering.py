"""Zero-phase filters and baseline removal, batched over every leading axis (scipy, numpy)."""

from __future__ import annotations

import numpy as np
from scipy import signal

from ._backend import as_numpy_float, is_torch

__all__ = ["bandpass_filter", "notch_filter", "remove_baseline"]


def butter_sos(l_freq, h_freq, sfreq: float, order: int):
    """Butterworth second-order sections for a band, or ``"all"`` / ``None``.

    ``l_freq`` None or <= 0 gives a low-pass, ``h_freq`` None or >= Nyquist a high-pass.
    Returns ``"all"`` when the band covers the whole spectrum (no filtering) and ``None`` when it
    lies at or above the Nyquist frequency (nothing passes).
    """
    nyq = sfreq / 2.0
    low = l_freq is not None and l_freq > 0
    high = h_freq is not None and h_freq < nyq
    if low and l_freq >= nyq:
        return None
    if low and high:
        return signal.butter(order, [l_freq, h_freq], btype="bandpass", fs=sfreq, output="sos")
    if low:
        return signal.butter(order, l_freq, btype="highpass", fs=sfreq, output="sos")
    if high:
        return signal.butter(order, h_freq, btype="lowpass", fs=sfreq, output="sos")
    return "all"


def _padlen(sos: np.ndarray, n_times: int) -> int:
    # scipy's default for sosfiltfilt, shortened so that very short windows still filter
    n_zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return max(0, min(3 * (2 * len(sos) + 1 - n_zeros), n_times - 1))


def sosfiltfilt(sos: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``scipy.signal.sosfiltfilt`` along the last axis, keeping X's float dtype."""
    y = signal.sosfiltfilt(sos, X, axis=-1, padlen=_padlen(sos, X.shape[-1]))
    return y.astype(X.dtype, copy=False)


def bandpass_filter(X, sfreq: float, l_freq=1.0, h_freq=50.0, *, order: int = 4):
    """Zero-phase Butterworth band-pass (or low/high-pass) filter along the last axis.

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (..., n_times)
        Signals; every leading axis is filtered at once (no Python loop).
    sfreq : float
        Sampling frequency in Hz.
    l_freq, h_freq : float or None
        Pass band edges in Hz. ``l_freq=None`` (or 0) gives a low-pass filter, ``h_freq=None``
        (or >= Nyquist) a high-pass filter; both None returns a copy of X.
    order : int, default=4
        Butterworth order of the designed filter (the effective order doubles: forward and
        backward passes).

    Returns
    -------
    ndarray or torch.Tensor of shape (..., n_times)
        Filtered signals, same dtype as X (float32 stays float32). A band starting at or
        above the Nyquist frequency passes nothing and returns zeros.

    Notes
    -----
    ``scipy.signal.sosfiltfilt`` with odd padding of scipy's default length, shortened to
    ``n_times - 1`` for windows shorter than that.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import bandpass_filter
    >>> X = np.random.default_rng(0).standard_normal((2, 3, 400)).astype(np.float32)
    >>> bandpass_filter(X, 200.0, 4.0, 8.0).shape
    (2, 3, 400)
    """
    torch_in = is_torch(X)
    ref = X
    Xn = as_numpy_float(X)
    sos = butter_sos(l_freq, h_freq, float(sfreq), order)
    if sos is None:
        out = np.zeros_like(Xn)
    elif isinstance(sos, str):
        out = Xn.copy()
    else:
        out = sosfiltfilt(sos, Xn)
    return _back(out, ref, torch_in)


def notch_filter(X, sfreq: float, freqs=50.0, *, quality: float = 30.0):
    """Zero-phase IIR notch filter(s) along the last axis (``scipy.signal.iirnotch``).

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (..., n_times)
    sfreq : float
        Sampling frequency in Hz.
    freqs : float or sequence of float, default=50.0
        Frequencies to remove (e.g. ``(50, 100)`` for mains and its harmonic). Frequencies at
        or above the Nyquist frequency are skipped.
    quality : float, default=30.0
        Quality factor of each notch (bandwidth = freq / quality).

    Returns
    -------
    ndarray or torch.Tensor of shape (..., n_times)
        Filtered signals, same dtype as X.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import notch_filter
    >>> t = np.arange(1000) / 250.0
    >>> x = np.sin(2 * np.pi * 50 * t)[None, None]
    >>> float(np.abs(notch_filter(x, 250.0, 50.0)[..., 200:-200]).max()) < 0.05
    True
    """
    torch_in = is_torch(X)
    ref = X
    Xn = as_numpy_float(X)
    out = Xn
    for f0 in np.atleast_1d(np.asarray(freqs, dtype=float)):
        if not 0 < f0 < sfreq / 2.0:
            continue
        b, a = signal.iirnotch(f0, quality, fs=sfreq)
        out = sosfiltfilt(signal.tf2sos(b, a), out)
    if out is Xn:
        out = Xn.copy()
    return _back(out, ref, torch_in)


def remove_baseline(X, baseline=None, *, method: str = "mean"):
    """Subtract a pre-trial baseline from signal windows (DEAP-style).

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (n_windows, n_channels, n_times)
        Signal windows.
    baseline : ndarray of shape (n_windows, n_channels, n_baseline_times) or \
(n_channels, n_baseline_times), default=None
        The baseline recording belonging to each window (e.g. the 3 s before the trial the
        window comes from), or one baseline shared by all windows. None uses each window
        itself (plain per-channel demeaning).
    method : {"mean", "base_mean"}, default="mean"
        ``"mean"`` subtracts the per-channel mean of the baseline. ``"base_mean"`` cuts the
        baseline into segments as long as the window, averages them sample by sample and
        subtracts that average segment ("base mean" of Yang et al., 2018, the usual DEAP
        preprocessing: three 1 s segments of the 3 s baseline); ``n_baseline_times`` must be
        at least ``n_times`` (trailing samples that do not fill a segment are dropped).

    Returns
    -------
    ndarray or torch.Tensor of shape (n_windows, n_channels, n_times)
        X minus its baseline, same dtype as X.

    References
    ----------
    Yang, Wu, Qiu, Wang, Chen. "Continuous convolutional neural network with 3D input for
    EEG-based emotion recognition", ICONIP 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import remove_baseline
    >>> X = np.ones((4, 2, 128))
    >>> base = np.full((4, 2, 384), 0.25)
    >>> remove_baseline(X, base, method="base_mean")[0, 0, :3]
    array([0.75, 0.75, 0.75])
    """
    if method not in ("mean", "base_mean"):
        raise ValueError(f"method must be 'mean' or 'base_mean'; got {method!r}.")
    torch_in = is_torch(X)
    ref = X
    Xn = as_numpy_float(X)
    if baseline is None:
        return _back(Xn - Xn.mean(axis=-1, keepdims=True), ref, torch_in)
    B = as_numpy_float(baseline, "baseline").astype(Xn.dtype, copy=False)
    if B.ndim == Xn.ndim - 1:
        B = B[np.newaxis]
    if B.ndim != Xn.ndim or B.shape[-2] != Xn.shape[-2] or B.shape[0] not in (1, Xn.shape[0]):
        raise ValueError(
            "baseline must have shape (n_windows, n_channels, n_baseline_times) or "
            f"(n_channels, n_baseline_times) matching X of shape {Xn.shape}; got {B.shape}."
        )
    if method == "mean":
        return _back(Xn - B.mean(axis=-1, keepdims=True), ref, torch_in)
    n_times = Xn.shape[-1]
    n_seg = B.shape[-1] // n_times
    if n_seg < 1:
        raise ValueError(
            f"method='base_mean' needs a baseline at least as long as the windows ({n_times} "
            f"samples); got {B.shape[-1]} samples."
        )
    segs = B[..., : n_seg * n_times].reshape(*B.shape[:-1], n_seg, n_times)
    return _back(Xn - segs.mean(axis=-2), ref, torch_in)


def _back(out: np.ndarray, ref, torch_in: bool):
    if torch_in:
        import torch

        return torch.as_tensor(out, device=ref.device)
    return out
