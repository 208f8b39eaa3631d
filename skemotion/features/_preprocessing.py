"""Signal-to-signal transformers: filters, baseline removal and EMG contamination."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from .._validation import Interval, StrOptions, fitted_sfreq
from ._backend import check_finite_array
from ._base import SignalTransformerMixin, WindowsToWindows, like_input
from ._emg import check_snr_range, emg_contamination
from ._filtering import (
    bandpass_filter,
    check_band_edges,
    check_notch_freqs,
    notch_filter,
    subtract_baseline,
)

__all__ = ["BandpassFilter", "NotchFilter", "BaselineRemoval", "EMGContamination"]


def _single_channel_baseline(baseline, n_windows: int, where: str):
    """The baseline of a 2-D (single-channel) X as a 3-D array with one channel."""
    B = check_finite_array(baseline, "baseline", where)
    if B.ndim == 1:
        return B[None, None, :]
    if B.ndim == 2 and B.shape[0] in (1, n_windows):
        return B[:, None, :]
    raise ValueError(
        f"{where}: argument baseline must have shape (n_windows, n_baseline_times) = "
        f"({n_windows}, ...) or (n_baseline_times,) for a 2-D (single-channel) X; got "
        f"{B.shape}."
    )


class BandpassFilter(WindowsToWindows):
    """Zero-phase Butterworth band-pass filter of every window and channel.

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling frequency in Hz. None: the rate of X when X is ``mne.Epochs`` or a skemotion
        dataset (a value that disagrees with X's is an error; an array X then needs sfreq).
    l_freq : float or None, default=1.0
        Lower pass-band edge in Hz, below the Nyquist frequency; None (or 0) gives a low-pass
        filter.
    h_freq : float or None, default=50.0
        Upper pass-band edge in Hz; None (or >= Nyquist) gives a high-pass filter.
    order : int, default=4
        Butterworth order (doubled by the forward-backward pass).

    Attributes
    ----------
    n_features_in_ : int
        Number of channels seen in ``fit`` (``n_times`` for a 2-D X).
    n_channels_ : int
        Number of channels seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names when a 2-D X was a DataFrame.

    See Also
    --------
    skemotion.features.functional.bandpass_filter : The function it wraps.

    Notes
    -----
    Each window is filtered on its own (``scipy.signal.sosfiltfilt`` over the whole batch in
    one call), so edge effects are those of the window; filter continuous recordings before
    windowing when you can.

    The output has the shape of X. :meth:`get_feature_names_out` returns the input feature
    names (the channels of a 3-D X, the columns of a 2-D X); ``set_output(transform="pandas")``
    gives a DataFrame for a 2-D X and leaves 3-D windows an array.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features import BandpassFilter
    >>> X = np.random.default_rng(0).standard_normal((4, 14, 256)).astype(np.float32)
    >>> Xf = BandpassFilter(128.0, l_freq=4.0, h_freq=45.0).fit_transform(X)
    >>> Xf.shape, Xf.dtype
    ((4, 14, 256), dtype('float32'))
    """

    _parameter_constraints: dict = {
        "sfreq": [Interval(Real, 0, None, closed="neither"), None],
        "l_freq": [None, Interval(Real, 0, None, closed="left")],
        "h_freq": [None, Interval(Real, 0, None, closed="neither")],
        "order": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, sfreq=None, *, l_freq=1.0, h_freq=50.0, order=4):
        self.sfreq = sfreq
        self.l_freq = l_freq
        self.h_freq = h_freq
        self.order = order

    def _check_params(self):
        check_band_edges(self.l_freq, self.h_freq, fitted_sfreq(self), "BandpassFilter")

    def _transform_3d(self, X3):
        return bandpass_filter(X3, fitted_sfreq(self), self.l_freq, self.h_freq, order=self.order)


class NotchFilter(WindowsToWindows):
    """Zero-phase notch filter(s) removing line noise from every window and channel.

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling frequency in Hz. None: the rate of X when X is ``mne.Epochs`` or a skemotion
        dataset (a value that disagrees with X's is an error; an array X then needs sfreq).
    freqs : float or tuple of float, default=50.0
        Frequencies to remove (60 in the Americas; add harmonics as a tuple), each strictly
        between 0 and the Nyquist frequency.
    quality : float, default=30.0
        Quality factor of each notch (``scipy.signal.iirnotch``).

    Attributes
    ----------
    n_features_in_ : int
        Number of channels seen in ``fit`` (``n_times`` for a 2-D X).
    n_channels_ : int
        Number of channels seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names when a 2-D X was a DataFrame.

    See Also
    --------
    skemotion.features.functional.notch_filter : The function it wraps.

    Notes
    -----
    Output shape, feature names and DataFrame output as for :class:`BandpassFilter`.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features import NotchFilter
    >>> X = np.random.default_rng(0).standard_normal((4, 32, 512))
    >>> NotchFilter(128.0, freqs=50.0).fit_transform(X).shape
    (4, 32, 512)
    """

    _parameter_constraints: dict = {
        "sfreq": [Interval(Real, 0, None, closed="neither"), None],
        "freqs": [Real, tuple, list, np.ndarray],  # values: check_notch_freqs in fit
        "quality": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, sfreq=None, *, freqs=50.0, quality=30.0):
        self.sfreq = sfreq
        self.freqs = freqs
        self.quality = quality

    def _check_params(self):
        check_notch_freqs(self.freqs, fitted_sfreq(self), "NotchFilter")

    def _transform_3d(self, X3):
        return notch_filter(X3, fitted_sfreq(self), self.freqs, quality=self.quality)


class BaselineRemoval(SignalTransformerMixin):
    """Subtract each window's pre-trial baseline (DEAP-style), or demean it.

    The baseline recording that belongs to each window (e.g. the 3 s before its trial) is
    passed to :meth:`transform` as ``baseline=``; in a Pipeline, enable metadata routing and
    call ``set_transform_request(baseline=True)`` so that ``fit``/``predict``/``cross_val_score``
    pass it along (and split it with the windows).

    Parameters
    ----------
    method : {"mean", "base_mean"}, default="mean"
        ``"mean"``: subtract the per-channel mean of the baseline. ``"base_mean"``: cut the
        baseline into window-long segments, average them sample by sample and subtract that
        segment (Yang et al., 2018). Without a baseline both subtract the window's own
        per-channel mean.

    Attributes
    ----------
    n_features_in_ : int
        Number of channels seen in ``fit`` (``n_times`` for a 2-D X).
    n_channels_ : int
        Number of channels seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names when a 2-D X was a DataFrame.

    See Also
    --------
    skemotion.features.functional.remove_baseline : The function it wraps.
    DifferentialEntropy : Its ``baseline="subtract"`` subtracts the baseline DE instead.

    Notes
    -----
    Output shape, feature names and DataFrame output as for :class:`BandpassFilter`.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features import BaselineRemoval
    >>> X = np.ones((2, 3, 128))
    >>> base = np.zeros((2, 3, 384)) + 0.5
    >>> BaselineRemoval(method="base_mean").fit(X).transform(X, baseline=base)[0, 0, 0]
    np.float64(0.5)
    """

    _parameter_constraints: dict = {"method": [StrOptions({"mean", "base_mean"})]}

    def __init__(self, method="mean"):
        self.method = method

    def fit(self, X, y=None, baseline=None):
        """Validate X (nothing is learned).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
        y : None
            Ignored.
        baseline : None
            Ignored (lets a Pipeline route it to fit and transform alike).

        Returns
        -------
        self : object
        """
        return super().fit(X)

    def transform(self, X, baseline=None):
        """Subtract the baseline.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
        baseline : array-like of shape (n_windows, n_channels, n_baseline_times) or \
(n_channels, n_baseline_times), default=None
            Baseline per window or shared (for a 2-D X: ``(n_windows, n_baseline_times)`` or
            ``(n_baseline_times,)``), with finite values; None demeans each window.

        Returns
        -------
        ndarray of the shape and float dtype of X
        """
        X3, two_d = self._validate(X, reset=False)
        if baseline is not None and two_d:
            baseline = _single_channel_baseline(baseline, X3.shape[0], "BaselineRemoval")
        out = subtract_baseline(X3, baseline, self.method, None, "BaselineRemoval")
        return like_input(out, two_d)

    def fit_transform(self, X, y=None, baseline=None):
        """Fit, then subtract the baseline.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
        y : None
            Ignored.
        baseline : array-like, default=None
            See :meth:`transform`.

        Returns
        -------
        ndarray of the shape and float dtype of X
        """
        return self.fit(X).transform(X, baseline=baseline)


class EMGContamination(WindowsToWindows):
    """Add realistic muscle artifact to EEG windows at a controlled SNR.

    Band-limited (20-100 Hz) noise with muscle-like burst envelopes is added to a random
    ``ch_fraction`` of groups of ``group_size`` neighbouring electrodes (the TS-STDN noisy-data
    protocol), scaled per channel to the requested SNR in standard dB,
    ``10 * log10(P_signal / P_noise)``. See
    :func:`skemotion.features.functional.emg_contamination` for the details and the mapping
    to the original code's ``exp(snr / 10)`` scaling.

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling frequency in Hz. None: the rate of X when X is ``mne.Epochs`` or a skemotion
        dataset (a value that disagrees with X's is an error; an array X then needs sfreq).
    snr_db : float or tuple of (float, float), default=(-10, 0)
        SNR in dB; a ``(low, high)`` range draws one SNR per window uniformly.
    ch_fraction : float, default=0.6
        Fraction of electrode groups contaminated per window.
    group_size : int, default=4
        Neighbouring electrodes per group (consecutive channel indices).
    random_state : int, RandomState instance or None, default=None
        An int gives the same noise at every call of :meth:`transform` on the same X.

    Attributes
    ----------
    n_features_in_ : int
        Number of channels seen in ``fit`` (``n_times`` for a 2-D X).
    n_channels_ : int
        Number of channels seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names when a 2-D X was a DataFrame.

    See Also
    --------
    skemotion.features.functional.emg_contamination : The function it wraps.

    Notes
    -----
    In a Pipeline the noise is added at ``transform`` time, so both training and test windows
    are contaminated: the robustness experiment of TS-STDN. Use the function directly to
    contaminate only the training data.

    Output shape, feature names and DataFrame output as for :class:`BandpassFilter`.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features import EMGContamination
    >>> X = np.random.default_rng(0).standard_normal((8, 62, 400)).astype(np.float32)
    >>> noisy = EMGContamination(200.0, snr_db=-5.0, random_state=0).fit_transform(X)
    >>> noisy.shape, noisy.dtype
    ((8, 62, 400), dtype('float32'))
    """

    _torch_ok = True

    _parameter_constraints: dict = {
        "sfreq": [Interval(Real, 0, None, closed="neither"), None],
        "snr_db": [Real, tuple, list],
        "ch_fraction": [Interval(Real, 0, 1, closed="both")],
        "group_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self, sfreq=None, *, snr_db=(-10, 0), ch_fraction=0.6, group_size=4, random_state=None
    ):
        self.sfreq = sfreq
        self.snr_db = snr_db
        self.ch_fraction = ch_fraction
        self.group_size = group_size
        self.random_state = random_state

    def _check_params(self):
        check_snr_range(self.snr_db, "EMGContamination")

    def _transform_3d(self, X3):
        lo, hi = check_snr_range(self.snr_db, "EMGContamination")
        rs = check_random_state(self.random_state)
        rng = np.random.default_rng(rs.randint(np.iinfo(np.int32).max))
        snr = rng.uniform(lo, hi, X3.shape[0]) if hi > lo else lo
        return emg_contamination(
            X3,
            fitted_sfreq(self),
            snr,
            ch_fraction=self.ch_fraction,
            rng=rng,
            group_size=self.group_size,
        )
