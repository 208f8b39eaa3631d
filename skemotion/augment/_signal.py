"""Label-preserving EEG augmentations run per training batch, on the training device.

Two layers:

- **functions** (``time_shift``, ``amplitude_scale``, ``channel_dropout``,
  ``band_limited_noise``, ``frequency_shift``, ``mixup``): deterministic torch functions of a
  batch and explicit per-window parameters. They take windows of shape
  ``(batch, ..., n_channels, n_times)`` (axes between the batch and the channels, such as a
  noisy/clean pair, get the same transformation) and return a new tensor; the input is never
  modified.
- **classes** (:class:`TimeShift`, :class:`AmplitudeScale`, :class:`ChannelDropout`,
  :class:`BandNoise`, :class:`FrequencyShift`, :class:`Mixup`): what a deep classifier's
  ``augment`` parameter takes. Each draws its parameters for every window of a batch from the
  :class:`AugmentationRandom` the training runtime seeds from the estimator's
  ``random_state`` (so a fit with an integer seed is reproducible), applies to each window with
  probability ``p``, and calls the function.

A classifier applies them only while training: validation batches (early stopping) and
inference never see them.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .._training import BatchAugmentation, MixedTargets, check_batch

__all__ = [
    "AmplitudeScale",
    "BandNoise",
    "BatchAugmentation",
    "ChannelDropout",
    "FrequencyShift",
    "Mixup",
    "TimeShift",
    "amplitude_scale",
    "band_limited_noise",
    "channel_dropout",
    "frequency_shift",
    "mixup",
    "time_shift",
]


def _per_window(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``values`` of shape (batch,) broadcast against ``x`` (batch, ..., n_times)."""
    return values.to(device=x.device).reshape((-1,) + (1,) * (x.dim() - 1))


def _per_channel(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``values`` of shape (batch, n_channels) broadcast against ``x`` (batch, ..., C, T)."""
    b, c = values.shape
    return values.to(device=x.device).reshape((b,) + (1,) * (x.dim() - 3) + (c, 1))


# --- functions ------------------------------------------------------------------------------
def time_shift(x: torch.Tensor, shifts) -> torch.Tensor:
    """Shift every window in time by a whole number of samples, circularly.

    ``out[i, ..., t] = x[i, ..., (t - shifts[i]) mod n_times``: the window's content moves
    ``shifts[i]`` samples later and the samples pushed past the end come back at its start
    (a crop of the recording continued periodically, with no zero padding).

    Parameters
    ----------
    x : Tensor of shape (batch, ..., n_channels, n_times)
    shifts : Tensor or array of int of shape (batch,)
        Shift of each window in samples (negative: earlier).

    Returns
    -------
    Tensor of the shape of ``x``

    Examples
    --------
    >>> import torch
    >>> from skemotion.augment import time_shift
    >>> time_shift(torch.arange(4.0).reshape(1, 1, 4), [1])
    tensor([[[3., 0., 1., 2.]]])
    """
    check_batch(x, "time_shift")
    n = x.shape[-1]
    shifts = torch.as_tensor(shifts, dtype=torch.long, device=x.device)
    t = torch.arange(n, device=x.device)
    idx = (t[None, :] - shifts[:, None]) % n  # (batch, n_times)
    idx = idx.reshape((x.shape[0],) + (1,) * (x.dim() - 2) + (n,)).expand_as(x)
    return torch.gather(x, -1, idx)


def amplitude_scale(x: torch.Tensor, factors) -> torch.Tensor:
    """Multiply every window by its factor: ``out[i] = factors[i] * x[i]``.

    Parameters
    ----------
    x : Tensor of shape (batch, ..., n_channels, n_times)
    factors : Tensor or array of shape (batch,)

    Returns
    -------
    Tensor of the shape of ``x``

    Examples
    --------
    >>> import torch
    >>> from skemotion.augment import amplitude_scale
    >>> amplitude_scale(torch.ones(2, 1, 2), [0.5, 2.0])
    tensor([[[0.5000, 0.5000]],
    <BLANKLINE>
            [[2.0000, 2.0000]]])
    """
    check_batch(x, "amplitude_scale")
    factors = torch.as_tensor(factors, dtype=x.dtype)
    return x * _per_window(factors, x)


def channel_dropout(x: torch.Tensor, keep) -> torch.Tensor:
    """Zero the channels not kept: ``out[i, ..., c, :] = keep[i, c] * x[i, ..., c, :]``.

    Parameters
    ----------
    x : Tensor of shape (batch, ..., n_channels, n_times)
    keep : Tensor or array of bool or {0, 1} of shape (batch, n_channels)

    Returns
    -------
    Tensor of the shape of ``x``

    Examples
    --------
    >>> import torch
    >>> from skemotion.augment import channel_dropout
    >>> channel_dropout(torch.ones(1, 3, 2), [[True, False, True]])[0, :, 0]
    tensor([1., 0., 1.])
    """
    check_batch(x, "channel_dropout")
    keep = torch.as_tensor(keep).to(dtype=x.dtype)
    return x * _per_channel(keep, x)


def _band_mask(n_times: int, sfreq: float, band, device) -> torch.Tensor:
    freqs = torch.fft.rfftfreq(n_times, d=1.0 / sfreq, device=device)
    low, high = band
    return (freqs >= low) & (freqs <= high)


def band_limited_noise(x: torch.Tensor, white: torch.Tensor, sfreq: float, band, scale):
    """Add noise restricted to a frequency band, sized relative to each channel's spread.

    The white noise is band-passed ideally (its FFT bins outside ``[low, high]`` Hz set to 0),
    normalised to unit standard deviation per window and channel, and added as
    ``x + scale[i] * std(x[i, ..., c, :]) * noise[i, c]``: ``scale`` is the noise-to-signal
    amplitude ratio.

    Parameters
    ----------
    x : Tensor of shape (batch, ..., n_channels, n_times)
    white : Tensor of shape (batch, n_channels, n_times)
        White noise to shape (one draw per window and channel).
    sfreq : float
        Sampling frequency in Hz.
    band : (float, float)
        Pass band in Hz.
    scale : Tensor or array of shape (batch,)
        Noise-to-signal ratio of each window (0: unchanged).

    Returns
    -------
    Tensor of the shape of ``x``

    Examples
    --------
    >>> import torch
    >>> from skemotion.augment import band_limited_noise
    >>> x = torch.randn(2, 3, 256, dtype=torch.float64)
    >>> out = band_limited_noise(x, torch.randn(2, 3, 256), 128.0, (8.0, 13.0), [0.0, 0.5])
    >>> bool(torch.equal(out[0], x[0])), round(float((out[1] - x[1]).std() / x[1].std()), 1)
    (True, 0.5)
    """
    check_batch(x, "band_limited_noise")
    n = x.shape[-1]
    white = torch.as_tensor(white, device=x.device)
    spec = torch.fft.rfft(white.double(), dim=-1)
    noise = torch.fft.irfft(spec * _band_mask(n, sfreq, band, x.device), n=n, dim=-1)
    std = noise.std(dim=-1, keepdim=True)
    noise = torch.where(std > 0, noise / std.clamp_min(1e-300), torch.zeros_like(noise))
    b, c = noise.shape[:2]
    noise = noise.reshape((b,) + (1,) * (x.dim() - 3) + (c, n)).to(x.dtype)
    spread = x.std(dim=-1, keepdim=True) if n > 1 else torch.zeros_like(x[..., :1])
    scale = torch.as_tensor(scale, dtype=x.dtype)
    return x + _per_window(scale, x) * spread * noise


def _analytic(x: torch.Tensor) -> torch.Tensor:
    """Analytic signal along the last axis (the FFT construction of ``scipy.signal.hilbert``)."""
    n = x.shape[-1]
    h = torch.zeros(n, dtype=torch.float64, device=x.device)
    if n % 2 == 0:
        h[0] = h[n // 2] = 1.0
        h[1 : n // 2] = 2.0
    else:
        h[0] = 1.0
        h[1 : (n + 1) // 2] = 2.0
    return torch.fft.ifft(torch.fft.fft(x.double(), dim=-1) * h, dim=-1)


def frequency_shift(x: torch.Tensor, shifts_hz, sfreq: float) -> torch.Tensor:
    """Shift every window's spectrum by ``shifts_hz[i]`` Hz (single-sideband modulation).

    ``out = Re(analytic(x) * exp(2j * pi * shift * t / sfreq))``, with the analytic signal of
    :func:`scipy.signal.hilbert`: every frequency component moves by ``shift`` Hz, the
    amplitude envelope is kept.

    Parameters
    ----------
    x : Tensor of shape (batch, ..., n_channels, n_times)
    shifts_hz : Tensor or array of shape (batch,)
        Shift of each window in Hz (negative: down).
    sfreq : float
        Sampling frequency in Hz.

    Returns
    -------
    Tensor of the shape of ``x``

    Examples
    --------
    >>> import math
    >>> import torch
    >>> from skemotion.augment import frequency_shift
    >>> t = torch.arange(128, dtype=torch.float64) / 128
    >>> x = torch.sin(2 * math.pi * 10 * t).reshape(1, 1, 128)  # 10 Hz
    >>> out = frequency_shift(x, [2.0], 128.0)
    >>> int(torch.fft.rfft(out[0, 0]).abs().argmax())  # now 12 Hz
    12
    """
    check_batch(x, "frequency_shift")
    n = x.shape[-1]
    t = torch.arange(n, dtype=torch.float64, device=x.device) / sfreq
    shifts = torch.as_tensor(shifts_hz, dtype=torch.float64, device=x.device)
    phase = 2 * math.pi * _per_window(shifts, x).double() * t
    return (_analytic(x) * torch.exp(1j * phase)).real.to(x.dtype)


def mixup(x: torch.Tensor, y, lam, perm):
    """Mix every window with another one of the batch (Zhang et al., ICLR 2018).

    ``out[i] = lam[i] * x[i] + (1 - lam[i]) * x[perm[i]]``, and the labels become
    :class:`MixedTargets` ``(y, perm, lam)`` for the mixed loss.

    Parameters
    ----------
    x : Tensor of shape (batch, ..., n_channels, n_times)
    y : Tensor of int of shape (batch,)
    lam : Tensor or array of shape (batch,)
        Weight of each window's own signal, in [0, 1].
    perm : Tensor or array of int of shape (batch,)
        Partner of each window.

    Returns
    -------
    x_mixed : Tensor of the shape of ``x``
    targets : MixedTargets

    Examples
    --------
    >>> import torch
    >>> from skemotion.augment import mixup
    >>> x = torch.stack([torch.zeros(1, 2), torch.ones(1, 2)])  # 2 windows
    >>> out, targets = mixup(x, torch.tensor([0, 1]), [0.75, 1.0], [1, 0])
    >>> out[:, 0, 0], targets.y_other
    (tensor([0.2500, 1.0000]), tensor([1, 0]))
    """
    check_batch(x, "mixup")
    lam = torch.as_tensor(lam, dtype=x.dtype, device=x.device)
    perm = torch.as_tensor(perm, dtype=torch.long, device=x.device)
    w = _per_window(lam, x)
    return w * x + (1 - w) * x[perm], MixedTargets(y, y[perm], lam, perm)


# --- classes --------------------------------------------------------------------------------
def _check_positive(obj, name, value, *, allow_zero=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{type(obj).__name__}: argument {name} must be {bound}; got {value!r}.")


class TimeShift(BatchAugmentation):
    """Circular time shift by up to ``max_shift`` of the window (:func:`time_shift`).

    Parameters
    ----------
    max_shift : float, default=0.25
        Largest shift as a fraction of the window length; shifts are drawn uniformly among the
        whole numbers of samples in ``[-max_shift * n_times, max_shift * n_times]``.
    p : float, default=0.5
        Probability that a window is shifted.

    Examples
    --------
    >>> from skemotion.augment import TimeShift
    >>> from skemotion.classifiers import EEGNetClassifier
    >>> clf = EEGNetClassifier(augment=[TimeShift(max_shift=0.1)])
    """

    def __init__(self, max_shift=0.25, p=0.5):
        super().__init__(p)
        self.max_shift = max_shift

    def _check_settings(self):
        _check_positive(self, "max_shift", self.max_shift, allow_zero=True)
        if self.max_shift > 1:
            raise ValueError(f"TimeShift: argument max_shift must be <= 1; got {self.max_shift}.")

    def _apply(self, x, y, applied, rng):
        m = int(self.max_shift * x.shape[-1])
        shifts = rng.numpy.integers(-m, m + 1, size=x.shape[0]) * applied
        return time_shift(x, torch.from_numpy(shifts)), y


class AmplitudeScale(BatchAugmentation):
    """Scale each window by a factor drawn uniformly in ``[low, high]`` (:func:`amplitude_scale`).

    Parameters
    ----------
    low : float, default=0.8
        Smallest factor.
    high : float, default=1.25
        Largest factor.
    p : float, default=0.5
        Probability that a window is scaled.

    Examples
    --------
    >>> import torch
    >>> from skemotion._training import AugmentationRandom
    >>> from skemotion.augment import AmplitudeScale
    >>> x = torch.ones(3, 2, 4)
    >>> out, _ = AmplitudeScale(low=2.0, high=2.0, p=1.0)(x, torch.zeros(3), AugmentationRandom(0))
    >>> out[:, 0, 0]
    tensor([2., 2., 2.])
    """

    def __init__(self, low=0.8, high=1.25, p=0.5):
        super().__init__(p)
        self.low = low
        self.high = high

    def _check_settings(self):
        _check_positive(self, "low", self.low)
        _check_positive(self, "high", self.high)
        if self.low > self.high:
            raise ValueError(
                f"AmplitudeScale: argument low must be <= high; got low={self.low}, "
                f"high={self.high}."
            )

    def _apply(self, x, y, applied, rng):
        factors = rng.numpy.uniform(self.low, self.high, size=x.shape[0])
        factors = np.where(applied, factors, 1.0)
        return amplitude_scale(x, torch.from_numpy(factors)), y


class ChannelDropout(BatchAugmentation):
    """Zero each channel of a window with probability ``drop`` (:func:`channel_dropout`).

    Parameters
    ----------
    drop : float, default=0.1
        Probability that a channel of a transformed window is zeroed.
    p : float, default=0.5
        Probability that a window is transformed.

    Examples
    --------
    >>> from skemotion.augment import ChannelDropout
    >>> ChannelDropout(drop=0.2)
    ChannelDropout(p=0.5, drop=0.2)
    """

    def __init__(self, drop=0.1, p=0.5):
        super().__init__(p)
        self.drop = drop

    def _check_settings(self):
        _check_positive(self, "drop", self.drop, allow_zero=True)
        if self.drop >= 1:
            raise ValueError(f"ChannelDropout: argument drop must be < 1; got {self.drop}.")

    def _apply(self, x, y, applied, rng):
        drop = rng.numpy.random((x.shape[0], x.shape[-2])) < self.drop
        keep = ~(drop & applied[:, None])
        return channel_dropout(x, torch.from_numpy(keep)), y


class BandNoise(BatchAugmentation):
    """Add band-limited noise at a noise-to-signal ratio up to ``max_scale``
    (:func:`band_limited_noise`).

    Parameters
    ----------
    sfreq : float
        Sampling frequency of the windows in Hz.
    band : (float, float), default=(1.0, 45.0)
        Noise band in Hz.
    max_scale : float, default=0.2
        Largest noise-to-signal amplitude ratio; drawn uniformly in ``[0, max_scale]``.
    p : float, default=0.5
        Probability that a window gets noise.

    Examples
    --------
    >>> from skemotion.augment import BandNoise
    >>> BandNoise(sfreq=128.0, band=(8.0, 13.0), max_scale=0.1).check()
    """

    def __init__(self, sfreq, band=(1.0, 45.0), max_scale=0.2, p=0.5):
        super().__init__(p)
        self.sfreq = sfreq
        self.band = band
        self.max_scale = max_scale

    def _check_settings(self):
        _check_positive(self, "sfreq", self.sfreq)
        _check_positive(self, "max_scale", self.max_scale, allow_zero=True)
        band = self.band
        if (
            not isinstance(band, (tuple, list))
            or len(band) != 2
            or not all(isinstance(v, numbers.Real) and np.isfinite(v) for v in band)
            or not 0 <= band[0] < band[1]
        ):
            raise ValueError(
                f"BandNoise: argument band must be (low, high) Hz with 0 <= low < high; got "
                f"{band!r}."
            )
        if band[0] > self.sfreq / 2:
            raise ValueError(
                f"BandNoise: argument band {tuple(band)} lies above the Nyquist frequency "
                f"{self.sfreq / 2} Hz of sfreq={self.sfreq}."
            )

    def _apply(self, x, y, applied, rng):
        b, c, n = x.shape[0], x.shape[-2], x.shape[-1]
        white = torch.randn((b, c, n), generator=rng.torch, device=rng.torch.device)
        scale = rng.numpy.uniform(0.0, self.max_scale, size=b) * applied
        return band_limited_noise(x, white, self.sfreq, self.band, torch.from_numpy(scale)), y


class FrequencyShift(BatchAugmentation):
    """Shift each window's spectrum by up to ``max_shift`` Hz (:func:`frequency_shift`).

    Parameters
    ----------
    sfreq : float
        Sampling frequency of the windows in Hz.
    max_shift : float, default=1.0
        Largest shift in Hz; drawn uniformly in ``[-max_shift, max_shift]``.
    p : float, default=0.5
        Probability that a window is shifted.

    Examples
    --------
    >>> from skemotion.augment import FrequencyShift
    >>> FrequencyShift(sfreq=128.0, max_shift=0.5)
    FrequencyShift(p=0.5, sfreq=128.0, max_shift=0.5)
    """

    def __init__(self, sfreq, max_shift=1.0, p=0.5):
        super().__init__(p)
        self.sfreq = sfreq
        self.max_shift = max_shift

    def _check_settings(self):
        _check_positive(self, "sfreq", self.sfreq)
        _check_positive(self, "max_shift", self.max_shift, allow_zero=True)

    def _apply(self, x, y, applied, rng):
        shifts = rng.numpy.uniform(-self.max_shift, self.max_shift, size=x.shape[0])
        out = frequency_shift(x, torch.from_numpy(shifts), self.sfreq)
        keep = _per_window(torch.from_numpy(~applied), x)
        return torch.where(keep, x, out), y


class Mixup(BatchAugmentation):
    """Mix windows and their labels (:func:`mixup`); the classifier's loss becomes the mixed
    cross-entropy of :class:`MixedTargets`.

    Each transformed window is mixed with a partner drawn at random from the batch, with
    weight ``lam ~ Beta(alpha, alpha)`` of its own signal; other windows keep ``lam = 1``.

    Parameters
    ----------
    alpha : float, default=0.2
        Parameter of the Beta distribution of the mixing weights.
    p : float, default=0.5
        Probability that a window is mixed.

    Examples
    --------
    >>> import torch
    >>> from skemotion._training import AugmentationRandom
    >>> from skemotion.augment import Mixup
    >>> x, y = torch.randn(4, 2, 8), torch.tensor([0, 1, 0, 1])
    >>> out, targets = Mixup(p=1.0)(x, y, AugmentationRandom(0))
    >>> type(targets).__name__, out.shape
    ('MixedTargets', torch.Size([4, 2, 8]))
    """

    def __init__(self, alpha=0.2, p=0.5):
        super().__init__(p)
        self.alpha = alpha

    def _check_settings(self):
        _check_positive(self, "alpha", self.alpha)

    def _apply(self, x, y, applied, rng):
        if isinstance(y, MixedTargets):
            raise ValueError("Mixup: the batch is already mixed; give Mixup once in augment.")
        b = x.shape[0]
        lam = np.where(applied, rng.numpy.beta(self.alpha, self.alpha, size=b), 1.0)
        perm = rng.numpy.permutation(b)
        return mixup(x, y, torch.from_numpy(lam), torch.from_numpy(perm))
