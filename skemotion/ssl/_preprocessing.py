"""ECG preprocessing of SSL-ECG: resampling, high-pass filtering, per-person robust z-score.

The per-person robust z-score is :class:`skemotion.transfer.SubjectStandardizer` with
``percentile_range=(2.5, 97.5)``; :func:`person_zscore` is its functional form with SSL-ECG's
float32 output, and ``PersonZScore`` a deprecated alias of the transformer.
"""

from __future__ import annotations

import sys
import warnings
from numbers import Real

import numpy as np
from scipy import signal

from .._validation import check_ids, check_sfreq
from ..features._filtering import resample_fraction, sosfiltfilt
from ..transfer._alignment import (
    SubjectStandardizer,
    _run_named,
    check_percentile_range,
    robust_zscore_stats,
    subject_standardize,
)

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
    fs = check_sfreq(where, sfreq)
    X = np.asarray(X, dtype=np.float32)
    if target_sfreq is not None and float(check_sfreq(where, target_sfreq, "target_sfreq")) != fs:
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


def person_zscore(X, groups, percentile_range=(2.5, 97.5)):
    """Normalise every person's windows with that person's own robust z-score statistics.

    Stateless and label-free: each person's statistics come from their own windows only, so
    applying it to a whole dataset before a subject-wise (``LeaveOneGroupOut``) evaluation does
    not leak anything across subjects. This is the normalisation of the original SSL-ECG:
    :func:`skemotion.transfer.subject_standardize` with ``percentile_range``, in float32.

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
    where = "person_zscore"
    X = np.asarray(X)
    check_percentile_range(percentile_range, where)
    groups = check_ids(where, groups, X.shape[0], "groups", "person id")
    out = _run_named(where, subject_standardize, X, groups, percentile_range=percentile_range)
    return out.astype(np.float32, copy=False)


class PersonZScore(SubjectStandardizer):
    """Deprecated: use ``SubjectStandardizer(percentile_range=(2.5, 97.5))``.

    ``PersonZScore`` is removed in the next release. It is
    :class:`skemotion.transfer.SubjectStandardizer` with SSL-ECG's per-person robust z-score
    as default (``percentile_range=(2.5, 97.5)``): with ``groups``, every person is normalised
    with the mean of all their samples and the standard deviation of their samples between the
    2.5th and 97.5th percentiles, exactly as before.

    What changed: without ``groups``, the windows passed to ``transform`` are standardised as
    one person (the former ``without_groups="batch"``; the former default ``"fit"``, the
    statistics of the training windows, and the ``without_groups`` parameter are gone, see
    :class:`~skemotion.transfer.SubjectStandardizer` for why); the output keeps the float
    dtype of X (float32 for float32 X, as SSL-ECG feeds its encoder, float64 for float64 X,
    where it was always float32); windows of any length are accepted after fit; the fitted
    attributes ``mean_``, ``scale_`` and ``n_times_`` are gone.

    Parameters
    ----------
    robust : bool, default=False
        See :class:`~skemotion.transfer.SubjectStandardizer`.
    percentile_range : tuple of 2 float, default=(2.5, 97.5)
        Percentiles bounding the samples used for the standard deviation.

    Attributes
    ----------
    n_channels_ : int
        Number of channels seen in fit.
    n_features_in_ : int
        ``X.shape[1]`` as passed to fit.

    See Also
    --------
    skemotion.transfer.SubjectStandardizer : the estimator to use instead.
    person_zscore : the same normalisation as a function.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skemotion.ssl import PersonZScore
    >>> X = np.random.default_rng(0).normal(size=(6, 1, 100))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     Z = PersonZScore().fit_transform(X, groups=[0, 0, 0, 1, 1, 1])
    >>> caught[0].category.__name__
    'FutureWarning'
    """

    def __init__(self, *, robust=False, percentile_range=(2.5, 97.5)):
        super().__init__(robust=robust, percentile_range=percentile_range)

    def fit(self, X, y=None, groups=None):
        """Warn that the class is deprecated, then fit as ``SubjectStandardizer`` does.

        Parameters
        ----------
        X, y, groups
            See :meth:`skemotion.transfer.SubjectStandardizer.fit`.

        Returns
        -------
        self : object
        """
        warnings.warn(
            "PersonZScore is deprecated and will be removed in the next release; use "
            "skemotion.transfer.SubjectStandardizer(percentile_range=(2.5, 97.5)) instead "
            "(without groups it standardises the windows passed as one person).",
            FutureWarning,
            stacklevel=_user_stacklevel(),
        )
        return super().fit(X, y, groups=groups)


def _user_stacklevel() -> int:
    """``stacklevel`` of the first caller outside skemotion, for a warning issued by the caller
    of this function: it points at the user's line, not at ``fit_transform``."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("skemotion."):
        frame, level = frame.f_back, level + 1
    return level
