"""Spectral features as batched pure functions: differential entropy, band power, STFT.

Every function works on ``(..., n_times)`` arrays (typically ``(n_windows, n_channels,
n_times)``) in one vectorised pass: one FFT call over the whole batch, then a handful of
reductions, one per frequency band. numpy in gives numpy out, a torch tensor (CPU or CUDA) gives
a tensor on the same device; float32 stays float32.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from scipy.signal import get_window

from ._backend import (
    TWO_PI_E,
    as_numpy_float,
    band_bin_ranges,
    check_bands,
    check_positive_finite,
    from_torch,
    is_torch,
    to_torch,
)
from ._filtering import butter_sos, check_filter_order, sosfiltfilt

__all__ = ["differential_entropy", "band_power", "stft_spectrogram", "band_variance"]


def _band_sumsq(Z, ranges, n_times: int, segments: bool = False):
    """Sum of |Z|^2 over each band's bins, one-sided -> two-sided, as one matrix product.

    ``Z`` is a freshly computed rfft of shape ``(..., n_freqs)``, or ``(..., n_segments,
    n_freqs)`` with ``segments=True`` (the sum then also runs over the segments); it is
    squared in place. Each bin counts twice (its negative-frequency mirror) except the Nyquist
    bin of an even length. Returns a real tensor of shape ``lead + (n_bands,)``.
    """
    import torch

    n_freqs = Z.shape[-1]
    n_segments = Z.shape[-2] if segments else 1
    lead = Z.shape[:-2] if segments else Z.shape[:-1]
    w = np.zeros((n_freqs, len(ranges)))
    for b, (k0, k1) in enumerate(ranges):
        w[k0:k1, b] = 2.0
        if n_times % 2 == 0 and k1 == n_freqs and k1 > k0 and n_times > 1:
            w[-1, b] = 1.0
    out_shape = (*lead, len(ranges))
    used = [r for r in ranges if r[1] > r[0]]
    if not used:
        return torch.zeros(out_shape, dtype=Z.real.dtype, device=Z.device)
    k_lo, k_hi = min(r[0] for r in used), max(r[1] for r in used)
    # view_as_real interleaves (re, im) per bin: repeat each weight twice. Only the bins of the
    # bands are squared (in place) and reduced, by one matrix product.
    w = np.repeat(w[k_lo:k_hi], 2, axis=0)
    R = torch.view_as_real(Z.contiguous()).reshape(-1, 2 * n_freqs)[:, 2 * k_lo : 2 * k_hi]
    R.square_()  # |Z|^2 = re^2 + im^2, summed by the matrix product below
    W = torch.as_tensor(w, dtype=R.dtype, device=R.device)
    out = torch.mm(R, W)
    if segments:
        out = out.reshape(-1, n_segments, len(ranges)).sum(dim=1)
    return out.reshape(out_shape)


def band_variance(X, sfreq: float, bands=None, *, method: str = "fft", filter_order: int = 4):
    """Variance of the band-limited signal per band, along the last axis.

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (..., n_times)
    sfreq : float
        Sampling frequency in Hz.
    bands : dict or sequence of (low, high), default=None
        Frequency bands in Hz; None means delta 1-4, theta 4-8, alpha 8-14, beta 14-31 and
        gamma 31-50 Hz.
    method : {"fft", "filter"}, default="fft"
        ``"fft"``: ideal band-pass in the frequency domain; by Parseval's theorem the variance
        is ``2 * sum_{k in band} |X_k|^2 / n_times^2`` over the one-sided FFT bins ``k`` with
        ``low <= f_k < high`` (the DC bin is never included; the Nyquist bin counts once and
        is included when ``high`` reaches Nyquist). ``"filter"``: ``np.var`` of the output of
        a zero-phase Butterworth band-pass of order ``filter_order``
        (``scipy.signal.sosfiltfilt``).
    filter_order : int, default=4
        Butterworth order for ``method="filter"``.

    Returns
    -------
    ndarray or torch.Tensor of shape (..., n_bands)
        Band variances, same dtype and kind (numpy/torch) as X. A band that holds no
        frequency bin (above Nyquist, or narrower than the resolution) has variance 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import band_variance
    >>> t = np.arange(256) / 128.0
    >>> band_variance(2.0 * np.sin(2 * np.pi * 10.0 * t), 128.0).round(3)  # all in alpha
    array([0., 0., 2., 0., 0.])
    """
    return _band_variance(X, sfreq, bands, method, filter_order, "band_variance")


def _band_variance(X, sfreq, bands, method, filter_order, where):
    from .._validation import check_sfreq, row_blocks  # imports scikit-learn: at call time

    sfreq = check_sfreq(where, sfreq)
    _, edges = check_bands(bands, where)
    if method not in ("fft", "filter"):
        raise ValueError(f"{where}: argument method must be 'fft' or 'filter'; got {method!r}.")
    if method == "filter":
        check_filter_order(filter_order, where, "filter_order")
    if method == "fft":
        if not is_torch(X) and np.ndim(X) >= 2 and np.size(X) > _FFT_BLOCK:
            # a large array (a memory-mapped cache included) in blocks of windows: the FFT of
            # the whole of it would be a complex copy as large as X
            parts = [_band_variance_fft(X[b], sfreq, edges) for b in row_blocks(X, _FFT_BLOCK)]
            return np.concatenate(parts)
        return _band_variance_fft(X, sfreq, edges)
    if method == "filter":
        torch_in = is_torch(X)
        ref = X
        Xn = as_numpy_float(X)
        var = np.zeros((*Xn.shape[:-1], len(edges)), dtype=Xn.dtype)
        for b, (lo, hi) in enumerate(edges):
            sos = butter_sos(lo, hi, sfreq, filter_order)
            if sos is None:
                continue
            y = Xn if isinstance(sos, str) else sosfiltfilt(sos, Xn)
            var[..., b] = y.var(axis=-1)
        if torch_in:
            import torch

            return torch.as_tensor(var, device=ref.device)
        return var


_FFT_BLOCK = 1 << 24  # values per block of the FFT of a large numpy X (64 MiB in float32)


def _band_variance_fft(X, sfreq, edges):
    import torch

    Xt, was_numpy = to_torch(X)
    n_times = Xt.shape[-1]
    if Xt.numel() == 0:
        return from_torch(Xt.new_zeros((*Xt.shape[:-1], len(edges))), was_numpy)
    Z = torch.fft.rfft(Xt, dim=-1)
    var = _band_sumsq(Z, band_bin_ranges(n_times, sfreq, edges), n_times)
    var /= float(n_times) ** 2
    return from_torch(var, was_numpy)


def differential_entropy(
    X, sfreq: float, bands=None, *, method: str = "fft", filter_order: int = 4
):
    """Differential entropy (DE) per band: ``0.5 * log(2 * pi * e * sigma^2)``.

    The closed form of the differential entropy of a Gaussian signal of variance ``sigma^2``,
    computed on the band-limited signal of each band (Duan, Zhu, Lu, 2013).

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (..., n_times)
        Signals, typically ``(n_windows, n_channels, n_times)``; all leading axes are
        computed at once. float32 stays float32, other dtypes compute in float64.
    sfreq : float
        Sampling frequency in Hz.
    bands : dict or sequence of (low, high), default=None
        Frequency bands in Hz; None means delta 1-4, theta 4-8, alpha 8-14, beta 14-31 and
        gamma 31-50 Hz.
    method : {"fft", "filter"}, default="fft"
        ``"filter"`` is the literature's definition: zero-phase Butterworth band-pass
        (``scipy.signal.sosfiltfilt``) then the sample variance. ``"fft"`` computes the variance
        of the ideally band-passed signal from the periodogram (Parseval), in one FFT; it is
        the fast path and runs on torch tensors (CPU or GPU). See :func:`band_variance`.
    filter_order : int, default=4
        Butterworth order for ``method="filter"``.

    Returns
    -------
    ndarray or torch.Tensor of shape (..., n_bands)
        DE values (natural log). Bands without power (a band above Nyquist, a flat signal)
        get the DE of the smallest positive normal number of the dtype (about -87 for float32,
        -708 for float64) instead of ``-inf``.

    References
    ----------
    Duan, Zhu, Lu. "Differential entropy feature for EEG-based emotion classification",
    IEEE/EMBS NER 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import differential_entropy
    >>> X = np.random.default_rng(0).standard_normal((8, 62, 400)).astype(np.float32)
    >>> de = differential_entropy(X, sfreq=200.0)
    >>> de.shape, de.dtype
    ((8, 62, 5), dtype('float32'))
    """
    var = _band_variance(X, sfreq, bands, method, filter_order, "differential_entropy")
    if is_torch(var):
        import torch

        tiny = torch.finfo(var.dtype).tiny
        return var.clamp_(min=tiny).mul_(TWO_PI_E).log_().mul_(0.5)
    tiny = np.finfo(var.dtype).tiny
    np.maximum(var, tiny, out=var)
    var *= TWO_PI_E
    np.log(var, out=var)
    var *= 0.5
    return var


def _psd_setup(n_times: int, method: str, n_per_seg, n_overlap, where: str):
    if method not in ("welch", "periodogram"):
        raise ValueError(
            f"{where}: argument method must be 'welch' or 'periodogram'; got {method!r}."
        )
    for name, value in (("n_per_seg", n_per_seg), ("n_overlap", n_overlap)):
        if value is not None and (
            isinstance(value, bool | np.bool_)
            or not isinstance(value, Integral)
            or value < (1 if name == "n_per_seg" else 0)
        ):
            low = 1 if name == "n_per_seg" else 0
            raise ValueError(
                f"{where}: argument {name} must be an int >= {low} or None; got {value!r}."
            )
    if method == "periodogram":
        return n_times, n_times, None
    nperseg = n_times if n_per_seg is None else min(int(n_per_seg), n_times)
    if n_overlap is not None and n_overlap >= nperseg:
        raise ValueError(
            f"{where}: argument n_overlap ({n_overlap}) must be smaller than the segment length "
            f"({nperseg} samples)."
        )
    noverlap = nperseg // 2 if n_overlap is None else int(n_overlap)
    return nperseg, nperseg - noverlap, get_window("hann", nperseg)


def band_power(
    X,
    sfreq: float,
    bands=None,
    *,
    method: str = "welch",
    n_per_seg: int | None = None,
    n_overlap: int | None = None,
    relative: bool = False,
    log: bool = False,
):
    """Band power: the power spectral density integrated over each band.

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (..., n_times)
    sfreq : float
        Sampling frequency in Hz.
    bands : dict or sequence of (low, high), default=None
        Frequency bands in Hz (default: the five classical bands, see
        :func:`differential_entropy`). A band holds the PSD bins with ``low <= f < high``
        (the Nyquist bin too when ``high`` reaches it; never the DC bin).
    method : {"welch", "periodogram"}, default="welch"
        PSD estimate, identical to ``scipy.signal.welch`` (Hann window, ``detrend="constant"``,
        density scaling, mean over segments) or ``scipy.signal.periodogram`` (boxcar window,
        constant detrend).
    n_per_seg : int, default=None
        Welch segment length in samples; None (or longer than the window) uses the whole
        window as one segment.
    n_overlap : int, default=None
        Welch overlap in samples; None means ``n_per_seg // 2``.
    relative : bool, default=False
        Divide by the power between the lowest and the highest band edge.
    log : bool, default=False
        Return the natural log of the (relative) power.

    Returns
    -------
    ndarray or torch.Tensor of shape (..., n_bands)
        ``sum(psd[band]) * df`` with ``df = sfreq / n_per_seg``. Empty bands give 0 (or, with
        ``log=True``, the log of the dtype's smallest positive normal number).

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import band_power
    >>> X = np.random.default_rng(0).standard_normal((4, 14, 256))
    >>> band_power(X, 128.0, n_per_seg=128).shape
    (4, 14, 5)
    """
    import torch

    from .._validation import check_sfreq  # imports scikit-learn: at call time

    where = "band_power"
    sfreq = check_sfreq(where, sfreq)
    _, edges = check_bands(bands, where)
    Xt, was_numpy = to_torch(X)
    n_times = Xt.shape[-1]
    nperseg, step, win = _psd_setup(n_times, method, n_per_seg, n_overlap, where)
    frames = Xt.unfold(-1, nperseg, step)  # (..., n_segments, nperseg), a view
    frames = frames - frames.mean(dim=-1, keepdim=True)
    if win is not None:
        w = torch.as_tensor(win, dtype=Xt.dtype, device=Xt.device)
        frames = frames.mul_(w)
        win_ss = float(np.sum(win**2))
    else:
        win_ss = float(nperseg)
    n_segments = frames.shape[-2]
    Z = torch.fft.rfft(frames, dim=-1)
    ranges = band_bin_ranges(nperseg, sfreq, edges)
    if relative:  # one more column: the power from the lowest to the highest band edge
        ranges = ranges + [(min(r[0] for r in ranges), max(r[1] for r in ranges))]
    # density scaling (1 / (fs * sum(w^2))) times df = fs / nperseg, averaged over segments
    scale = 1.0 / (win_ss * nperseg * n_segments)
    power = _band_sumsq(Z, ranges, nperseg, segments=True).mul_(scale)
    if relative:
        tiny = torch.finfo(power.dtype).tiny
        power = power[..., :-1] / power[..., -1:].clamp(min=tiny)
    if log:
        power = power.clamp_(min=torch.finfo(power.dtype).tiny).log_()
    return from_torch(power, was_numpy)


_LOG_EPS = 1e-8


def stft_spectrogram(
    X,
    sfreq: float,
    *,
    n_fft: int = 256,
    hop_length: int | None = None,
    window="hann",
    fmin: float = 0.0,
    fmax: float | None = None,
    center: bool = True,
    log: bool = True,
    output_shape: tuple[int, int] | None = None,
):
    """Short-time Fourier transform magnitude per channel, optionally resized to a fixed grid.

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (..., n_times)
    sfreq : float
        Sampling frequency in Hz.
    n_fft : int, default=256
        Segment length (samples); the one-sided spectrum has ``n_fft // 2 + 1`` bins.
    hop_length : int, default=None
        Step between segments; None means ``n_fft // 2``.
    window : str or tuple, default="hann"
        Any window of ``scipy.signal.get_window`` (periodic); ``"boxcar"`` for none.
    fmin, fmax : float
        Keep the bins with ``fmin <= f <= fmax`` (``fmax=None``: up to Nyquist).
    center : bool, default=True
        Pad ``n_fft // 2`` zeros on both sides (scipy's ``boundary="zeros"``). A signal shorter
        than ``n_fft`` after this padding is zero-padded at the end to one segment.
    log : bool, default=True
        Return ``log(magnitude + 1e-8)``.
    output_shape : (int, int), default=None
        Resize ``(n_freqs, n_frames)`` to this shape with order-1 (bilinear, corner-aligned)
        interpolation, like ``scipy.ndimage.zoom(order=1)``: datasets with different rates and
        window lengths then share one input shape (GRU-XNet resizes to 129 x 126).

    Returns
    -------
    ndarray or torch.Tensor of shape (..., n_freqs, n_frames)
        ``|Z|`` with ``Z`` scaled as ``scipy.signal.stft`` does (divided by ``window.sum()``),
        same dtype as X.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import stft_spectrogram
    >>> X = np.random.default_rng(0).standard_normal((2, 32, 1024)).astype(np.float32)
    >>> stft_spectrogram(X, 128.0, n_fft=256, hop_length=128, fmax=50.0).shape
    (2, 32, 101, 9)
    >>> stft_spectrogram(X, 128.0, output_shape=(129, 126)).shape
    (2, 32, 129, 126)
    """
    import torch

    from .._validation import check_sfreq  # imports scikit-learn: at call time

    where = "stft_spectrogram"
    sfreq = check_sfreq(where, sfreq)
    n_fft, hop, win = check_stft_params(sfreq, n_fft, hop_length, window, fmin, fmax, where)
    if output_shape is not None:
        output_shape = check_output_shape(output_shape, where)
    Xt, was_numpy = to_torch(X)
    lead = Xt.shape[:-1]
    n_times = Xt.shape[-1]
    Xf = Xt.reshape(-1, n_times)
    if center:
        Xf = torch.nn.functional.pad(Xf, (n_fft // 2, n_fft // 2))
    if Xf.shape[-1] < n_fft:
        Xf = torch.nn.functional.pad(Xf, (0, n_fft - Xf.shape[-1]))
    w = torch.as_tensor(win / win.sum(), dtype=Xt.dtype, device=Xt.device)
    keep = _stft_bins(sfreq, n_fft, fmin, fmax)
    Z = torch.stft(Xf, n_fft, hop_length=hop, window=w, center=False, return_complex=True)
    Z = Z[:, keep[0] : keep[-1] + 1]
    grad = Z.requires_grad  # (explanations differentiate through the spectrogram)
    # numpy's complex abs is several times faster (not while torch.export traces: ONNX export)
    if Z.device.type == "cpu" and not grad and not torch.compiler.is_compiling():
        S = torch.from_numpy(np.abs(Z.numpy()))  # (N, n_freqs, n_frames)
    else:
        S = Z.abs()
    if log:
        S = (S + _LOG_EPS).log() if grad else S.add_(_LOG_EPS).log_()
    if output_shape is not None:
        h, wd = output_shape
        S = torch.nn.functional.interpolate(
            S.unsqueeze(1), size=(h, wd), mode="bilinear", align_corners=True
        ).squeeze(1)
    S = S.reshape(*lead, *S.shape[-2:]).contiguous()
    return from_torch(S, was_numpy)


def _stft_bins(sfreq: float, n_fft: int, fmin, fmax) -> np.ndarray:
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sfreq)
    hi = freqs[-1] if fmax is None else fmax
    return np.flatnonzero((freqs >= fmin - 1e-9) & (freqs <= hi + 1e-9))


def check_stft_params(sfreq: float, n_fft, hop_length, window, fmin, fmax, where: str):
    """Check the STFT parameters; return ``(n_fft, hop_length, window array)``.

    ``sfreq`` must already be checked. Errors name ``where`` and the argument.
    """
    for name, value in (("n_fft", n_fft), ("hop_length", hop_length)):
        if (value is not None or name == "n_fft") and (
            isinstance(value, bool | np.bool_) or not isinstance(value, Integral) or value < 1
        ):
            raise ValueError(f"{where}: argument {name} must be an int >= 1; got {value!r}.")
    n_fft = int(n_fft)
    hop = n_fft // 2 if hop_length is None else int(hop_length)
    if hop < 1:
        raise ValueError(
            f"{where}: argument hop_length defaults to n_fft // 2, which is 0 for n_fft={n_fft}; "
            "pass hop_length >= 1."
        )
    check_positive_finite(fmin, "fmin", where, allow_zero=True)
    if fmax is not None:
        check_positive_finite(fmax, "fmax", where, allow_zero=True)
        if fmax < fmin:
            raise ValueError(f"{where}: argument fmax ({fmax}) must be >= fmin ({fmin}).")
    try:
        win = np.asarray(get_window(window, n_fft), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{where}: argument window {window!r} is not a window of scipy.signal.get_window "
            f"({exc})."
        ) from exc
    if not win.sum() > 0:
        raise ValueError(
            f"{where}: argument window {window!r} sums to {win.sum()}; it cannot scale."
        )
    if _stft_bins(sfreq, n_fft, fmin, fmax).size == 0:
        raise ValueError(
            f"{where}: no STFT bin lies between fmin={fmin} and fmax={fmax} Hz (bins 0 to "
            f"{sfreq / 2:g} Hz in steps of {sfreq / n_fft:g} Hz)."
        )
    return n_fft, hop, win


def check_output_shape(output_shape, where: str) -> tuple[int, int]:
    """A pair of ints >= 1 (not bools)."""
    ok = (
        isinstance(output_shape, tuple | list)
        and len(output_shape) == 2
        and all(
            isinstance(v, Integral) and not isinstance(v, bool | np.bool_) and v >= 1
            for v in output_shape
        )
    )
    if not ok:
        raise ValueError(
            f"{where}: argument output_shape must be a pair of ints >= 1 (n_freqs, n_frames); "
            f"got {output_shape!r}."
        )
    return int(output_shape[0]), int(output_shape[1])
