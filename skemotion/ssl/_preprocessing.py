"""ECG preprocessing of SSL-ECG: resampling, high-pass filtering, per-person robust z-score."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy import signal
from sklearn.base import BaseEstimator, TransformerMixin

from .._validation import StrOptions, check_ids, check_is_fitted, check_signal_X
from ..features._backend import check_sfreq
from ..features._filtering import resample_fraction, sosfiltfilt

__all__ = ["PersonZScore", "person_zscore", "preprocess_ecg", "robust_zscore_stats"]


def preprocess_ecg(X, sfreq: float, *, target_sfreq: float | None = 256.0, highpass=0.8):
    """Resample ECG windows and remove the baseline, as SSL-ECG does before pre-training.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_channels, n_times)
    sfreq : float
        Sampling frequency of X in Hz.
    target_sfreq : float or None, default=256.0
        Rate to resample to (polyphase, :func:`scipy.signal.resample_poly`); None keeps sfreq.
    highpass : float or None, default=0.8
        Cut-off (Hz) of a zero-phase 4th-order Butterworth high-pass; None disables it.

    Returns
    -------
    X_out : ndarray of shape (n_windows, n_channels, n_times_out), float32
        ``n_times_out = ceil(n_times * target_sfreq / sfreq)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.ssl import preprocess_ecg
    >>> X = np.random.default_rng(0).standard_normal((2, 1, 700))  # 1 s at 700 Hz
    >>> preprocess_ecg(X, 700.0).shape
    (2, 1, 256)
    """
    where = "preprocess_ecg"
    fs = check_sfreq(sfreq, where)
    X = np.asarray(X, dtype=np.float32)
    if target_sfreq is not None and float(check_sfreq(target_sfreq, where, "target_sfreq")) != fs:
        ratio = resample_fraction(fs, target_sfreq, where, "target_sfreq")
        X = signal.resample_poly(X, ratio.numerator, ratio.denominator, axis=-1)
        fs = float(target_sfreq)
    if highpass is not None:
        if (
            isinstance(highpass, bool | np.bool_)
            or not isinstance(highpass, Real)
            or not 0 < highpass < fs / 2
        ):
            raise ValueError(
                f"{where}: argument highpass must be between 0 and the Nyquist frequency "
                f"{fs / 2} Hz; got {highpass!r}."
            )
        sos = signal.butter(4, highpass, btype="highpass", fs=fs, output="sos")
        X = sosfiltfilt(sos, X)
    return np.ascontiguousarray(X, dtype=np.float32)


def robust_zscore_stats(X, percentile_range=(2.5, 97.5)):
    """Mean and robust standard deviation per channel, as in SSL-ECG.

    The mean is that of all samples; the standard deviation is that of the samples between the
    two percentiles of ``percentile_range`` (so that R peaks and artefacts do not inflate it).

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_channels, n_times)
    percentile_range : tuple of 2 float, default=(2.5, 97.5)

    Returns
    -------
    mean, scale : ndarray of shape (n_channels,)
        ``scale`` is 1 where the robust standard deviation is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.ssl import robust_zscore_stats
    >>> X = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 1, 200))
    >>> mean, scale = robust_zscore_stats(X)
    >>> round(float(mean[0]), 1), bool(1.5 < scale[0] < 2.0)
    (3.0, True)
    """
    _check_percentile_range(percentile_range, "robust_zscore_stats")
    Xc = np.moveaxis(np.asarray(X, dtype=np.float64), 1, 0).reshape(X.shape[1], -1)
    mean = Xc.mean(axis=1)
    lo, hi = np.percentile(Xc, percentile_range, axis=1)
    inside = (Xc >= lo[:, None]) & (Xc <= hi[:, None])
    n_in = inside.sum(axis=1)
    m_in = np.where(inside, Xc, 0).sum(axis=1) / n_in
    var = np.where(inside, (Xc - m_in[:, None]) ** 2, 0).sum(axis=1) / n_in
    scale = np.sqrt(var)
    scale[~(scale > 0)] = 1.0
    return mean, scale


def _check_percentile_range(pr, where: str) -> None:
    ok = (
        isinstance(pr, tuple | list)
        and len(pr) == 2
        and all(isinstance(p, Real) and not isinstance(p, bool | np.bool_) for p in pr)
        and 0 <= pr[0] < pr[1] <= 100
    )
    if not ok:
        raise ValueError(
            f"{where}: argument percentile_range must be two percentiles 0 <= low < high <= 100; "
            f"got {pr!r}."
        )


def _check_groups(groups, n_windows: int, where: str) -> np.ndarray:
    """One person id per window, none missing (:func:`skemotion._validation.check_ids`)."""
    return check_ids(where, groups, n_windows, "groups", "person id")


def person_zscore(X, groups, percentile_range=(2.5, 97.5)):
    """Normalise every person's windows with that person's own robust z-score statistics.

    Stateless and label-free: each person's statistics come from their own windows only, so
    applying it to a whole dataset before a subject-wise (``LeaveOneGroupOut``) evaluation does
    not leak anything across subjects. This is the normalisation of the original SSL-ECG.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_channels, n_times)
    groups : array-like of shape (n_windows,)
        Person (subject) of every window.
    percentile_range : tuple of 2 float, default=(2.5, 97.5)
        See :func:`robust_zscore_stats`.

    Returns
    -------
    X_out : ndarray of shape (n_windows, n_channels, n_times), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.ssl import person_zscore
    >>> X = np.random.default_rng(0).normal(size=(4, 1, 100))
    >>> X[2:] *= 5.0  # person "b" has a 5 times larger signal
    >>> Z = person_zscore(X, groups=["a", "a", "b", "b"])
    >>> bool(abs(Z[:2].std() / Z[2:].std() - 1) < 0.2)
    True
    """
    X = np.asarray(X)
    _check_percentile_range(percentile_range, "person_zscore")
    return _person_zscore(X, _check_groups(groups, X.shape[0], "person_zscore"), percentile_range)


def _person_zscore(X, groups, percentile_range):
    out = np.empty(X.shape, dtype=np.float32)
    for g in np.unique(groups):  # a loop over persons, not over windows
        sel = groups == g
        mean, scale = robust_zscore_stats(X[sel], percentile_range)
        out[sel] = (X[sel] - mean[:, None]) / scale[:, None]
    return out


class PersonZScore(TransformerMixin, BaseEstimator):
    """Per-person robust z-score of ECG windows (SSL-ECG's normalisation) as a transformer.

    With ``groups`` (one person id per window), every person is normalised with the mean of all
    their samples and the standard deviation of their samples between the 2.5th and 97.5th
    percentiles, computed from the windows passed to ``transform`` (label-free, nothing crosses
    persons). ``groups`` reaches the transformer through scikit-learn's metadata routing:
    ``PersonZScore().set_fit_request(groups=True).set_transform_request(groups=True)`` with
    ``sklearn.set_config(enable_metadata_routing=True)``.

    Without ``groups``, ``without_groups`` decides: ``"fit"`` (default) applies the global
    statistics of the training windows learned in ``fit``; ``"batch"`` treats the windows passed
    to ``transform`` as one person, which is right for the test fold of ``LeaveOneGroupOut``
    (one unseen subject), where scikit-learn's scorers call ``predict`` without metadata.

    Parameters
    ----------
    percentile_range : tuple of 2 float, default=(2.5, 97.5)
        Percentiles bounding the samples used for the standard deviation.
    without_groups : {"fit", "batch"}, default="fit"
        Statistics used when ``transform`` gets no groups.

    Attributes
    ----------
    mean_ : ndarray of shape (n_channels,)
        Mean of the training windows per channel.
    scale_ : ndarray of shape (n_channels,)
        Robust standard deviation of the training windows per channel.
    n_channels_ : int
        Number of channels seen in fit.
    n_times_ : int
        Window length seen in fit.
    n_features_in_ : int
        ``X.shape[1]`` as passed to fit.

    See Also
    --------
    person_zscore : the same normalisation as a function (safe before subject-wise CV).

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.ssl import PersonZScore
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(6, 1, 100)) * np.repeat([1.0, 10.0], 3)[:, None, None]
    >>> Z = PersonZScore().fit_transform(X, groups=[0, 0, 0, 1, 1, 1])
    >>> bool(abs(Z[:3].std() / Z[3:].std() - 1) < 0.1)
    True
    """

    _parameter_constraints: dict = {
        "percentile_range": [tuple, list],
        "without_groups": [StrOptions({"fit", "batch"})],
    }

    def __init__(self, *, percentile_range=(2.5, 97.5), without_groups="fit"):
        self.percentile_range = percentile_range
        self.without_groups = without_groups

    def fit(self, X, y=None, groups=None):
        """Learn the global statistics of the training windows.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
        y : ignored
        groups : array-like of shape (n_windows,), default=None
            Accepted for symmetry with ``transform``; the global statistics do not use it.

        Returns
        -------
        self
        """
        self._validate_params()
        _check_percentile_range(self.percentile_range, "PersonZScore")
        X = check_signal_X(self, X, reset=True, dtype=np.float64)
        if groups is not None:
            _check_groups(groups, X.shape[0], "PersonZScore")
        self.n_channels_, self.n_times_ = X.shape[1], X.shape[2]
        self.mean_, self.scale_ = robust_zscore_stats(X, self.percentile_range)
        return self

    def transform(self, X, groups=None):
        """Normalise the windows.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
        groups : array-like of shape (n_windows,), default=None
            Person of every window; see the class description for ``None``.

        Returns
        -------
        X_out : ndarray of the shape of X, float32
        """
        check_is_fitted(self)
        two_d = np.asarray(X).ndim == 2
        X = check_signal_X(self, X, reset=False, dtype=np.float64)
        if groups is not None:
            out = _person_zscore(
                X, _check_groups(groups, X.shape[0], "PersonZScore"), self.percentile_range
            )
        else:
            if self.without_groups == "batch":
                mean, scale = robust_zscore_stats(X, self.percentile_range)
            else:
                mean, scale = self.mean_, self.scale_
            out = ((X - mean[:, None]) / scale[:, None]).astype(np.float32)
        return out[:, 0, :] if two_d else out

    def fit_transform(self, X, y=None, groups=None):
        """Fit, then transform the same windows with the same ``groups``.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
        y : None
            Ignored.
        groups : array-like of shape (n_windows,), default=None
            Person of every window; see the class description for ``None``.

        Returns
        -------
        X_out : ndarray of the shape of X, float32
        """
        return self.fit(X, y, groups=groups).transform(X, groups=groups)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
