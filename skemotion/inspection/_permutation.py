"""Permutation importance of the channels (or of channel x frequency band) of signal windows.

scikit-learn's :func:`~sklearn.inspection.permutation_importance` permutes single columns of a
2-D X; here a feature is a whole channel of 3-D windows ``(n_windows, n_channels, n_times)``
(every time sample of the channel moves together), or one frequency band of one channel. The
scoring (:func:`~sklearn.metrics.check_scoring`), the seeding (one seed drawn from
``random_state``, a fresh generator per feature, so that results do not depend on ``n_jobs``),
the parallelism (joblib, one task per channel) and the returned ``Bunch`` follow scikit-learn's.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
from joblib import Parallel, delayed
from sklearn import get_config
from sklearn.base import is_classifier, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.metrics import check_scoring
from sklearn.utils import Bunch, check_random_state

from .._validation import check_ids, check_is_fitted, check_sfreq
from ..features._backend import band_bin_ranges, check_bands
from ._utils import check_ch_names, check_positive_int, check_windows

__all__ = ["channel_importance"]

_NAME = "channel_importance"
_RESPONSE_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")


def _accepts_groups(method) -> bool:
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False
    return any(p.name == "groups" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _predict_takes_groups(estimator) -> bool:
    """Whether ``estimator.predict(X, groups=...)`` can use the groups: a Pipeline hands its
    ``**params`` to its last step unless metadata routing is enabled."""
    predict = getattr(estimator, "predict", None)
    if predict is None or not _accepts_groups(predict):
        return False
    steps = getattr(estimator, "steps", None)
    if steps and not get_config().get("enable_metadata_routing", False):
        return _predict_takes_groups(steps[-1][1])
    return True


class _WithGroups:
    """A fitted estimator whose prediction methods receive ``groups=`` (what the scorer calls).

    Rows are never reordered by the permutations (a window keeps its place, only the content
    of one channel comes from another window), so one ``groups`` array serves every call.
    """

    def __init__(self, estimator, groups):
        self.estimator = estimator
        self.groups = groups

    def __sklearn_tags__(self):
        return self.estimator.__sklearn_tags__()

    def __getattr__(self, name):
        if name.startswith("__") or name in ("estimator", "groups"):
            raise AttributeError(name)
        attr = getattr(self.estimator, name)
        if name in _RESPONSE_METHODS and _accepts_groups(attr):
            groups = self.groups

            @functools.wraps(attr)  # scikit-learn's scorers read the method's name
            def method(X, *args, **kwargs):
                return attr(X, *args, groups=groups, **kwargs)

            return method
        return attr


def _scorer(estimator, scoring, groups):
    """scikit-learn's scorer of ``scoring``; with groups, ``scoring=None`` is the metric of the
    estimator's ``score`` (accuracy for a classifier, R^2 for a regressor), which then reads
    predictions made with the groups."""
    if groups is not None and scoring is None:
        if is_classifier(estimator):
            scoring = "accuracy"
        elif is_regressor(estimator):
            scoring = "r2"
        else:
            raise ValueError(
                f"{_NAME}: argument scoring is None with groups given, and "
                f"{type(estimator).__name__} is neither a classifier nor a regressor; pass "
                "scoring (a scorer name or callable)."
            )
    try:
        return check_scoring(estimator, scoring=scoring)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{_NAME}: argument scoring: {exc}") from exc


def _pick(tree, key):
    """The ``key`` entry of every score dict of a nested list of scores."""
    if isinstance(tree, list):
        return [_pick(t, key) for t in tree]
    return tree[key]


def _bunch(baseline, permuted, **names) -> Bunch:
    importances = baseline - np.asarray(permuted, dtype=np.float64)
    return Bunch(
        importances_mean=importances.mean(axis=-1),
        importances_std=importances.std(axis=-1),
        importances=importances,
        **{key: list(value) for key, value in names.items()},
    )


def _channel_scores(estimator, X, y, channel, seed, n_repeats, scorer):
    """Scores with channel ``channel`` permuted across windows, ``n_repeats`` times."""
    rng = np.random.RandomState(seed)
    X_permuted = X.copy()  # the caller's X is only read
    idx = np.arange(X.shape[0])
    scores = []
    for _ in range(n_repeats):
        rng.shuffle(idx)
        X_permuted[:, channel] = X[idx, channel]
        scores.append(scorer(estimator, X_permuted, y))
    return scores


def _band_scores(estimator, X, y, channel, ranges, seed, n_repeats, scorer):
    """Scores, per band, with that band of channel ``channel`` permuted across windows.

    The band component is the ideally band-passed signal (the FFT bins ``ranges[b]``, the
    convention of :func:`skemotion.features.functional.band_variance`); the window keeps the
    rest of its signal and receives the band component of another window.
    """
    dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
    X_permuted = X.astype(dtype, copy=True)
    signal = X[:, channel].astype(np.float64)  # (n, T)
    n_times = signal.shape[-1]
    Z = np.fft.rfft(signal, axis=-1)
    out = []
    for k0, k1 in ranges:
        Zb = np.zeros_like(Z)
        Zb[:, k0:k1] = Z[:, k0:k1]
        component = np.fft.irfft(Zb, n=n_times, axis=-1)
        rest = signal - component
        rng = np.random.RandomState(seed)
        idx = np.arange(X.shape[0])
        scores = []
        for _ in range(n_repeats):
            rng.shuffle(idx)
            X_permuted[:, channel] = rest + component[idx]
            scores.append(scorer(estimator, X_permuted, y))
        X_permuted[:, channel] = X[:, channel]
        out.append(scores)
    return out


def channel_importance(
    estimator,
    X,
    y,
    *,
    groups=None,
    scoring=None,
    n_repeats: int = 5,
    random_state=None,
    by: str = "channel",
    sfreq: float | None = None,
    bands=None,
    ch_names=None,
    n_jobs: int | None = None,
) -> Bunch:
    """Permutation importance of each channel (or channel and frequency band) of a fitted model.

    The score of ``estimator`` on ``(X, y)`` is compared with its score when one channel is
    permuted across windows: every time sample of channel ``c`` moves together, so window
    ``i`` keeps its other channels and receives channel ``c`` of window ``perm[i]``. The drop
    in score is the channel's importance. Works for any fitted estimator or pipeline that
    takes windows ``(n_windows, n_channels, n_times)``, classical (features + linear model) or
    deep, as :func:`sklearn.inspection.permutation_importance` does for the columns of a 2-D X.

    Parameters
    ----------
    estimator : estimator object
        A fitted estimator (or Pipeline) that accepts X; it is only used for prediction.
    X : array-like of shape (n_windows, n_channels, n_times)
        Windows to score on, preferably held out from training. Not modified.
    y : array-like of shape (n_windows,)
        Targets of the windows.
    groups : array-like of shape (n_windows,), default=None
        Subject id per window, given as ``groups=`` to the estimator's prediction methods
        (``predict``, ``predict_proba``, ``decision_function``): a deep classifier uses them
        with ``adapt_bn="subject"``, a Pipeline routes them with metadata routing enabled
        (e.g. to :class:`~skemotion.transfer.EuclideanAlignment` with
        ``set_transform_request(groups=True)``). The prediction method must accept
        ``groups`` (or ``**params``); with groups, ``scoring=None`` means accuracy for a
        classifier and R^2 for a regressor (the metrics of their ``score``). Permutations
        never move windows, so each window keeps its group.
    scoring : str, callable, list, tuple, dict or None, default=None
        As in :func:`sklearn.inspection.permutation_importance`: None uses the estimator's
        ``score``; a scorer name (``"balanced_accuracy"``, ``"f1_macro"`` ...) or callable
        ``scorer(estimator, X, y)``; several metrics (list, tuple or dict) return one
        ``Bunch`` per metric.
    n_repeats : int, default=5
        Number of permutations of each feature.
    random_state : int, RandomState instance or None, default=None
        Draws the permutations. One seed is drawn from it and every feature (channel, or
        channel and band) is permuted by a fresh generator seeded with it, as in
        scikit-learn: an int gives the same result for any ``n_jobs``.
    by : {"channel", "band"}, default="channel"
        ``"channel"`` permutes whole channels. ``"band"`` permutes one frequency band of one
        channel: the channel's signal is split into its band component (ideal band-pass by
        FFT, the bins ``low <= f < high`` as in
        :func:`skemotion.features.functional.band_variance`) and the rest; the window keeps
        the rest and receives the band component of another window. For features computed
        per band (differential entropy, band power) this permutes exactly one feature of
        the channel; it applies to any estimator.
    sfreq : float or None, default=None
        Sampling frequency of X in Hz; required with ``by="band"``.
    bands : dict or sequence of (low, high), default=None
        Frequency bands in Hz for ``by="band"``; None means the package's default bands
        (delta 1-4, theta 4-8, alpha 8-14, beta 14-31 and gamma 31-50 Hz, those of
        :class:`~skemotion.features.DifferentialEntropy`).
    ch_names : sequence of str or None, default=None
        Channel names returned with the result (``"0"``, ``"1"`` ... when None).
    n_jobs : int or None, default=None
        Channels scored in parallel by joblib (-1: all cores; None: one, unless in a
        ``joblib.parallel_config`` context).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch` or dict of Bunch
        With a single metric, a Bunch (a dict of several metrics' Bunches otherwise) holding

        - ``importances_mean``: ndarray of shape (n_channels,) (``(n_channels, n_bands)``
          with ``by="band"``), the mean drop of score over the repeats;
        - ``importances_std``: the standard deviation over the repeats, same shape;
        - ``importances``: ndarray of shape (n_channels, n_repeats) (``(n_channels,
          n_bands, n_repeats)`` with ``by="band"``), the raw drops;
        - ``ch_names``: list of the channel names;
        - ``band_names`` (``by="band"`` only): list of the band names.

    See Also
    --------
    sklearn.inspection.permutation_importance : the same for the columns of a 2-D X.
    attribute : gradient attributions of a deep classifier, per window and time sample.

    Notes
    -----
    A channel correlated with another one (volume conduction spreads the sources over
    neighbouring electrodes) can look unimportant when the model can read the same
    information from its neighbour, as with correlated features in scikit-learn; compare
    groups of channels, or regions, when that matters.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skemotion.datasets import make_eeg_emotion
    >>> from skemotion.features import DifferentialEntropy
    >>> from skemotion.inspection import channel_importance
    >>> data = make_eeg_emotion("emotiv14", n_subjects=2, effect_size=3.0, random_state=0)
    >>> model = make_pipeline(DifferentialEntropy(data.sfreq, flatten=True),
    ...                       LogisticRegression(max_iter=1000)).fit(data.X, data.y)
    >>> result = channel_importance(model, data.X, data.y, n_repeats=2, random_state=0,
    ...                             ch_names=data.ch_names)
    >>> result.importances.shape, len(result.ch_names)
    ((14, 2), 14)
    >>> bands = channel_importance(model, data.X, data.y, n_repeats=1, by="band",
    ...                            sfreq=data.sfreq, random_state=0)
    >>> bands.importances_mean.shape, bands.band_names
    ((14, 5), ['delta', 'theta', 'alpha', 'beta', 'gamma'])
    """
    if by not in ("channel", "band"):
        raise ValueError(f"{_NAME}: argument by must be 'channel' or 'band'; got {by!r}.")
    X = check_windows(_NAME, X, finite=by == "band")
    n_windows, n_channels, n_times = X.shape
    if y is None:
        raise ValueError(f"{_NAME}: argument y is None; pass the targets of the windows.")
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != n_windows:
        raise ValueError(
            f"{_NAME}: argument y must hold one target per window ({n_windows}); got shape "
            f"{y.shape}."
        )
    n_repeats = check_positive_int(_NAME, n_repeats, "n_repeats")
    names = check_ch_names(_NAME, ch_names, n_channels)
    if by == "band":
        if sfreq is None:
            raise ValueError(
                f"{_NAME}: argument sfreq is None; by='band' needs the sampling frequency of X "
                "in Hz."
            )
        sfreq = check_sfreq(_NAME, sfreq)
        band_names, edges = check_bands(bands, _NAME, sfreq=sfreq)
    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise NotFittedError(f"{_NAME}: argument estimator: {exc}") from exc
    except TypeError as exc:
        raise TypeError(
            f"{_NAME}: argument estimator must be a fitted estimator; got {estimator!r}."
        ) from exc
    scorer = _scorer(estimator, scoring, groups)
    target = estimator
    if groups is not None:
        groups = check_ids(_NAME, groups, n_windows, "groups", "subject id")
        if not _predict_takes_groups(estimator):
            raise ValueError(
                f"{_NAME}: argument groups is given but {type(estimator).__name__}.predict does "
                "not take groups; groups are for estimators whose prediction uses them (a deep "
                "classifier with adapt_bn='subject', a Pipeline routing them with metadata "
                "routing enabled: sklearn.set_config(enable_metadata_routing=True) and "
                "set_transform_request(groups=True) on its aligner). Leave groups=None "
                "otherwise."
            )
        target = _WithGroups(estimator, groups)

    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max + 1)
    baseline = scorer(target, X, y)
    parallel = Parallel(n_jobs=n_jobs)
    extra = {"ch_names": names}
    if by == "channel":
        scores = parallel(
            delayed(_channel_scores)(target, X, y, c, seed, n_repeats, scorer)
            for c in range(n_channels)
        )
    else:
        ranges = band_bin_ranges(n_times, sfreq, edges)
        scores = parallel(
            delayed(_band_scores)(target, X, y, c, ranges, seed, n_repeats, scorer)
            for c in range(n_channels)
        )
        extra["band_names"] = list(band_names)
    if isinstance(baseline, dict):
        return {key: _bunch(baseline[key], _pick(scores, key), **extra) for key in baseline}
    return _bunch(baseline, scores, **extra)
