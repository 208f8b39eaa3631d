"""Label-free, per-subject alignment of EEG windows for cross-subject transfer.

Two alignments, each a pure function over a batch of windows and a thin transformer around it:

- Euclidean alignment (He & Wu 2020): every window of a subject is whitened by the inverse
  square root of that subject's mean spatial covariance, so every subject's mean covariance
  becomes the identity;
- subject standardisation: every channel of a subject is centred and scaled with that subject's
  own statistics (mean and standard deviation, median and interquartile range, or SSL-ECG's
  mean and standard deviation of the samples between two percentiles).

Both are *transductive*: the statistics of a subject are computed from the windows of that
subject passed to the call, never from labels, and nothing crosses subjects.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np

from .._validation import Interval, check_ids, num_samples
from ..features._base import SignalTransformerMixin, like_input

#: interquartile range of the standard normal distribution (2 * 0.6744897501960817)
_NORMAL_IQR = 1.3489795003921634


def _check_groups(name: str, groups, n_windows: int) -> np.ndarray:
    """Return ``groups`` as a 1-D array of length ``n_windows`` or raise a named error."""
    return check_ids(name, groups, n_windows, "groups", "subject")


def _per_subject(name: str, X, groups, func):
    """``func(X_s, subject)`` for every subject's windows ``X_s``, into one array of X's dtype.

    One subject (``None``) when ``groups`` is None; a loop over subjects, never over windows.
    """
    out = np.empty(X.shape, dtype=X.dtype)
    if groups is None:
        out[...] = func(X, None)
        return out
    g = _check_groups(name, groups, X.shape[0])
    for subject in np.unique(g):
        sel = g == subject
        out[sel] = func(X[sel], subject)
    return out


def _as_3d_float(name: str, X):
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(
            f"{name}: argument X must be 3-D (n_windows, n_channels, n_times); got an array "
            f"with shape {X.shape}."
        )
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{name}: argument X contains NaN or infinity.")
    return X


def mean_covariance(X) -> np.ndarray:
    """Mean spatial covariance ``mean_i X_i X_i^T / n_times`` of a batch of windows.

    This is the reference matrix of Euclidean alignment (the arithmetic mean of the windows'
    covariances). Windows are not centred: as in the paper, they are expected to be band-pass
    filtered (zero-mean) already.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_channels, n_times)

    Returns
    -------
    cov : ndarray of shape (n_channels, n_channels), float64

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.transfer import mean_covariance
    >>> X = np.array([[[1.0, -1.0], [2.0, 0.0]]])  # one window, 2 channels x 2 samples
    >>> mean_covariance(X)
    array([[1., 1.],
           [1., 2.]])
    """
    X = _as_3d_float("mean_covariance", X)
    n_windows, n_channels, n_times = X.shape
    # all windows side by side along time: one (C, n T) x (n T, C) product, no loop
    Xc = np.moveaxis(X.astype(np.float64, copy=False), 1, 0).reshape(n_channels, -1)
    return (Xc @ Xc.T) / (n_windows * n_times)


def _inv_sqrt_reference(name: str, X, shrinkage: float, subject) -> np.ndarray:
    """``R^(-1/2)`` of the (shrunk) mean covariance of ``X``."""
    cov = mean_covariance(X)
    n_channels = cov.shape[0]
    mu = np.trace(cov) / n_channels
    if subject is None:
        who = "the windows"
    else:
        who = f"subject {getattr(subject, 'item', lambda: subject)()!r}"  # 3, not np.int64(3)
    if not mu > 0:
        raise ValueError(
            f"{name}: the mean covariance of {who} is zero (every sample is 0); Euclidean "
            "alignment needs signal power."
        )
    cov = (1.0 - shrinkage) * cov + shrinkage * mu * np.eye(n_channels)
    evals, evecs = np.linalg.eigh(cov)
    # relative floor: eigenvalues below it make the whitening blow up numerical noise
    if evals[0] <= 1e-10 * evals[-1]:
        rank = int(np.sum(evals > 1e-10 * evals[-1]))
        raise ValueError(
            f"{name}: the mean covariance of {who} is singular (numerical rank {rank} of "
            f"{n_channels} channels, e.g. average-referenced data or fewer samples than "
            f"channels) with shrinkage={shrinkage}; set shrinkage > 0, e.g. 0.01."
        )
    return (evecs * evals**-0.5) @ evecs.T


def euclidean_alignment(X, groups=None, *, shrinkage: float = 0.0):
    """Euclidean alignment: whiten each subject's windows by its mean covariance ``R^(-1/2)``.

    For every subject s with windows ``X_i`` (He & Wu 2020)::

        R_s = mean_i X_i X_i^T / n_times
        R_s <- (1 - shrinkage) R_s + shrinkage * (trace(R_s) / n_channels) * I
        X_i <- R_s^(-1/2) X_i

    so that, without shrinkage, the mean covariance of every aligned subject is exactly the
    identity. Label-free and per subject: applying it to a whole dataset before a subject-wise
    (``LeaveOneGroupOut``) evaluation leaks nothing across subjects.

    Parameters
    ----------
    X : array-like of shape (n_windows, n_channels, n_times)
        Band-pass filtered (zero-mean) windows.
    groups : array-like of shape (n_windows,), default=None
        Subject of every window; None treats all windows as one subject.
    shrinkage : float in [0, 1], default=0.0
        Weight of the scaled identity mixed into each reference (a regularised covariance for
        short or rank-deficient data). 0 is the method as published.

    Returns
    -------
    X_out : ndarray of shape (n_windows, n_channels, n_times)
        Float64, or float32 when X is float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.transfer import euclidean_alignment, mean_covariance
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(10, 3, 50)) * [[1.0], [5.0], [0.1]]
    >>> np.round(mean_covariance(euclidean_alignment(X)), 6) + 0.0
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    """
    name = "euclidean_alignment"
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, Real) or not 0 <= shrinkage <= 1:
        raise ValueError(
            f"{name}: argument shrinkage must be a number in [0, 1]; got {shrinkage!r}."
        )
    X = _as_3d_float(name, X)

    def align(Xs, subject):
        W = _inv_sqrt_reference(name, Xs, float(shrinkage), subject)
        return np.matmul(W, Xs)  # (C, C) @ (n, C, T) -> (n, C, T)

    return _per_subject(name, X, groups, align)


def check_percentile_range(percentile_range, where: str) -> None:
    """Two percentiles ``0 <= low < high <= 100`` (real numbers, not bools)."""
    pr = percentile_range
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


def _check_scale_options(robust, percentile_range, where: str) -> None:
    if percentile_range is None:
        return
    check_percentile_range(percentile_range, where)
    if robust:
        raise ValueError(
            f"{where}: arguments robust=True and percentile_range={percentile_range!r} choose "
            "two different scales; set one of them (the median and IQR, or the standard "
            "deviation between the percentiles)."
        )


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
    check_percentile_range(percentile_range, "robust_zscore_stats")
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


def _center_scale(Xs, robust: bool, percentile_range):
    """Per-channel centre and scale of one subject's float64 windows."""
    if percentile_range is not None:
        return robust_zscore_stats(Xs, percentile_range)
    if robust:
        q1, med, q3 = np.percentile(Xs, [25, 50, 75], axis=(0, 2))
        center, scale = med, (q3 - q1) / _NORMAL_IQR
    else:
        center, scale = Xs.mean(axis=(0, 2)), Xs.std(axis=(0, 2))
    return center, np.where(scale > 0, scale, 1.0)


def subject_standardize(X, groups=None, *, robust: bool = False, percentile_range=None):
    """Standardise every channel of every subject with that subject's own statistics.

    For subject s and channel c, over all samples of all windows of s::

        X[s, c] <- (X[s, c] - center_sc) / scale_sc

    with ``center`` the mean and ``scale`` the standard deviation; with ``robust=True`` the
    median and the interquartile range divided by 1.349 (the IQR of a standard normal, so both
    options give unit variance on Gaussian data); with ``percentile_range=(low, high)`` the
    mean and the standard deviation of the samples between those two percentiles (SSL-ECG's
    per-person robust z-score, ``(2.5, 97.5)`` in the paper). A scale of 0 (a flat channel) is
    replaced by 1. Label-free and per subject.

    Parameters
    ----------
    X : array-like of shape (n_windows, n_channels, n_times)
    groups : array-like of shape (n_windows,), default=None
        Subject of every window; None treats all windows as one subject.
    robust : bool, default=False
        Median and IQR instead of mean and standard deviation.
    percentile_range : tuple of 2 float or None, default=None
        Percentiles bounding the samples of the standard deviation (see above); not together
        with ``robust=True``.

    Returns
    -------
    X_out : ndarray of shape (n_windows, n_channels, n_times)
        Float64, or float32 when X is float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.transfer import subject_standardize
    >>> X = np.array([[[1.0, 3.0]], [[10.0, 30.0]]])  # 2 subjects, 1 window each
    >>> subject_standardize(X, groups=[0, 1])
    array([[[-1.,  1.]],
    <BLANKLINE>
           [[-1.,  1.]]])
    """
    name = "subject_standardize"
    _check_scale_options(robust, percentile_range, name)
    X = _as_3d_float(name, X)

    def standardize(Xs, subject):
        Xs = Xs.astype(np.float64, copy=False)
        center, scale = _center_scale(Xs, robust, percentile_range)
        return (Xs - center[:, None]) / scale[:, None]

    return _per_subject(name, X, groups, standardize)


class PooledSubjectsWarning(UserWarning):
    """An alignment step was trained on windows without their subjects.

    All the windows were then aligned as one subject, which is right only when they come from
    one subject. Raised by ``fit_transform`` of :class:`EuclideanAlignment` and
    :class:`SubjectStandardizer` called without groups: the case of
    ``GridSearchCV(...).fit(X, y, groups=subjects)`` with metadata routing off, which gives
    the subjects to the splitter only.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skemotion.transfer import EuclideanAlignment, PooledSubjectsWarning
    >>> X = np.random.default_rng(0).normal(size=(6, 2, 32))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = EuclideanAlignment().fit_transform(X)
    >>> [w.category.__name__ for w in caught]
    ['PooledSubjectsWarning']
    >>> _ = EuclideanAlignment().fit_transform(X, groups=[0, 0, 0, 1, 1, 1])  # no warning
    """


def _warn_if_pooled(estimator, n_windows: int) -> None:
    """Warn when a training call aligns several windows without groups: inside
    ``GridSearchCV(...).fit(X, y, groups=subjects)`` or ``cross_val_score(...,
    groups=subjects)`` with metadata routing off, the groups reach the splitter only, and the
    step would silently align all the training subjects as one."""
    if n_windows < 2:
        return
    name = type(estimator).__name__
    warnings.warn(
        f"{name}: trained on {n_windows} windows without groups, so all of them were aligned as "
        "ONE subject. If they come from several subjects, give the subjects to this step: "
        f"{name}().fit_transform(X, groups=subjects); inside GridSearchCV or cross_val_score, "
        "where groups=subjects reaches the splitter only, turn metadata routing on: "
        "sklearn.set_config(enable_metadata_routing=True), "
        f"{name}().set_fit_request(groups=True).set_transform_request(groups=True), then "
        "search.fit(X, y, groups=subjects) or cross_val_score(..., params={'groups': "
        "subjects}). Windows of one subject need nothing (silence this with "
        "warnings.simplefilter('ignore', skemotion.transfer.PooledSubjectsWarning)).",
        PooledSubjectsWarning,
        stacklevel=3,
    )


class _SubjectAlignmentMixin(SignalTransformerMixin):
    """Shared shell: validation, ``groups`` handling, 2-D in gives 2-D out, and the output
    contract of :class:`~skemotion.features._base.SignalTransformerMixin` (the input feature
    names out, a DataFrame only for a 2-D X).

    Subclasses return their functional form and its keyword arguments from ``_function()``;
    it runs on the validated float 3-D windows.
    """

    def fit(self, X, y=None, groups=None):
        """Validate the windows (and groups) and record the number of channels.

        Nothing is learned from the data: the statistics of a subject are computed from the
        windows passed to :meth:`transform` (see the class description).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows; a 2-D X holds single-channel windows.
        y : None
            Ignored (the alignment is label-free).
        groups : array-like of shape (n_windows,), default=None
            Subject of every window; only checked here.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X3 = self._fit_checks(X)
        if groups is not None:
            _check_groups(type(self).__name__, groups, X3.shape[0])
        return self

    def transform(self, X, groups=None):
        """Align the windows, each subject with its own statistics.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows with the number of channels seen in fit (any length).
        groups : array-like of shape (n_windows,), default=None
            Subject of every window. None treats all the windows passed as one subject.

        Returns
        -------
        X_out : ndarray of the shape of X
            Float64, or float32 when X is float32.
        """
        X3, two_d = self._validate(X, reset=False)
        if groups is not None:
            groups = _check_groups(type(self).__name__, groups, X3.shape[0])
        return like_input(self._align(X3, groups), two_d)

    def fit_transform(self, X, y=None, groups=None):
        """Fit, then transform the same windows with the same ``groups``.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows; a 2-D X holds single-channel windows.
        y : None
            Ignored.
        groups : array-like of shape (n_windows,), default=None
            Subject of every window; None treats all windows as one subject.

        Returns
        -------
        X_out : ndarray of the shape of X
            The aligned windows: float64, or float32 when X is float32.
        """
        self.fit(X, y, groups=groups)
        if groups is None:
            _warn_if_pooled(self, num_samples(X))
        return self.transform(X, groups=groups)

    def _align(self, X3, groups):
        """Call the functional form, naming the estimator instead of the function in errors."""
        func, kwargs = self._function()
        return _run_named(type(self).__name__, func, X3, groups, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class EuclideanAlignment(_SubjectAlignmentMixin):
    """Euclidean alignment of EEG windows per subject (He & Wu, IEEE TBME 2020).

    Every subject's windows are whitened by the inverse square root of that subject's mean
    spatial covariance ``R_s = mean_i X_i X_i^T / n_times``, ``X_i <- R_s^(-1/2) X_i``, so that
    each aligned subject has the identity as mean covariance: the subjects' second-order
    statistics are made comparable before any classifier sees them.

    The alignment is *transductive* and label-free: :meth:`transform` computes every subject's
    statistics from that subject's windows in the call itself (``fit`` only validates and
    records the number of channels), and ``y`` is never used. It is therefore the same whether
    it runs on the training or the test windows, and safe for subject-wise evaluation as long as
    the windows passed at test time belong to the test subject(s) only.

    ``groups`` (one subject id per window) reaches ``fit``, ``transform`` and ``fit_transform``
    through scikit-learn's metadata routing: with
    ``sklearn.set_config(enable_metadata_routing=True)`` (or ``sklearn.config_context``), use
    ``EuclideanAlignment().set_fit_request(groups=True).set_transform_request(groups=True)`` in a
    ``Pipeline``; then ``pipe.fit(X, y, groups=groups)``, ``cross_val_score(pipe, X, y,
    cv=LeaveOneGroupOut(), params={"groups": groups})`` and ``GridSearchCV(pipe, ...).fit(X,
    y, groups=groups)`` align every training subject on its own; ``pipe.predict(X,
    groups=groups)`` does the same at test time. Without routing, pass the groups to the step
    by name: ``pipe.fit(X, y, <step>__groups=groups)``, ``cross_val_score(pipe, X, y,
    groups=groups, cv=LeaveOneGroupOut(), params={"<step>__groups": groups})``,
    ``GridSearchCV(...).fit(X, y, groups=groups, <step>__groups=groups)``; ``pipe.predict(X)``
    then calls ``transform`` without groups.

    Without groups, :meth:`transform` treats all the windows passed as **one subject**. That is
    exact for the test fold of ``LeaveOneGroupOut`` (one unseen subject, aligned with its own
    statistics). Scikit-learn's scorers (``scoring="balanced_accuracy"``, ``make_scorer``, a
    callable) call ``predict(X_test)`` without metadata, even with routing on; only the default
    scoring (the estimator's own ``score``) routes ``groups`` to ``transform``. So with a test
    fold of several subjects (``GroupKFold``) and a named scorer, the test subjects are aligned
    together: use ``LeaveOneGroupOut``, the default scoring, or predict with ``groups``
    yourself. Because the statistics come from the call, transforming a subset of a subject's
    windows gives a different result from transforming all of them.

    Parameters
    ----------
    shrinkage : float in [0, 1], default=0.0
        Regularisation of each reference covariance,
        ``R <- (1 - shrinkage) R + shrinkage * (trace(R) / n_channels) I``, for short windows
        or rank-deficient data (average-referenced recordings, fewer samples than channels),
        for which ``shrinkage=0`` raises a ``ValueError``. A few percent (0.01-0.1) is usually
        enough; the mean covariance of the aligned data is then close to, not exactly, the
        identity. 0 is the published method.

    Attributes
    ----------
    n_channels_ : int
        Number of channels seen in fit.
    n_features_in_ : int
        ``X.shape[1]`` as passed to fit (channels, or samples for a 2-D X).

    See Also
    --------
    euclidean_alignment : the same alignment as a function.
    mean_covariance : the reference matrix.
    SubjectStandardizer : per-subject, per-channel standardisation.

    Notes
    -----
    Windows are not centred before the covariance (as in the paper): band-pass filter them
    first, or the channel offsets dominate the reference. The whitening mixes channels
    (``R^(-1/2)`` is symmetric, so it stays close to the identity when channels are weakly
    correlated). Each reference needs an eigendecomposition of a ``(n_channels, n_channels)``
    matrix per subject; the windows are aligned with one batched product.

    The output has the shape of X. :meth:`get_feature_names_out` returns the input feature
    names (the channels of a 3-D X, the columns of a 2-D X); ``set_output(transform="pandas")``
    gives a DataFrame for a 2-D X and leaves 3-D windows an array.

    References
    ----------
    H. He and D. Wu, "Transfer learning for brain-computer interfaces: a Euclidean space data
    alignment approach", IEEE Transactions on Biomedical Engineering 67(2):399-410, 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.transfer import EuclideanAlignment, mean_covariance
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(8, 2, 64))
    >>> X[4:] *= 10.0  # a second subject with ten times the amplitude
    >>> groups = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> Z = EuclideanAlignment().fit_transform(X, groups=groups)
    >>> [bool(np.allclose(mean_covariance(Z[g]), np.eye(2))) for g in (slice(0, 4), slice(4, 8))]
    [True, True]
    """

    _parameter_constraints: dict = {"shrinkage": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, *, shrinkage=0.0):
        self.shrinkage = shrinkage

    def _function(self):
        return euclidean_alignment, {"shrinkage": self.shrinkage}


class SubjectStandardizer(_SubjectAlignmentMixin):
    """Per-subject, per-channel standardisation of EEG or ECG windows.

    Every channel of every subject is centred and scaled with that subject's statistics over
    all its windows and time samples: mean and standard deviation; or (``robust=True``) median
    and interquartile range / 1.349, which blinks and muscle bursts do not inflate; or
    (``percentile_range=(2.5, 97.5)``) the mean and the standard deviation of the samples
    between the two percentiles, the per-person robust z-score of SSL-ECG (Sarkar and Etemad,
    2020), which R peaks do not inflate. This removes subject-specific channel offsets and
    gains (impedance, skull thickness, electrode placement) without mixing channels.

    Like :class:`EuclideanAlignment`, it is *transductive* and label-free: :meth:`transform`
    computes every subject's statistics from that subject's windows in the call itself
    (``fit`` only validates), ``y`` is never used, and ``groups`` (one subject id per window)
    reaches ``fit``, ``transform`` and ``fit_transform`` through metadata routing
    (``SubjectStandardizer().set_fit_request(groups=True).set_transform_request(groups=True)``)
    or by step name; see :class:`EuclideanAlignment` for the recipes with ``Pipeline``,
    ``cross_val_score`` and ``GridSearchCV``.

    Without groups, :meth:`transform` treats all the windows passed as **one subject**. This
    is the one behaviour without groups, chosen over standardising with statistics learned in
    ``fit``: the test fold of ``LeaveOneGroupOut`` is one unseen subject, scikit-learn's
    scorers call ``predict(X_test)`` without metadata, and statistics of the training subjects
    would then scale the test subject with someone else's offsets and gains, which is what a
    per-subject standardisation exists to remove (and the training subjects, routed with their
    groups, would be scaled another way than the test subject). With a test fold of several
    subjects and a named scorer they are standardised together (see
    :class:`EuclideanAlignment`); transforming a few windows uses the statistics of those
    windows only.

    Parameters
    ----------
    robust : bool, default=False
        Use the median and the interquartile range divided by 1.349 (the IQR of a standard
        normal, so both options give unit variance on Gaussian data) instead of the mean and
        the standard deviation.
    percentile_range : tuple of 2 float or None, default=None
        ``(low, high)`` percentiles, ``0 <= low < high <= 100``: the scale is the standard
        deviation of the samples between them (the centre stays the mean of all samples);
        ``(2.5, 97.5)`` is SSL-ECG's normalisation. Not together with ``robust=True``. A zero
        scale (flat channel) is replaced by 1 in every option.

    Attributes
    ----------
    n_channels_ : int
        Number of channels seen in fit.
    n_features_in_ : int
        ``X.shape[1]`` as passed to fit (channels, or samples for a 2-D X).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names when a 2-D X was a DataFrame.

    See Also
    --------
    subject_standardize : the same standardisation as a function.
    EuclideanAlignment : per-subject spatial whitening.
    skemotion.ssl.person_zscore : SSL-ECG's normalisation as a function (float32 out).

    Notes
    -----
    It replaces ``skemotion.ssl.PersonZScore`` (deprecated, removed in the next release):
    ``PersonZScore()`` is ``SubjectStandardizer(percentile_range=(2.5, 97.5))``.

    The output has the shape and float dtype of X. :meth:`get_feature_names_out` returns the
    input feature names (the channels of a 3-D X, the columns of a 2-D X);
    ``set_output(transform="pandas")`` gives a DataFrame for a 2-D X and leaves 3-D windows an
    array.

    References
    ----------
    P. Sarkar and A. Etemad, "Self-supervised ECG representation learning for emotion
    recognition", IEEE Transactions on Affective Computing 13(3):1541-1554, 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.transfer import SubjectStandardizer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(8, 2, 64))
    >>> X[4:] = 10.0 * X[4:] + 3.0  # a second subject: other gain and offset
    >>> Z = SubjectStandardizer().fit_transform(X, groups=[0, 0, 0, 0, 1, 1, 1, 1])
    >>> Z[4:].std(axis=(0, 2)).round(6), Z[4:].mean(axis=(0, 2)).round(6) + 0.0
    (array([1., 1.]), array([0., 0.]))
    """

    _parameter_constraints: dict = {"robust": ["boolean"], "percentile_range": [None, tuple, list]}

    def __init__(self, *, robust=False, percentile_range=None):
        self.robust = robust
        self.percentile_range = percentile_range

    def _check_params(self):
        _check_scale_options(self.robust, self.percentile_range, type(self).__name__)

    def _function(self):
        return subject_standardize, {
            "robust": self.robust,
            "percentile_range": self.percentile_range,
        }


def _run_named(name: str, func, *args, **kwargs):
    """Call ``func``, naming ``name`` (an estimator or a function) instead of it in errors."""
    try:
        return func(*args, **kwargs)
    except ValueError as exc:
        msg = str(exc)
        prefix = f"{func.__name__}: "
        if msg.startswith(prefix):
            raise ValueError(f"{name}: {msg[len(prefix) :]}") from None
        raise
