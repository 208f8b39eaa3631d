"""Subject alignment (skemotion.transfer): values, label-freeness, routing, estimator checks."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skemotion.transfer import (
    EuclideanAlignment,
    PooledSubjectsWarning,
    SubjectStandardizer,
    euclidean_alignment,
    mean_covariance,
    subject_standardize,
)

ESTIMATORS = [EuclideanAlignment, SubjectStandardizer]


def _corpus(n_subjects=3, n_windows=8, n_channels=4, n_times=64, seed=0):
    """Windows of shared sources seen through a different mixing, gain and offset per subject.

    The class changes the variance of the first source, so a log-variance classifier can learn.
    """
    rng = np.random.default_rng(seed)
    X, y, g = [], [], []
    for s in range(n_subjects):
        mixing = np.eye(n_channels) + 0.5 * rng.standard_normal((n_channels, n_channels))
        gain = np.exp(rng.normal(0, 0.5))
        for w in range(n_windows):
            label = w % 2
            src = rng.standard_normal((n_channels, n_times))
            src[0] *= 1.0 + 1.5 * label
            X.append(gain * mixing @ src)
            y.append(label)
            g.append(s)
    return np.asarray(X), np.asarray(y), np.asarray(g)


def _ref_mean_cov(X):
    """Reference: the mean of the windows' covariances, one window at a time."""
    return np.mean([x @ x.T / x.shape[1] for x in X], axis=0)


def log_var(Z):
    """Log-variance per channel: a tiny feature extractor for the pipeline tests."""
    return np.log(np.var(Z, axis=-1))


def _pipe(align):
    return Pipeline(
        [("align", align), ("feat", FunctionTransformer(log_var)), ("lr", LogisticRegression())]
    )


# --- values ---------------------------------------------------------------------------------


def test_mean_covariance_against_loop():
    X, _, _ = _corpus()
    np.testing.assert_allclose(mean_covariance(X), _ref_mean_cov(X), rtol=1e-12)


def test_euclidean_alignment_against_scipy_sqrtm():
    X, _, g = _corpus()
    Z = EuclideanAlignment().fit_transform(X, groups=g)
    for s in np.unique(g):
        R = _ref_mean_cov(X[g == s])
        W = np.linalg.inv(scipy.linalg.sqrtm(R).real)
        expected = np.stack([W @ x for x in X[g == s]])
        np.testing.assert_allclose(Z[g == s], expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("shrinkage", [0.05, 0.5, 1.0])
def test_euclidean_alignment_shrinkage_against_scipy(shrinkage):
    X, _, g = _corpus()
    Z = euclidean_alignment(X, g, shrinkage=shrinkage)
    for s in np.unique(g):
        R = _ref_mean_cov(X[g == s])
        C = R.shape[0]
        R_reg = (1 - shrinkage) * R + shrinkage * np.trace(R) / C * np.eye(C)
        W = scipy.linalg.fractional_matrix_power(R_reg, -0.5).real
        np.testing.assert_allclose(Z[g == s], W @ X[g == s], rtol=1e-9, atol=1e-10)
        # closed form of the aligned mean covariance: eigenvalues l / ((1 - a) l + a mu)
        lam = np.linalg.eigvalsh(R)
        mu = lam.mean()
        np.testing.assert_allclose(
            np.linalg.eigvalsh(_ref_mean_cov(Z[g == s])),
            np.sort(lam / ((1 - shrinkage) * lam + shrinkage * mu)),
            rtol=1e-9,
        )


def test_each_subject_mean_covariance_is_identity():
    X, _, g = _corpus(n_subjects=4)
    before = [_ref_mean_cov(X[g == s]) for s in range(4)]
    assert max(np.abs(b - np.eye(4)).max() for b in before) > 0.5  # far from it before
    Z = EuclideanAlignment().fit_transform(X, groups=g)
    for s in range(4):
        np.testing.assert_allclose(_ref_mean_cov(Z[g == s]), np.eye(4), atol=1e-10)
    # float32 in, float32 out, same result within float32 precision
    Z32 = EuclideanAlignment().fit_transform(X.astype(np.float32), groups=g)
    assert Z32.dtype == np.float32
    np.testing.assert_allclose(Z32, Z, rtol=1e-4, atol=1e-5)
    for s in range(4):
        np.testing.assert_allclose(_ref_mean_cov(Z32[g == s]), np.eye(4), atol=1e-5)


def test_subject_standardizer_against_numpy_and_scipy():
    X, _, g = _corpus()
    X = X + np.arange(4)[:, None]  # channel offsets
    Z = SubjectStandardizer().fit_transform(X, groups=g)
    Zr = SubjectStandardizer(robust=True).fit_transform(X, groups=g)
    for s in np.unique(g):
        for c in range(X.shape[1]):
            x = X[g == s, c].ravel()
            np.testing.assert_allclose(Z[g == s, c].ravel(), (x - x.mean()) / x.std(), rtol=1e-10)
            iqr = scipy.stats.iqr(x, scale="normal")  # IQR / 1.349
            np.testing.assert_allclose(Zr[g == s, c].ravel(), (x - np.median(x)) / iqr, rtol=1e-10)
    # a flat channel is centred, not divided by zero
    Xf = X.copy()
    Xf[:, 1] = 7.0
    for robust in (False, True):
        out = subject_standardize(Xf, g, robust=robust)
        assert np.isfinite(out).all() and np.all(out[:, 1] == 0.0)


def test_without_groups_is_one_subject():
    """transform(X) without groups: all windows passed are one subject (the LOSO test fold)."""
    X, _, g = _corpus()
    for est, func in [
        (EuclideanAlignment(), euclidean_alignment),
        (SubjectStandardizer(), subject_standardize),
    ]:
        est.fit(X[g != 2], groups=g[g != 2])
        test = X[g == 2]
        out = est.transform(test)
        np.testing.assert_allclose(out, est.transform(test, groups=g[g == 2]), rtol=1e-12)
        np.testing.assert_allclose(out, func(test), rtol=1e-12)
        # several subjects without groups are aligned together, not one by one
        assert not np.allclose(est.transform(X), est.transform(X, groups=g))
        # fitting on other subjects does not change the test alignment (nothing is learned)
        other = type(est)().fit(X[:3])
        np.testing.assert_allclose(other.transform(test), out, rtol=1e-12)


def test_two_d_input_any_length_and_pickle():
    X, _, g = _corpus()
    est = EuclideanAlignment().fit(X[:, 0], groups=g)
    out = est.transform(X[:, 0], groups=g)
    assert out.shape == X[:, 0].shape
    for s in np.unique(g):  # one channel: division by the subject's RMS
        np.testing.assert_allclose(np.mean(out[g == s] ** 2), 1.0, rtol=1e-10)
    # 3-D windows of another length than in fit are accepted (the alignment is per call)
    est3 = EuclideanAlignment().fit(X, groups=g)
    assert est3.transform(X[..., :32], groups=g).shape == (len(X), 4, 32)
    loaded = pickle.loads(pickle.dumps(est3))
    np.testing.assert_array_equal(loaded.transform(X, groups=g), est3.transform(X, groups=g))


# --- label-free, inputs untouched -----------------------------------------------------------


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_labels_never_used(Est):
    X, y, g = _corpus()
    rng = np.random.default_rng(1)
    y_perm = rng.permutation(y)
    assert not np.array_equal(y_perm, y)
    ref = Est().fit_transform(X, y, groups=g)
    np.testing.assert_array_equal(Est().fit_transform(X, y_perm, groups=g), ref)
    np.testing.assert_array_equal(Est().fit(X, y_perm, groups=g).transform(X, groups=g), ref)
    np.testing.assert_array_equal(Est().fit(X, 1 - y, groups=g).transform(X, groups=g), ref)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inputs_never_modified(Est, dtype):
    X, y, g = _corpus()
    X = X.astype(dtype)
    g = g.astype(float)
    X0, y0, g0 = X.copy(), y.copy(), g.copy()
    est = Est().fit(X, y, groups=g)
    out = est.transform(X, groups=g)
    out2 = est.fit_transform(X, y, groups=g)
    est.transform(X)
    out[...] = 0.0  # the output is not a view of the input
    out2[...] = 0.0
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(g, g0)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_bad_input_named_errors(Est):
    name = Est.__name__
    X, y, g = _corpus()
    Xnan = X.copy()
    Xnan[0, 1, 2] = np.nan
    Xinf = X.copy()
    Xinf[3, 0, 0] = np.inf
    for bad in (Xnan, Xinf):
        with pytest.raises(ValueError, match=f"{name}: argument X contains NaN or infinity"):
            Est().fit(bad, groups=g)
        with pytest.raises(ValueError, match=f"{name}: argument X contains NaN or infinity"):
            Est().fit(X).transform(bad)
    est = Est().fit(X, groups=g)
    msg = rf"{name}: argument groups must have shape \({len(X)},\)"
    with pytest.raises(ValueError, match=msg):
        Est().fit(X, groups=g[:-1])
    with pytest.raises(ValueError, match=msg):
        est.transform(X, groups=g[:-1])
    with pytest.raises(ValueError, match=msg):
        est.fit_transform(X, groups=np.c_[g, g])
    g_nan = g.astype(float)
    g_nan[4] = np.nan
    with pytest.raises(ValueError, match=f"{name}: argument groups contains missing values"):
        est.transform(X, groups=g_nan)
    with pytest.raises(ValueError, match=f"{name}: argument X has 3 channels, but .* 4"):
        est.transform(X[:, :3])
    with pytest.raises(ValueError, match=f"{name}: argument X must be .*3-D"):
        est.transform(X[..., None])


def test_bad_parameters_and_singular_reference():
    X, _, g = _corpus()
    for bad in (-0.1, 1.5, "auto"):
        with pytest.raises(ValueError, match="shrinkage.*EuclideanAlignment"):
            EuclideanAlignment(shrinkage=bad).fit(X)
    with pytest.raises(ValueError, match="robust.*SubjectStandardizer"):
        SubjectStandardizer(robust="yes").fit(X)
    with pytest.raises(ValueError, match="euclidean_alignment: argument shrinkage"):
        euclidean_alignment(X, shrinkage=2.0)
    Xnan = X.copy()
    Xnan[1, 2, 3] = np.nan
    for func in (euclidean_alignment, subject_standardize, mean_covariance):
        with pytest.raises(ValueError, match=f"{func.__name__}: argument X contains NaN"):
            func(Xnan)
        with pytest.raises(ValueError, match=f"{func.__name__}: argument X must be 3-D"):
            func(X[0])
    with pytest.raises(ValueError, match=r"subject_standardize: argument groups must have shape"):
        subject_standardize(X, g[:3])
    # average reference: rank n_channels - 1
    X_car = X - X.mean(axis=1, keepdims=True)
    with pytest.raises(ValueError, match=r"EuclideanAlignment: .*subject 0 is singular.*shrinkage"):
        EuclideanAlignment().fit_transform(X_car, groups=g)
    Z = EuclideanAlignment(shrinkage=0.01).fit_transform(X_car, groups=g)
    assert np.isfinite(Z).all()
    # aligned mean covariance: 0 on the null direction, l / (0.99 l + 0.01 mu) elsewhere
    for s in np.unique(g):
        lam = np.linalg.eigvalsh(_ref_mean_cov(X_car[g == s]))
        evals = np.linalg.eigvalsh(_ref_mean_cov(Z[g == s]))
        assert abs(evals[0]) < 1e-12
        np.testing.assert_allclose(evals[1:], lam[1:] / (0.99 * lam[1:] + 0.01 * lam.mean()))
    # one short window (fewer samples than channels)
    with pytest.raises(ValueError, match="singular"):
        EuclideanAlignment().fit_transform(X[:1, :, :2])
    assert np.isfinite(EuclideanAlignment(shrinkage=0.1).fit_transform(X[:1, :, :2])).all()
    with pytest.raises(ValueError, match="EuclideanAlignment: .*zero"):
        EuclideanAlignment(shrinkage=0.1).fit_transform(np.zeros((2, 3, 10)))


# --- metadata routing -----------------------------------------------------------------------


def _manual_loso(X, y, g, align_func):
    """Reference LOSO: per-subject alignment of the training set, test subject on its own."""
    scores = []
    for train, test in LeaveOneGroupOut().split(X, y, g):
        Ztr = align_func(X[train], g[train])
        Zte = align_func(X[test], None)
        clf = LogisticRegression().fit(log_var(Ztr), y[train])
        scores.append(clf.score(log_var(Zte), y[test]))
    return np.asarray(scores)


@pytest.mark.parametrize(
    "Est, func",
    [(EuclideanAlignment, euclidean_alignment), (SubjectStandardizer, subject_standardize)],
)
def test_routing_pipeline_cross_val_score_grid_search(Est, func):
    X, y, g = _corpus(n_subjects=4)
    expected = _manual_loso(X, y, g, func)
    # control: aligning the training subjects together gives other scores
    pooled = _manual_loso(X, y, g, lambda Z, groups: func(Z, None))
    assert not np.allclose(expected, pooled)
    with sklearn.config_context(enable_metadata_routing=True):
        align = Est().set_fit_request(groups=True).set_transform_request(groups=True)
        pipe = _pipe(align)
        scores = cross_val_score(pipe, X, y, cv=LeaveOneGroupOut(), params={"groups": g})
        np.testing.assert_allclose(scores, expected, rtol=1e-12)
        # the training set is aligned subject by subject
        pipe.fit(X, y, groups=g)
        ref = LogisticRegression().fit(log_var(func(X, g)), y)
        np.testing.assert_allclose(pipe[-1].coef_, ref.coef_, rtol=1e-10)
        np.testing.assert_array_equal(pipe.predict(X, groups=g), ref.predict(log_var(func(X, g))))
        grid = GridSearchCV(pipe, {"lr__C": [0.1, 1.0]}, cv=LeaveOneGroupOut())
        grid.fit(X, y, groups=g)
        np.testing.assert_allclose(grid.cv_results_["split0_test_score"][1], expected[0])
        np.testing.assert_allclose(grid.cv_results_["mean_test_score"][1], expected.mean())
        # GroupKFold (2 test subjects per split): the default scoring routes groups to the
        # test-side transform, so each test subject is aligned on its own
        gkf = cross_val_score(pipe, X, y, cv=GroupKFold(2), params={"groups": g})
        for k, (train, test) in enumerate(GroupKFold(2).split(X, y, g)):
            clf = LogisticRegression().fit(log_var(func(X[train], g[train])), y[train])
            np.testing.assert_allclose(gkf[k], clf.score(log_var(func(X[test], g[test])), y[test]))


def test_routing_errors_without_request():
    X, y, g = _corpus()
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(sklearn.exceptions.UnsetMetadataPassedError, match="groups"):
            _pipe(EuclideanAlignment()).fit(X, y, groups=g)
    # set_fit_request needs routing enabled
    with pytest.raises(RuntimeError, match="enable_metadata_routing"):
        EuclideanAlignment().set_fit_request(groups=True)


@pytest.mark.parametrize("Est, func", [(EuclideanAlignment, euclidean_alignment)])
def test_without_routing_step_parameters(Est, func):
    """Without routing: ``align__groups`` reaches fit; predict aligns the batch as one subject."""
    X, y, g = _corpus(n_subjects=4)
    expected = _manual_loso(X, y, g, func)
    pipe = _pipe(Est())
    scores = cross_val_score(
        pipe, X, y, groups=g, cv=LeaveOneGroupOut(), params={"align__groups": g}
    )
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    grid = GridSearchCV(pipe, {"lr__C": [0.1, 1.0]}, cv=LeaveOneGroupOut())
    grid.fit(X, y, groups=g, align__groups=g)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"][1], expected.mean())
    pipe.fit(X, y, align__groups=g)
    ref = LogisticRegression().fit(log_var(func(X, g)), y)
    np.testing.assert_allclose(pipe[-1].coef_, ref.coef_, rtol=1e-10)


# --- alignment trained without its subjects ----------------------------------------------------
def _pooled_warnings(record):
    return [w for w in record if issubclass(w.category, PooledSubjectsWarning)]


@pytest.mark.parametrize("step", [EuclideanAlignment(shrinkage=0.1), SubjectStandardizer()])
def test_grid_search_with_groups_but_routing_off_warns_that_subjects_were_pooled(step):
    from sklearn.pipeline import make_pipeline

    from skemotion.features import DifferentialEntropy

    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 3, 64))
    y = np.tile([0, 1], 12)
    subjects = np.repeat([0, 1, 2], 8)
    pipe = make_pipeline(step, DifferentialEntropy(sfreq=64.0, flatten=True), LogisticRegression())
    search = GridSearchCV(pipe, {"logisticregression__C": [1.0]}, cv=GroupKFold(3))
    with pytest.warns(PooledSubjectsWarning, match="aligned as ONE subject.*enable_metadata_r"):
        search.fit(X, y, groups=subjects)  # the usual call: groups reach the splitter only

    # the working call: routing on, the step asks for the subjects -> no warning
    with (
        sklearn.config_context(enable_metadata_routing=True),
        warnings.catch_warnings(record=True) as record,
    ):
        warnings.simplefilter("always")
        routed = clone(step).set_fit_request(groups=True).set_transform_request(groups=True)
        pipe = make_pipeline(routed, DifferentialEntropy(sfreq=64.0, flatten=True),
                             LogisticRegression())  # fmt: skip
        search = GridSearchCV(pipe, {"logisticregression__C": [1.0]}, cv=GroupKFold(3))
        search.fit(X, y, groups=subjects)
    assert not _pooled_warnings(record)


def test_no_pooled_warning_with_groups_or_a_single_window():
    X = np.random.default_rng(1).normal(size=(6, 2, 32))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        EuclideanAlignment().fit_transform(X, groups=[0, 0, 0, 1, 1, 1])
        EuclideanAlignment().fit_transform(X[:1])
        EuclideanAlignment().fit(X).transform(X)  # predicting one held-out subject
    assert not _pooled_warnings(record)
