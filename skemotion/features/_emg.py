"""Synthetic muscle (EMG) artifact added to EEG at a controlled SNR (TS-STDN noisy protocol)."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from ._backend import (
    as_numpy_float,
    check_finite_array,
    check_positive_finite,
    float_dtype,
    is_torch,
)

__all__ = ["emg_contamination", "make_emg_noise", "snr_db_from_exp_snr", "check_snr_range"]


def check_snr_range(snr_db, where: str, arg: str = "snr_db") -> tuple[float, float]:
    """An SNR in dB given as one number or a ``(low, high)`` range: ``(low, high)`` floats.

    Every value is checked alike (a real number, not a bool, finite) whether it comes alone or
    in the pair; ``low <= high``. Errors name ``where`` and the argument.
    """
    values = list(snr_db) if isinstance(snr_db, tuple | list | np.ndarray) else [snr_db]
    ok = (
        len(values) in (1, 2)
        and all(
            isinstance(v, Real) and not isinstance(v, bool | np.bool_) and np.isfinite(v)
            for v in values
        )
        and values[0] <= values[-1]
    )
    if not ok:
        raise ValueError(
            f"{where}: argument {arg} must be a finite number or a (low, high) pair of finite "
            f"numbers with low <= high (dB); got {snr_db!r}."
        )
    return float(values[0]), float(values[-1])


def snr_db_from_exp_snr(snr):
    """Convert the TS-STDN code's SNR parameter to standard dB.

    The original scales the noise to ``rms(noise) = rms(x) / exp(snr / 10)``, so its true SNR
    is ``20 * log10(exp(snr / 10)) = snr * 2 / ln(10) ~= 0.8686 * snr`` dB (``snr=-8`` in the
    paper's runs is about -6.95 dB).

    Parameters
    ----------
    snr : float or array-like
        SNR parameter of the original code.

    Returns
    -------
    snr_db : float or ndarray
        The same SNR in standard decibels (``10 log10(P_signal / P_noise)``); an array for an
        array input.

    Examples
    --------
    >>> from skemotion.features.functional import snr_db_from_exp_snr
    >>> round(snr_db_from_exp_snr(-8.0), 2)
    -6.95
    """
    factor = 2.0 / math.log(10.0)
    return np.asarray(snr, dtype=float) * factor if np.ndim(snr) else float(snr) * factor


def _channel_groups(n_channels: int, group_size: int, groups):
    """Group index of each channel, and the number of groups."""
    if groups is None:
        gid = np.arange(n_channels) // group_size
        return gid, int(gid[-1]) + 1
    gid = np.full(n_channels, -1, dtype=int)
    for g, members in enumerate(groups):
        members = np.asarray(members)
        if (
            members.ndim != 1
            or members.size == 0
            or not np.issubdtype(members.dtype, np.integer)
            or members.min() < 0
            or members.max() >= n_channels
        ):
            raise ValueError(
                f"emg_contamination: argument groups[{g}] must hold channel indices (ints) in "
                f"[0, {n_channels}); got {members.tolist()}."
            )
        vals, counts = np.unique(members, return_counts=True)
        twice = sorted({*vals[counts > 1].tolist(), *members[gid[members] >= 0].tolist()})
        if twice:
            raise ValueError(
                f"emg_contamination: argument groups: channel(s) {twice} appear twice; each "
                "channel belongs to at most one group."
            )
        gid[members] = g
    if (gid < 0).any():  # channels outside every group form groups of their own
        rest = np.flatnonzero(gid < 0)
        gid[rest] = len(groups) + np.arange(rest.size)
    return gid, int(gid.max()) + 1


def make_emg_noise(
    n_windows: int,
    n_sources: int,
    n_times: int,
    sfreq: float,
    *,
    band=(20.0, 100.0),
    max_bursts: int = 3,
    rng=None,
    dtype=np.float64,
):
    """Unit-power muscle-artifact sources: band-limited noise with burst envelopes.

    Each source is Gaussian noise restricted to ``band`` (an FFT mask with cosine tapers of
    2 Hz at both edges; the upper edge is capped at 0.95 x Nyquist), multiplied by a
    muscle-like envelope: a weak tonic level plus up to ``max_bursts`` contraction bursts with
    Gaussian profiles (random onset, 50-400 ms width, random strength).

    Parameters
    ----------
    n_windows, n_sources, n_times : int
        Output shape ``(n_windows, n_sources, n_times)``.
    sfreq : float
        Sampling frequency in Hz.
    band : (float, float), default=(20.0, 100.0)
        EMG frequency band in Hz.
    max_bursts : int, default=3
        Maximum number of bursts per source and window (each one present with probability
        0.7; at least one always is).
    rng : None, int or numpy.random.Generator
        Randomness.
    dtype : numpy dtype, default=float64

    Returns
    -------
    ndarray of shape (n_windows, n_sources, n_times)
        Zero-mean sources with mean power 1 per window and source.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import make_emg_noise
    >>> noise = make_emg_noise(2, 3, 400, 200.0, rng=0)
    >>> noise.shape, bool(np.allclose((noise**2).mean(axis=-1), 1.0))
    ((2, 3, 400), True)
    """
    from .._validation import check_sfreq  # imports scikit-learn: at call time

    sfreq = check_sfreq("make_emg_noise", sfreq)
    rng = np.random.default_rng(rng)
    nyq = sfreq / 2.0
    lo = min(float(band[0]), 0.5 * nyq)
    hi = min(float(band[1]), 0.95 * nyq)
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    taper = 2.0
    mask = np.clip(np.minimum((freqs - lo) / taper + 0.5, (hi - freqs) / taper + 0.5), 0, 1)
    mask = np.sin(0.5 * np.pi * mask) ** 2
    if n_times < 2 or not mask.any():
        mask = np.ones_like(freqs)
        mask[0] = 0.0
    dtype = np.dtype(dtype)
    white = rng.standard_normal((n_windows, n_sources, n_times), dtype=dtype)
    src = np.fft.irfft(np.fft.rfft(white, axis=-1) * mask.astype(dtype), n=n_times, axis=-1)

    t = np.arange(n_times) / sfreq
    dur = n_times / sfreq
    shape = (n_windows, n_sources, max_bursts, 1)
    centers = rng.uniform(0.0, dur, shape)
    widths = rng.uniform(0.05, 0.4, shape)
    amps = rng.uniform(0.5, 1.5, shape) * (rng.random(shape) < 0.7)
    amps[..., 0, :] = np.maximum(amps[..., 0, :], 0.5)
    env = 0.1 + (amps * np.exp(-0.5 * ((t - centers) / widths) ** 2)).sum(axis=-2)
    env = env.astype(dtype, copy=False)
    noise = src * env
    noise -= noise.mean(axis=-1, keepdims=True)
    power = (noise**2).mean(axis=-1, keepdims=True)
    noise /= np.sqrt(np.where(power > 0, power, 1.0))
    return noise.astype(dtype, copy=False)


def emg_contamination(
    X,
    sfreq: float,
    snr_db,
    ch_fraction: float = 0.6,
    rng=None,
    return_noise: bool = False,
    *,
    group_size: int = 4,
    groups=None,
    band=(20.0, 100.0),
    mixing: float = 0.3,
):
    """Add realistic muscle artifact to EEG windows at a controlled SNR.

    Follows the noisy-data protocol of TS-STDN (Liu et al., 2023): channels are split into
    groups of ``group_size`` adjacent electrodes, a random subset of the groups
    (``ch_fraction`` of them, drawn anew for every window) is contaminated, and all electrodes
    of a group receive the same EMG burst source (plus ``mixing`` of an independent part per
    electrode). The noise of every contaminated channel is scaled so that

        ``SNR_dB = 10 * log10(P_signal / P_noise)``, with ``P = mean(x ** 2)`` over the window

    equals ``snr_db`` for that channel and window (the standard definition; negative values
    mean more noise than signal). The original code instead scales the noise by
    ``rms(x) / rms(n) / exp(snr / 10)``: its ``snr`` corresponds to ``snr * 2 / ln(10)``
    (about ``0.87 * snr``) dB here, e.g. the paper's ``snr = -8`` is -6.95 dB, see
    :func:`snr_db_from_exp_snr`. EEGdenoiseNet's recorded EMG is not used; the sources come
    from :func:`make_emg_noise` (20-100 Hz band-limited noise with muscle-like bursts).

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (n_windows, n_channels, n_times)
        Clean EEG windows (a 2-D array is one channel per window). Not modified.
    sfreq : float
        Sampling frequency in Hz.
    snr_db : float or array-like of shape (n_windows,)
        Target SNR in dB, one value for all windows or one per window (e.g. drawn at random
        per window during training). A torch tensor is accepted.
    ch_fraction : float, default=0.6
        Fraction of the channel groups contaminated in each window (6 of 10 groups in the
        paper); at least one group when positive.
    rng : None, int or numpy.random.Generator
        Randomness (group choice and noise).
    return_noise : bool, default=False
        Also return the added noise (``noisy = X + noise``; zero on clean channels).
    group_size : int, default=4
        Electrodes per group when ``groups`` is None (consecutive channel indices, which in
        the SEED/DEAP channel orders are neighbouring electrodes).
    groups : sequence of sequences of int, default=None
        Explicit electrode groups (channel indices); channels in no group form one-channel
        groups.
    band : (float, float), default=(20.0, 100.0)
        EMG band in Hz (capped below the Nyquist frequency).
    mixing : float, default=0.3
        Weight of the per-electrode independent part relative to the group's shared source.

    Returns
    -------
    noisy : ndarray or torch.Tensor, shape and dtype of X
        ``X + noise`` (numpy in, numpy out; a tensor stays on its device).
    noise : same type and shape, only if ``return_noise=True``

    References
    ----------
    Liu, Jiang, Zheng, Lu. "Two-Stream Spectral-Temporal Denoising Network for End-to-End
    Robust EEG-Based Emotion Recognition", ICONIP 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import emg_contamination
    >>> X = np.random.default_rng(0).standard_normal((16, 62, 400)).astype(np.float32)
    >>> noisy, noise = emg_contamination(X, 200.0, snr_db=-5.0, rng=0, return_noise=True)
    >>> noisy.dtype, noisy.shape
    (dtype('float32'), (16, 62, 400))
    >>> hit = (noise ** 2).mean(-1) > 0
    >>> snr = 10 * np.log10((X ** 2).mean(-1)[hit] / (noise ** 2).mean(-1)[hit])
    >>> bool(np.allclose(snr, -5.0, atol=0.01))
    True
    """
    where = "emg_contamination"
    torch_in = is_torch(X)
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{where}: argument X must be (n_windows, n_channels, n_times) or (n_windows, "
            f"n_times); got shape {tuple(X.shape)}."
        )
    from .._validation import check_sfreq  # imports scikit-learn: at call time

    sfreq = check_sfreq(where, sfreq)
    squeeze = X.ndim == 2
    n_windows = X.shape[0]
    n_channels = 1 if squeeze else X.shape[1]
    n_times = X.shape[-1]
    check_positive_finite(ch_fraction, "ch_fraction", where, allow_zero=True)
    if ch_fraction > 1:
        raise ValueError(f"{where}: argument ch_fraction must be in [0, 1]; got {ch_fraction!r}.")
    if isinstance(group_size, bool | np.bool_) or not isinstance(group_size, Integral):
        raise ValueError(f"{where}: argument group_size must be an int >= 1; got {group_size!r}.")
    if group_size < 1:
        raise ValueError(f"{where}: argument group_size must be an int >= 1; got {group_size!r}.")
    check_positive_finite(mixing, "mixing", where, allow_zero=True)
    snr = check_finite_array(snr_db, "snr_db", where).astype(np.float64)
    if snr.ndim > 1 or (snr.ndim == 1 and snr.shape[0] not in (1, n_windows)):
        raise ValueError(
            f"{where}: argument snr_db must be a number or have shape ({n_windows},) (one per "
            f"window); got shape {snr.shape}."
        )
    snr = np.broadcast_to(snr.reshape(-1), (n_windows,)) if snr.ndim else np.full(n_windows, snr)
    rng = np.random.default_rng(rng)
    dtype = float_dtype(X)

    gid, n_groups = _channel_groups(n_channels, int(group_size), groups)
    n_hit = 0 if ch_fraction == 0 else max(1, int(round(ch_fraction * n_groups)))
    order = rng.random((n_windows, n_groups)).argsort(axis=1)
    group_hit = np.zeros((n_windows, n_groups), dtype=bool)
    np.put_along_axis(group_hit, order[:, :n_hit], True, axis=1)
    ch_hit = group_hit[:, gid]  # (n_windows, n_channels)

    src = make_emg_noise(
        n_windows, n_groups + n_channels, n_times, sfreq, band=band, rng=rng, dtype=dtype
    )
    shared, own = src[:, :n_groups], src[:, n_groups:]
    raw = shared[:, gid] + mixing * own  # (n_windows, n_channels, n_times)
    raw_power = np.einsum("...t,...t->...", raw, raw, dtype=np.float64) / n_times
    # per-channel gain so that P_signal / P_noise = 10 ** (snr / 10) on contaminated channels
    gain_base = np.where(ch_hit & (raw_power > 0), 1.0 / np.sqrt(np.maximum(raw_power, 1e-300)), 0)
    gain_base *= 10.0 ** (-snr[:, None] / 20.0)

    if torch_in:
        import torch

        Xt = X if not squeeze else X.unsqueeze(1)
        p_sig = Xt.to(torch.float64).square().mean(dim=-1)
        gain = (torch.as_tensor(gain_base, device=X.device) * p_sig.sqrt()).to(Xt.dtype)
        noise = torch.as_tensor(raw, device=X.device).to(Xt.dtype) * gain[..., None]
        if squeeze:
            noise = noise.squeeze(1)
        noisy = X + noise
    else:
        Xn = as_numpy_float(X)
        X3 = Xn[:, None, :] if squeeze else Xn
        p_sig = np.einsum("...t,...t->...", X3, X3, dtype=np.float64) / n_times
        raw *= (gain_base * np.sqrt(p_sig)).astype(dtype)[..., None]
        noise = raw
        if squeeze:
            noise = noise[:, 0]
        noisy = Xn + noise
    return (noisy, noise) if return_noise else noisy
