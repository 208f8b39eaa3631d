"""Transformers around the spectral functions: DifferentialEntropy, BandPower, STFTSpectrogram."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .._validation import Interval, StrOptions, fitted_sfreq
from ._backend import check_bands, check_finite_array, is_torch
from ._base import SignalTransformerMixin, like_input
from ._spectral import (
    _stft_bins,
    band_power,
    check_output_shape,
    check_stft_params,
    differential_entropy,
    stft_spectrogram,
)

__all__ = ["DifferentialEntropy", "BandPower", "STFTSpectrogram"]


class _BandFeatures(SignalTransformerMixin):
    """Features per channel and band: the bands' checks, names and the flattening."""

    _torch_ok = True

    _parameter_constraints: dict = {
        "sfreq": [Interval(Real, 0, None, closed="neither"), None],
        "bands": [None, dict, list, tuple],
        "flatten": ["boolean"],
    }

    def _check_params(self):
        check_bands(self.bands, type(self).__name__, sfreq=fitted_sfreq(self))

    def _names_out(self, names_in):
        bands, _ = check_bands(self.bands, type(self).__name__)
        return self._per_channel_names(names_in, bands)

    def _flatten(self, out, two_d: bool):
        if two_d or self.flatten:
            return out.reshape(out.shape[0], -1)
        return out


class DifferentialEntropy(_BandFeatures):
    """Differential entropy (DE) per channel and frequency band.

    ``DE = 0.5 * log(2 * pi * e * sigma^2)`` of each channel's band-limited signal, the closed
    form for a Gaussian signal (Duan et al., 2013) and the standard feature of EEG emotion
    recognition. All windows, channels and bands are computed in one vectorised pass (see
    :func:`skemotion.features.functional.differential_entropy`).

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling frequency in Hz. None: the rate of X when X is ``mne.Epochs`` or a skemotion
        dataset (a value that disagrees with X's is an error; an array X then needs sfreq).
    bands : dict or list of (low, high), default=None
        Frequency bands in Hz; None means delta 1-4, theta 4-8, alpha 8-14, beta 14-31 and
        gamma 31-50 Hz. A dict gives the band names used by :meth:`get_feature_names_out`.
    method : {"fft", "filter"}, default="fft"
        ``"filter"``: zero-phase Butterworth band-pass then sample variance (the literature's
        definition). ``"fft"``: variance of the ideally band-passed signal from the
        periodogram (Parseval's theorem) in one FFT; much faster, accepts torch tensors
        (CPU/GPU), and also defined for windows too short for a filter (bands above Nyquist
        get the floor value described in the function's documentation).
    filter_order : int, default=4
        Butterworth order for ``method="filter"``.
    baseline : {None, "subtract"}, default=None
        ``"subtract"``: pass the baseline recording of each window to :meth:`transform` (or
        :meth:`fit_transform`, or through a Pipeline with metadata routing and
        ``set_transform_request(baseline=True)``) as ``baseline=``; it is cut into segments
        as long as the window, their DE is averaged, and subtracted from the window's DE
        (DEAP-style baseline correction in the feature domain).
    flatten : bool, default=False
        Return ``(n_windows, n_channels * n_bands)`` (channel-major) instead of
        ``(n_windows, n_channels, n_bands)``, e.g. in front of a linear model. A 2-D
        (single-channel) X always gives ``(n_windows, n_bands)``.

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
    BandPower : Band power from Welch's PSD.
    skemotion.features.functional.differential_entropy : The function it wraps.

    Notes
    -----
    :meth:`get_feature_names_out` names the features ``<channel>_<band>`` channel-major (the
    columns of the flattened output; the bare band names after a 2-D fit), with the channel
    names given as ``input_features``, else ``ch0, ch1, ...``. With
    ``set_output(transform="pandas")`` (or the global ``transform_output``) a 2-D output is a
    DataFrame with these columns; the unflattened 3-D output stays an array, which no
    DataFrame can hold.

    References
    ----------
    Duan, Zhu, Lu. "Differential entropy feature for EEG-based emotion classification",
    IEEE/EMBS NER 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features import DifferentialEntropy
    >>> X = np.random.default_rng(0).standard_normal((10, 62, 400)).astype(np.float32)
    >>> de = DifferentialEntropy(sfreq=200.0).fit(X)
    >>> de.transform(X).shape
    (10, 62, 5)
    >>> DifferentialEntropy(200.0, flatten=True).fit_transform(X).shape
    (10, 310)
    >>> de.get_feature_names_out(["FP1"] + [f"C{i}" for i in range(61)])[:3].tolist()
    ['FP1_delta', 'FP1_theta', 'FP1_alpha']
    """

    _parameter_constraints: dict = {
        **_BandFeatures._parameter_constraints,
        "method": [StrOptions({"fft", "filter"})],
        "filter_order": [Interval(Integral, 1, None, closed="left")],
        "baseline": [None, StrOptions({"subtract"})],
    }

    def __init__(
        self,
        sfreq=None,
        *,
        bands=None,
        method="fft",
        filter_order=4,
        baseline=None,
        flatten=False,
    ):
        self.sfreq = sfreq
        self.bands = bands
        self.method = method
        self.filter_order = filter_order
        self.baseline = baseline
        self.flatten = flatten

    def fit(self, X, y=None, baseline=None):
        """Validate X and the bands (nothing is learned).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows.
        y : None
            Ignored.
        baseline : None
            Ignored (accepted so that a Pipeline can route it to fit and transform alike).

        Returns
        -------
        self : object
            The fitted transformer.
        """
        return super().fit(X)

    def _de(self, X):
        return differential_entropy(
            X, fitted_sfreq(self), self.bands, method=self.method, filter_order=self.filter_order
        )

    def transform(self, X, baseline=None):
        """Compute the DE of every window, channel and band.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_windows, n_channels, n_times) or \
(n_windows, n_times)
            Signal windows; any length (the number of channels must match ``fit``).
        baseline : array-like of shape (n_windows, n_channels, n_baseline_times) or \
(n_channels, n_baseline_times), default=None
            Baseline recording per window (or shared), required when
            ``self.baseline == "subtract"``; ``n_baseline_times >= n_times``.

        Returns
        -------
        ndarray or torch.Tensor of shape (n_windows, n_channels, n_bands), or \
(n_windows, n_channels * n_bands) when flattened
            DE features, float32 for float32 X (a tensor for a tensor X).
        """
        X3, two_d = self._validate(X, reset=False)
        out = self._de(X3)
        if self.baseline == "subtract":
            if baseline is None:
                raise ValueError(
                    "DifferentialEntropy: baseline='subtract' needs the baseline signal: pass "
                    "transform(X, baseline=...) (or route it through the Pipeline)."
                )
            out = out - self._baseline_de(baseline, X3, two_d, out)
        elif baseline is not None:
            raise ValueError(
                "DifferentialEntropy: a baseline was passed but baseline=None; set "
                "baseline='subtract' to use it."
            )
        return self._flatten(out, two_d)

    def fit_transform(self, X, y=None, baseline=None):
        """Fit, then transform X (with its baseline when ``baseline="subtract"``).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
        y : None
            Ignored.
        baseline : array-like, default=None
            See :meth:`transform`.

        Returns
        -------
        ndarray of shape (n_windows, n_channels, n_bands) or (n_windows, n_features_out)
        """
        return self.fit(X).transform(X, baseline=baseline)

    def _baseline_de(self, baseline, X3, two_d, out):
        n, n_ch, n_times = X3.shape
        B = check_finite_array(baseline, "baseline", "DifferentialEntropy")
        if two_d and B.ndim in (1, 2):
            B = B.reshape(1, 1, -1) if B.ndim == 1 else B[:, None, :]
        elif not two_d and B.ndim == 2:
            B = B[None]
        if B.ndim != 3 or B.shape[0] not in (1, n) or B.shape[1] != n_ch:
            expected = (
                f"(n_windows, n_baseline_times) = ({n}, ...) or (n_baseline_times,)"
                if two_d
                else f"(n_windows, n_channels, n_baseline_times) = ({n}, {n_ch}, ...) or "
                f"(n_channels, n_baseline_times) = ({n_ch}, ...)"
            )
            raise ValueError(
                f"DifferentialEntropy: argument baseline must have shape {expected} for X of "
                f"shape {(n, n_times) if two_d else (n, n_ch, n_times)}; got {np.shape(baseline)}."
            )
        n_seg = B.shape[-1] // n_times
        if n_seg < 1:
            raise ValueError(
                f"DifferentialEntropy: argument baseline ({B.shape[-1]} samples) must be at "
                f"least as long as the windows ({n_times} samples)."
            )
        segs = B[..., : n_seg * n_times].reshape(B.shape[0], n_ch, n_seg, n_times)
        dtype = np.float32 if str(out.dtype).endswith("float32") else np.float64
        base = self._de(segs.astype(dtype, copy=False)).mean(-2)
        if is_torch(out):
            import torch

            return torch.as_tensor(base, device=out.device)
        return base


class BandPower(_BandFeatures):
    """Power per channel and frequency band from Welch's PSD (or the periodogram).

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling frequency in Hz. None: the rate of X when X is ``mne.Epochs`` or a skemotion
        dataset (a value that disagrees with X's is an error; an array X then needs sfreq).
    bands : dict or list of (low, high), default=None
        Frequency bands in Hz (default: delta 1-4, theta 4-8, alpha 8-14, beta 14-31 and
        gamma 31-50 Hz).
    relative : bool, default=False
        Divide each band's power by the power between the lowest and highest band edge.
    log : bool, default=True
        Natural log of the (relative) power.
    method : {"welch", "periodogram"}, default="welch"
        PSD estimate, identical to ``scipy.signal.welch`` (Hann, constant detrend, density
        scaling) or ``scipy.signal.periodogram``.
    n_per_seg : int, default=None
        Welch segment length in samples; None means ``2 * sfreq`` samples (2 s, 0.5 Hz
        resolution), capped at the window length.
    flatten : bool, default=False
        Return ``(n_windows, n_channels * n_bands)`` instead of
        ``(n_windows, n_channels, n_bands)``.

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
    DifferentialEntropy : Log-variance of the band-passed signal.
    skemotion.features.functional.band_power : The function it wraps.

    Notes
    -----
    Feature names and DataFrame output as for :class:`DifferentialEntropy`:
    ``<channel>_<band>``, and a DataFrame only for a 2-D output.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features import BandPower
    >>> X = np.random.default_rng(0).standard_normal((6, 32, 512))
    >>> BandPower(128.0, relative=True, log=False).fit_transform(X).sum(-1).round(6)[0, :3]
    array([1., 1., 1.])
    """

    _parameter_constraints: dict = {
        **_BandFeatures._parameter_constraints,
        "relative": ["boolean"],
        "log": ["boolean"],
        "method": [StrOptions({"welch", "periodogram"})],
        "n_per_seg": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        sfreq=None,
        *,
        bands=None,
        relative=False,
        log=True,
        method="welch",
        n_per_seg=None,
        flatten=False,
    ):
        self.sfreq = sfreq
        self.bands = bands
        self.relative = relative
        self.log = log
        self.method = method
        self.n_per_seg = n_per_seg
        self.flatten = flatten

    def transform(self, X):
        """Compute the band power of every window, channel and band.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_windows, n_channels, n_times) or \
(n_windows, n_times)

        Returns
        -------
        ndarray or torch.Tensor of shape (n_windows, n_channels, n_bands) or \
(n_windows, n_channels * n_bands)
        """
        X3, two_d = self._validate(X, reset=False)
        nperseg = (
            self.n_per_seg if self.n_per_seg is not None else int(round(2 * fitted_sfreq(self)))
        )
        out = band_power(
            X3,
            fitted_sfreq(self),
            self.bands,
            method=self.method,
            n_per_seg=nperseg,
            relative=self.relative,
            log=self.log,
        )
        return self._flatten(out, two_d)


class STFTSpectrogram(SignalTransformerMixin):
    """Short-time Fourier transform magnitude per channel, optionally on a fixed grid.

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling frequency in Hz. None: the rate of X when X is ``mne.Epochs`` or a skemotion
        dataset (a value that disagrees with X's is an error; an array X then needs sfreq).
    n_fft : int, default=256
        Segment length in samples.
    hop_length : int, default=None
        Step between segments; None means ``n_fft // 2``.
    window : str, default="hann"
        Window name of ``scipy.signal.get_window`` (periodic); ``"boxcar"`` for none.
    fmin : float, default=0.0
        Lowest frequency kept (Hz).
    fmax : float, default=None
        Highest frequency kept (Hz); None keeps up to Nyquist.
    log : bool, default=True
        ``log(magnitude + 1e-8)``.
    output_shape : tuple of (int, int), default=None
        Resize ``(n_freqs, n_frames)`` to this shape (order-1 interpolation, as
        ``scipy.ndimage.zoom(order=1)``) so that datasets with different sampling rates and
        window lengths share one shape (GRU-XNet uses ``(129, 126)``).
    center : bool, default=True
        Zero-pad ``n_fft // 2`` samples at both ends (scipy's ``boundary="zeros"``).

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
    skemotion.features.functional.stft_spectrogram : The function it wraps.

    Notes
    -----
    The output is ``(n_windows, n_channels, n_freqs, n_frames)``; a 2-D (single-channel) X
    gives ``(n_windows, n_freqs, n_frames)``. The magnitude is scaled as
    ``scipy.signal.stft`` scales it (divided by the window's sum).

    :meth:`get_feature_names_out` names axis 1 of the output: the channels (the
    ``input_features``, else ``ch0, ch1, ...``) for a 3-D X, the frequencies of the rows
    (``"0Hz", "0.5Hz", ...``, interpolated with ``output_shape``) for a 2-D X. The output has
    more than two dimensions and is never put in a DataFrame: ``set_output(transform="pandas")``
    returns it as an array.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features import STFTSpectrogram
    >>> X = np.random.default_rng(0).standard_normal((4, 62, 800)).astype(np.float32)
    >>> stft = STFTSpectrogram(200.0, n_fft=400, hop_length=200, fmin=0.5, fmax=50.0)
    >>> stft.fit_transform(X).shape
    (4, 62, 100, 5)
    >>> STFTSpectrogram(200.0, output_shape=(129, 126)).fit_transform(X).shape
    (4, 62, 129, 126)
    """

    _torch_ok = True

    _parameter_constraints: dict = {
        "sfreq": [Interval(Real, 0, None, closed="neither"), None],
        "n_fft": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [None, Interval(Integral, 1, None, closed="left")],
        "window": [str, tuple],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [None, Interval(Real, 0, None, closed="left")],
        "log": ["boolean"],
        "output_shape": [None, tuple, list],
        "center": ["boolean"],
    }

    def __init__(
        self,
        sfreq=None,
        *,
        n_fft=256,
        hop_length=None,
        window="hann",
        fmin=0.0,
        fmax=None,
        log=True,
        output_shape=None,
        center=True,
    ):
        self.sfreq = sfreq
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.window = window
        self.fmin = fmin
        self.fmax = fmax
        self.log = log
        self.output_shape = output_shape
        self.center = center

    def _check_params(self):
        where = "STFTSpectrogram"
        if self.output_shape is not None:
            check_output_shape(self.output_shape, where)
        check_stft_params(
            fitted_sfreq(self),
            self.n_fft,
            self.hop_length,
            self.window,
            self.fmin,
            self.fmax,
            where,
        )

    def _names_out(self, names_in):
        if not self._fitted_2d:
            return names_in
        freqs = np.fft.rfftfreq(self.n_fft, 1.0 / fitted_sfreq(self))
        freqs = freqs[_stft_bins(fitted_sfreq(self), self.n_fft, self.fmin, self.fmax)]
        if self.output_shape is not None:  # corner-aligned interpolation of the rows
            freqs = np.linspace(freqs[0], freqs[-1], self.output_shape[0])
        return [f"{f:g}Hz" for f in freqs]

    def transform(self, X):
        """Compute the spectrogram of every window and channel.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_windows, n_channels, n_times) or \
(n_windows, n_times)

        Returns
        -------
        ndarray or torch.Tensor of shape (n_windows, n_channels, n_freqs, n_frames)
        """
        X3, two_d = self._validate(X, reset=False)
        out = stft_spectrogram(
            X3,
            fitted_sfreq(self),
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            fmin=self.fmin,
            fmax=self.fmax,
            center=self.center,
            log=self.log,
            output_shape=self.output_shape,
        )
        return like_input(out, two_d)
