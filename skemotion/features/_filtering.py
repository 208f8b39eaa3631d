"""Zero-phase filters and baseline removal, batched over every leading axis (scipy, numpy)."""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral, Real

import numpy as np
from scipy import signal

from ._backend import (
    as_numpy_float,
    check_finite_array,
    check_positive_finite,
    is_torch,
)

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
    """``scipy.signal.sosfiltfilt`` along the last axis, keeping X's float dtype.

    The odd padding has scipy's default length, shortened to ``n_times - 1`` for windows
    shorter than that (scipy itself refuses them). Every zero-phase IIR filter of the package
    (band-pass, notch, the ECG filters of HRV and SSL-ECG) goes through this function.
    """
    y = signal.sosfiltfilt(sos, X, axis=-1, padlen=_padlen(sos, X.shape[-1]))
    return y.astype(X.dtype, copy=False)


def resample_fraction(sfreq: float, target_sfreq, where: str, arg: str) -> Fraction:
    """Up/down factors ``p/q`` (``q <= 1000``) of a polyphase resampling to ``target_sfreq``.

    ``target_sfreq`` is checked as a sampling frequency; a rate that no ratio with a
    denominator up to 1000 reaches (within 1e-9 relative) is refused rather than approximated.
    """
    from .._validation import check_sfreq  # imports scikit-learn: at call time

    target = check_sfreq(where, target_sfreq, arg)
    ratio = Fraction(target / sfreq).limit_denominator(1000)
    if abs(float(ratio) * sfreq - target) > 1e-9 * target:
        raise ValueError(
            f"{where}: argument {arg}={target_sfreq!r} Hz is not reachable from {sfreq:g} Hz by "
            f"a ratio p/q with q <= 1000 (closest: {float(ratio) * sfreq:.6g} Hz); choose a rate "
            "with a simpler ratio."
        )
    return ratio


def check_filter_order(order, where: str, name: str = "order") -> int:
    """A filter order: an int >= 1 (not a bool)."""
    if isinstance(order, bool | np.bool_) or not isinstance(order, Integral) or order < 1:
        raise ValueError(f"{where}: argument {name} must be an int >= 1; got {order!r}.")
    return int(order)


def check_band_edges(l_freq, h_freq, sfreq: float, where: str) -> None:
    """Pass-band edges of :func:`bandpass_filter`: None or finite, ``0 <= l_freq < h_freq``,
    and ``l_freq`` below the Nyquist frequency (above it nothing would pass)."""
    if l_freq is not None:
        check_positive_finite(l_freq, "l_freq", where, allow_zero=True)
        if l_freq >= sfreq / 2:
            raise ValueError(
                f"{where}: argument l_freq ({l_freq} Hz) must be below the Nyquist frequency "
                f"({sfreq / 2:g} Hz at sfreq={sfreq:g}); nothing would pass the filter."
            )
    if h_freq is not None:
        check_positive_finite(h_freq, "h_freq", where)
    if l_freq is not None and h_freq is not None and l_freq >= h_freq:
        raise ValueError(f"{where}: argument l_freq ({l_freq}) must be below h_freq ({h_freq}).")


def check_notch_freqs(freqs, sfreq: float, where: str) -> np.ndarray:
    """Notch frequencies: one number or a non-empty sequence, each finite and strictly between
    0 and the Nyquist frequency; the same rule for a scalar and for every list element."""
    values = [freqs] if isinstance(freqs, Real) else freqs
    if isinstance(freqs, str) or not isinstance(values, list | tuple | np.ndarray):
        raise ValueError(
            f"{where}: argument freqs must be a number or a sequence of numbers (Hz); got "
            f"{freqs!r}."
        )
    values = list(np.ravel(values)) if isinstance(values, np.ndarray) else list(values)
    if not values:
        raise ValueError(f"{where}: argument freqs is empty; pass at least one frequency (Hz).")
    nyq = sfreq / 2
    for f0 in values:
        if (
            isinstance(f0, bool | np.bool_)
            or not isinstance(f0, Real)
            or not np.isfinite(f0)
            or not 0 < f0 < nyq
        ):
            raise ValueError(
                f"{where}: argument freqs must hold frequencies strictly between 0 and the "
                f"Nyquist frequency ({nyq:g} Hz at sfreq={sfreq:g}); got {f0!r} in {freqs!r}."
            )
    return np.asarray(values, dtype=float)


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
        Filtered signals, same dtype as X (float32 stays float32).

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
    from .._validation import check_sfreq  # imports scikit-learn: at call time

    where = "bandpass_filter"
    sfreq = check_sfreq(where, sfreq)
    check_band_edges(l_freq, h_freq, sfreq, where)
    order = check_filter_order(order, where)
    torch_in = is_torch(X)
    ref = X
    Xn = as_numpy_float(X, "X", where)
    sos = butter_sos(l_freq, h_freq, sfreq, order)
    out = Xn.copy() if isinstance(sos, str) else sosfiltfilt(sos, Xn)
    return _back(out, ref, torch_in)


def notch_filter(X, sfreq: float, freqs=50.0, *, quality: float = 30.0):
    """Zero-phase IIR notch filter(s) along the last axis (``scipy.signal.iirnotch``).

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (..., n_times)
    sfreq : float
        Sampling frequency in Hz.
    freqs : float or sequence of float, default=50.0
        Frequencies to remove (e.g. ``(50, 100)`` for mains and its harmonic), each strictly
        between 0 and the Nyquist frequency.
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
    from .._validation import check_sfreq  # imports scikit-learn: at call time

    where = "notch_filter"
    sfreq = check_sfreq(where, sfreq)
    freqs = check_notch_freqs(freqs, sfreq, where)
    quality = check_positive_finite(quality, "quality", where)
    torch_in = is_torch(X)
    ref = X
    out = as_numpy_float(X, "X", where)
    for f0 in freqs:
        b, a = signal.iirnotch(f0, quality, fs=sfreq)
        out = sosfiltfilt(signal.tf2sos(b, a), out)
    return _back(out, ref, torch_in)


def remove_baseline(X, baseline=None, *, method: str = "mean", segment: int | None = None):
    """Subtract a pre-trial baseline from signal windows (DEAP-style).

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (n_windows, n_channels, n_times)
        Signal windows.
    baseline : ndarray of shape (n_windows, n_channels, n_baseline_times) or \
(n_channels, n_baseline_times), default=None
        The baseline recording belonging to each window (e.g. the 3 s before the trial the
        window comes from), or one baseline shared by all windows; finite values only. None
        uses each window itself (plain per-channel demeaning).
    method : {"mean", "base_mean"}, default="mean"
        ``"mean"`` subtracts the per-channel mean of the baseline. ``"base_mean"`` cuts the
        baseline into segments of ``segment`` samples, averages them sample by sample and
        subtracts that average segment from every consecutive ``segment``-long piece of the
        window ("base mean" of Yang et al., 2018, the usual DEAP preprocessing: the mean of the
        three 1 s segments of the 3 s baseline, subtracted from every 1 s of the trial).
        Trailing baseline samples that do not fill a segment are dropped; a last, shorter
        piece of the window gets the start of the average segment.
    segment : int or None, default=None
        Segment length in samples for ``"base_mean"``; None means the window length
        ``n_times``. ``n_baseline_times`` must be at least ``segment``.

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
    >>> trial = np.arange(6.0).reshape(1, 1, 6)  # one 6-sample trial, 2-sample segments
    >>> remove_baseline(trial, np.array([[1.0, 2.0, 3.0, 4.0]]), method="base_mean", segment=2)
    array([[[-2., -2.,  0.,  0.,  2.,  2.]]])
    """
    torch_in = is_torch(X)
    out = subtract_baseline(
        as_numpy_float(X, "X", "remove_baseline"), baseline, method, segment, "remove_baseline"
    )
    return _back(out, X, torch_in)


def subtract_baseline(X: np.ndarray, baseline, method: str, segment, where: str) -> np.ndarray:
    """The one implementation of baseline removal (functions, transformers and loaders).

    ``X`` is a float (n_windows, n_channels, n_times) numpy array, never modified; ``baseline``
    is checked as X would be (real, finite) and against X's shape; errors name ``where``.
    """
    if method not in ("mean", "base_mean"):
        raise ValueError(f"{where}: argument method must be 'mean' or 'base_mean'; got {method!r}.")
    if X.ndim != 3:
        raise ValueError(
            f"{where}: argument X must be 3-D (n_windows, n_channels, n_times); got shape "
            f"{X.shape}."
        )
    if baseline is None:
        return X - X.mean(axis=-1, keepdims=True)
    B = check_finite_array(baseline, "baseline", where).astype(X.dtype, copy=False)
    if B.ndim == 2:
        B = B[np.newaxis]
    if B.ndim != 3 or B.shape[1] != X.shape[1] or B.shape[0] not in (1, X.shape[0]):
        raise ValueError(
            f"{where}: argument baseline must have shape (n_windows, n_channels, "
            f"n_baseline_times) = ({X.shape[0]}, {X.shape[1]}, ...) or (n_channels, "
            f"n_baseline_times) = ({X.shape[1]}, ...) for X of shape {X.shape}; got "
            f"{np.shape(baseline)}."
        )
    if method == "mean":
        return X - B.mean(axis=-1, keepdims=True)
    n_times = X.shape[-1]
    if segment is None:
        seg = n_times
    elif isinstance(segment, bool | np.bool_) or not isinstance(segment, Integral) or segment < 1:
        raise ValueError(f"{where}: argument segment must be an int >= 1 or None; got {segment!r}.")
    else:
        seg = int(segment)
    n_seg = B.shape[-1] // seg
    if n_seg < 1:
        raise ValueError(
            f"{where}: method='base_mean' needs a baseline at least one segment long ({seg} "
            f"samples); got a baseline of {B.shape[-1]} samples."
        )
    template = B[..., : n_seg * seg].reshape(*B.shape[:-1], n_seg, seg).mean(axis=-2)
    if seg != n_times:  # repeat the average segment over the window
        template = np.tile(template, -(-n_times // seg))[..., :n_times]
    return X - template


def _back(out: np.ndarray, ref, torch_in: bool):
    if torch_in:
        import torch

        return torch.as_tensor(out, device=ref.device)
    return out
