"""skemotion.inspection: permutation importance, gradient attributions, their figures.

The tests that make it real run on the synthetic corpus, whose class effect is known
(``skemotion.datasets._synthetic``): with two classes (negative / positive valence) it lives
in the lateral-temporal beta and gamma power (F7, F8, FC5, FC6, T7, T8, P7, P8 on the Emotiv
montage) and in the frontal alpha asymmetry, while the occipital channels O1 and O2 carry none
(their alpha effect separates neutral from emotional states, absent with two classes).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils import Bunch

import skemotion.classifiers as classifiers
from skemotion.classifiers import (
    DeepClassifierBase,
    EEGNetClassifier,
    GRUXNetClassifier,
    SSLECGClassifier,
    SSTEmotionNetClassifier,
    TSSTDNClassifier,
)
from skemotion.datasets import make_eeg_emotion
from skemotion.features import DifferentialEntropy
from skemotion.features.functional import DEFAULT_BANDS, band_variance
from skemotion.inspection import (
    _attribution,
    attribute,
    channel_importance,
    plot_band_channel,
    plot_topomap,
    summarize_bands,
    summarize_channels,
)

LATERAL = ["F7", "F8", "FC5", "FC6", "T7", "T8", "P7", "P8"]
OCCIPITAL = ["O1", "O2"]


@pytest.fixture(scope="module")
def corpus():
    """Two classes, a strong effect, 1 s windows: 6 training and 2 held-out subjects."""
    d = make_eeg_emotion(
        "emotiv14",
        n_subjects=8,
        n_classes=2,
        n_windows_per_trial=5,
        window_seconds=1.0,
        effect_size=3.0,
        artifacts=False,
        random_state=0,
    )
    train = d.groups < 6
    return Bunch(
        X_train=d.X[train],
        y_train=d.y[train],
        X_test=d.X[~train],
        y_test=d.y[~train],
        groups_test=d.groups[~train],
        sfreq=d.sfreq,
        ch_names=d.ch_names,
    )


@pytest.fixture(scope="module")
def de_model(corpus):
    """The classical baseline: differential entropy + logistic regression."""
    return make_pipeline(
        DifferentialEntropy(corpus.sfreq, flatten=True),
        StandardScaler(),
        LogisticRegression(C=0.1, max_iter=1000),
    ).fit(corpus.X_train, corpus.y_train)


@pytest.fixture(scope="module")
def eegnet(corpus):
    return EEGNetClassifier(
        F1=4, D=2, F2=8, kernel_length=16, lr=1e-2, max_epochs=10, device="cpu", random_state=0
    ).fit(corpus.X_train, corpus.y_train)


def _idx(names, chosen):
    return [names.index(c) for c in chosen]


# --- channel_importance: it finds the informative channels and bands ----------------------


def test_channel_importance_ranks_informative_channels_first(corpus, de_model):
    assert de_model.score(corpus.X_test, corpus.y_test) > 0.9  # a model worth explaining
    result = channel_importance(
        de_model,
        corpus.X_test,
        corpus.y_test,
        scoring="neg_log_loss",
        n_repeats=5,
        random_state=0,
        ch_names=corpus.ch_names,
    )
    imp = dict(zip(result.ch_names, result.importances_mean))
    top = result.ch_names[int(np.argmax(result.importances_mean))]
    assert top in ("T7", "T8"), imp
    assert min(imp["T7"], imp["T8"]) > max(imp["O1"], imp["O2"]), imp
    assert np.mean([imp[c] for c in LATERAL]) > 2 * np.mean([imp[c] for c in OCCIPITAL]), imp


def test_band_importance_finds_informative_bands(corpus, de_model):
    result = channel_importance(
        de_model,
        corpus.X_test,
        corpus.y_test,
        scoring="neg_log_loss",
        n_repeats=2,
        random_state=0,
        by="band",
        sfreq=corpus.sfreq,
        ch_names=corpus.ch_names,
    )
    assert result.band_names == list(DEFAULT_BANDS)
    per_band = dict(zip(result.band_names, result.importances_mean.sum(axis=0)))
    # the class effect is beta/gamma (lateral temporal) and alpha (frontal asymmetry)
    assert min(per_band["beta"], per_band["gamma"]) > max(per_band["delta"], per_band["theta"])
    temporal = result.importances_mean[_idx(result.ch_names, ["T7", "T8"])]  # (2, n_bands)
    assert temporal[:, 3:].mean() > 5 * max(temporal[:, :2].mean(), 1e-3), temporal


# --- channel_importance: mechanics --------------------------------------------------------


class _Recorder:
    """A scoring callable that keeps every X it is asked to score."""

    def __init__(self):
        self.seen = []

    def __call__(self, estimator, X, y):
        self.seen.append(np.array(X))
        return float(len(self.seen))


def _toy(n=12, c=3, t=32, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, c, t)).astype(np.float32)
    y = np.arange(n) % 2
    return X, y


class _MeanOfChannel(ClassifierMixin, BaseEstimator):
    """Predicts the class from the sign of the mean of one channel; records predict's groups."""

    def __init__(self, channel=1):
        self.channel = channel

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X, groups=None):
        self.groups_seen_ = groups
        return (np.asarray(X)[:, self.channel].mean(axis=-1) > 0).astype(int)


def test_channel_permutation_moves_whole_channels_across_windows():
    X, y = _toy()
    record = _Recorder()
    est = _MeanOfChannel().fit(X, y)
    channel_importance(est, X, y, scoring=record, n_repeats=2, random_state=0)
    baseline, permuted = record.seen[0], record.seen[1:]
    np.testing.assert_array_equal(baseline, X)
    assert len(permuted) == 3 * 2
    for k, Xp in enumerate(permuted):
        channel = k // 2
        changed = [c for c in range(3) if not np.array_equal(Xp[:, c], X[:, c])]
        assert changed == [channel]
        # every window holds the whole channel of one window, each window used once
        rows = [
            int(np.flatnonzero((X[:, channel] == row).all(axis=1))[0]) for row in Xp[:, channel]
        ]
        assert sorted(rows) == list(range(len(X))) and rows != list(range(len(X)))


def test_band_permutation_moves_only_that_band():
    sfreq = 64.0
    X, y = _toy(t=64)
    record = _Recorder()
    est = _MeanOfChannel().fit(X, y)
    bands = {"alpha": (8.0, 14.0), "beta": (14.0, 31.0)}
    channel_importance(
        est, X, y, scoring=record, n_repeats=1, by="band", sfreq=sfreq, bands=bands, random_state=0
    )
    permuted = record.seen[1:]
    assert len(permuted) == 3 * 2
    freqs = np.fft.rfftfreq(64, 1 / sfreq)
    for k, Xp in enumerate(permuted):
        channel, (lo, hi) = k // 2, list(bands.values())[k % 2]
        others = [c for c in range(3) if c != channel]
        np.testing.assert_array_equal(Xp[:, others], X[:, others])
        change = np.abs(np.fft.rfft(Xp[:, channel] - X[:, channel], axis=-1))
        outside = (freqs < lo) | (freqs >= hi)
        assert change[:, outside].max() < 1e-4 * change.max()
        # the band power of the windows is a permutation of the original band powers
        before = band_variance(X[:, channel], sfreq, [(lo, hi)])[:, 0]
        after = band_variance(Xp[:, channel], sfreq, [(lo, hi)])[:, 0]
        np.testing.assert_allclose(np.sort(after), np.sort(before), rtol=1e-4)
        assert not np.allclose(after, before)


def test_importance_is_the_drop_of_score_and_bunch_layout():
    X, y = _toy(n=40)
    est = _MeanOfChannel(channel=1).fit(X, y)
    y = est.predict(X)  # perfect baseline
    res = channel_importance(est, X, y, n_repeats=4, random_state=0, ch_names=["a", "b", "c"])
    assert set(res) == {"importances_mean", "importances_std", "importances", "ch_names"}
    assert res.importances.shape == (3, 4) and res.importances_mean.shape == (3,)
    np.testing.assert_allclose(res.importances_mean, res.importances.mean(axis=1))
    np.testing.assert_allclose(res.importances_std, res.importances.std(axis=1))
    assert res.ch_names == ["a", "b", "c"]
    # only channel "b" is read by the model: the others change nothing
    np.testing.assert_array_equal(res.importances[[0, 2]], 0.0)
    assert (res.importances[1] > 0.2).all()
    bands = channel_importance(est, X, y, n_repeats=3, by="band", sfreq=128.0, random_state=0)
    assert bands.importances.shape == (3, 5, 3) and bands.importances_mean.shape == (3, 5)
    assert bands.ch_names == ["0", "1", "2"] and bands.band_names == list(DEFAULT_BANDS)


def test_importance_does_not_modify_X_and_reads_read_only_input(corpus, de_model):
    X = corpus.X_test[:20].copy()
    y = corpus.y_test[:20]
    X.setflags(write=False)  # any write into the caller's array raises
    original = X.copy()
    for by in ("channel", "band"):
        channel_importance(de_model, X, y, n_repeats=1, by=by, sfreq=corpus.sfreq)
    np.testing.assert_array_equal(X, original)


def test_importance_is_deterministic_and_independent_of_n_jobs(corpus, de_model):
    from joblib import parallel_config

    X, y = corpus.X_test[:24], corpus.y_test[:24]
    kw = dict(scoring="neg_log_loss", n_repeats=2)
    a = channel_importance(de_model, X, y, random_state=3, **kw)
    b = channel_importance(de_model, X, y, random_state=3, **kw)
    with parallel_config(backend="threading"):
        c = channel_importance(de_model, X, y, random_state=3, n_jobs=2, **kw)
    d = channel_importance(de_model, X, y, random_state=4, **kw)
    np.testing.assert_array_equal(a.importances, b.importances)
    np.testing.assert_array_equal(a.importances, c.importances)
    assert not np.array_equal(a.importances, d.importances)


def test_importance_several_metrics_give_one_bunch_each(corpus, de_model):
    X, y = corpus.X_test[:24], corpus.y_test[:24]
    res = channel_importance(
        de_model, X, y, scoring=["accuracy", "neg_log_loss"], n_repeats=1, random_state=0
    )
    assert set(res) == {"accuracy", "neg_log_loss"}
    single = channel_importance(de_model, X, y, scoring="neg_log_loss", n_repeats=1, random_state=0)
    np.testing.assert_allclose(res["neg_log_loss"].importances, single.importances)


def test_importance_passes_groups_to_predict():
    X, y = _toy()
    est = _MeanOfChannel().fit(X, y)
    groups = np.repeat([0, 1, 2], 4)
    channel_importance(est, X, y, groups=groups, n_repeats=1)
    np.testing.assert_array_equal(est.groups_seen_, groups)
    with pytest.raises(ValueError, match="channel_importance: argument groups is given"):
        channel_importance(LogisticRegression().fit(X[:, 0], y), X, y, groups=groups)
    # without metadata routing, a Pipeline hands predict's groups to its last step
    flat = make_pipeline(
        FunctionTransformer(lambda Z: Z.reshape(len(Z), -1)), LogisticRegression()
    ).fit(X, y)
    with pytest.raises(ValueError, match="channel_importance: argument groups is given"):
        channel_importance(flat, X, y, groups=groups, n_repeats=1)
    ours = make_pipeline(FunctionTransformer(), _MeanOfChannel()).fit(X, y)
    channel_importance(ours, X, y, groups=groups, n_repeats=1)
    np.testing.assert_array_equal(ours[-1].groups_seen_, groups)


def test_importance_routes_groups_to_subject_alignment(corpus):
    """With metadata routing, a Pipeline aligns each subject's windows with its groups."""
    from sklearn import config_context

    from skemotion.transfer import EuclideanAlignment

    X, y, groups = corpus.X_test, corpus.y_test, corpus.groups_test
    with config_context(enable_metadata_routing=True):
        align = EuclideanAlignment().set_fit_request(groups=True).set_transform_request(groups=True)
        pipe = make_pipeline(
            align, DifferentialEntropy(corpus.sfreq, flatten=True), LogisticRegression(C=0.1)
        ).fit(X, y, groups=groups)
        kw = dict(scoring="neg_log_loss", n_repeats=1, random_state=0)
        by_subject = channel_importance(pipe, X, y, groups=groups, **kw)
        pooled = channel_importance(pipe, X, y, groups=np.zeros_like(groups), **kw)
    assert by_subject.importances.shape == (14, 1)
    assert not np.allclose(by_subject.importances, pooled.importances)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(X=np.zeros((4, 8))), ValueError, "argument X must be 3-D"),
        (dict(X=np.zeros((0, 2, 8))), ValueError, "argument X is empty"),
        (dict(X=np.full((4, 2, 8), "a")), TypeError, "real numeric"),
        (dict(y=[0, 1]), ValueError, "argument y must hold one target per window"),
        (dict(by="time"), ValueError, "argument by must be 'channel' or 'band'"),
        (dict(by="band"), ValueError, "argument sfreq is None"),
        (dict(by="band", sfreq=-1.0), ValueError, "argument sfreq"),
        (dict(by="band", sfreq=16.0, bands=[(9.0, 12.0)]), ValueError, "Nyquist"),
        (dict(n_repeats=0), ValueError, "argument n_repeats"),
        (dict(ch_names=["a"]), ValueError, "argument ch_names holds 1 names"),
        (dict(scoring="no_such_metric"), ValueError, "argument scoring"),
        (dict(groups=[0, 1]), ValueError, "argument groups must have shape"),
    ],
)
def test_importance_errors_name_function_and_argument(kwargs, error, match):
    X, y = _toy(n=4, c=2, t=8)
    est = _MeanOfChannel(channel=0).fit(X, y)
    args = {"X": X, "y": y, **kwargs}
    with pytest.raises(error, match=match) as info:
        channel_importance(est, args.pop("X"), args.pop("y"), **args)
    assert str(info.value).startswith("channel_importance")


def test_importance_refuses_an_unfitted_estimator():
    X, y = _toy()
    with pytest.raises(NotFittedError, match="channel_importance: argument estimator"):
        channel_importance(make_pipeline(DifferentialEntropy(32.0), LogisticRegression()), X, y)


# --- attribute: the deep classifiers -------------------------------------------------------


def test_attribution_of_eegnet_concentrates_on_informative_channels(corpus, eegnet):
    assert eegnet.score(corpus.X_test, corpus.y_test) > 0.85
    attr = attribute(eegnet, corpus.X_test[::2], n_steps=16)
    per_channel = dict(zip(corpus.ch_names, summarize_channels(attr)))
    # the occipital channels have the largest amplitude (alpha): a map of the input, not of
    # the model's evidence, would rank them first
    assert min(per_channel["T7"], per_channel["T8"]) > 3 * max(per_channel["O1"], per_channel["O2"])
    lateral = np.mean([per_channel[c] for c in LATERAL])
    assert lateral > 2 * np.mean([per_channel[c] for c in OCCIPITAL]), per_channel
    power = dict(zip(DEFAULT_BANDS, summarize_bands(attr, corpus.sfreq).sum(axis=0)))
    assert power["beta"] + power["gamma"] > 1.5 * (power["delta"] + power["theta"]), power


def test_integrated_gradients_complete_to_the_logit_difference(corpus, eegnet):
    X = corpus.X_test[:6]
    module = eegnet.net_.module_.eval()
    with torch.no_grad():
        logits = module(torch.from_numpy(X)).numpy()
        zero = module(torch.zeros_like(torch.from_numpy(X))).numpy()
    target = logits.argmax(axis=1)
    attr = attribute(eegnet, X, n_steps=64)
    expected = logits[np.arange(6), target] - zero[np.arange(6), target]
    np.testing.assert_allclose(attr.sum(axis=(1, 2)), expected, rtol=0.05, atol=0.02)
    # target given as labels: the other class is explained
    other = eegnet.classes_[1 - target]
    attr_other = attribute(eegnet, X, target=other, n_steps=64)
    expected_other = logits[np.arange(6), 1 - target] - zero[np.arange(6), 1 - target]
    np.testing.assert_allclose(attr_other.sum(axis=(1, 2)), expected_other, rtol=0.05, atol=0.02)
    # the default target is the predicted class
    np.testing.assert_allclose(attribute(eegnet, X, target=eegnet.predict(X), n_steps=64), attr)


def test_attribute_baseline_and_saliency(corpus, eegnet):
    X = corpus.X_test[:4].copy()
    original = X.copy()
    same = attribute(eegnet, X, baseline=X, n_steps=4)  # nothing to integrate
    np.testing.assert_array_equal(same, 0.0)
    one = attribute(eegnet, X, baseline=X[0], n_steps=4)  # one window, broadcast
    np.testing.assert_array_equal(one[0], 0.0)
    assert np.abs(one[1:]).sum() > 0
    sal = attribute(eegnet, X, method="saliency")
    assert sal.shape == X.shape and sal.dtype == np.float32 and (sal >= 0).all()
    assert sal.max() > 0
    np.testing.assert_array_equal(X, original)
    with pytest.raises(ValueError, match="attribute: argument baseline is used by"):
        attribute(eegnet, X, method="saliency", baseline=0.0)
    with pytest.raises(ValueError, match="attribute: argument baseline of shape"):
        attribute(eegnet, X, baseline=np.zeros(3))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(method="gradcam"), ValueError, "argument method"),
        (dict(n_steps=0), ValueError, "argument n_steps"),
        (dict(batch_size=0), ValueError, "argument batch_size"),
        (dict(target="happy"), ValueError, "argument target holds labels that are not"),
        (dict(target=[0, 1]), ValueError, "one per window"),
    ],
)
def test_attribute_errors_name_function_and_argument(corpus, eegnet, kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        attribute(eegnet, corpus.X_test[:3], **kwargs)
    assert str(info.value).startswith("attribute")


def test_attribute_refuses_other_estimators_and_bad_windows(corpus, de_model, eegnet):
    with pytest.raises(TypeError, match="attribute: argument estimator.*channel_importance"):
        attribute(de_model, corpus.X_test[:2])
    with pytest.raises(ValueError, match="attribute: EEGNetClassifier: argument X"):
        attribute(eegnet, corpus.X_test[:2, :5])
    with pytest.raises(NotFittedError, match="attribute: argument estimator"):
        attribute(EEGNetClassifier(), corpus.X_test[:2])


def test_attribute_through_a_pipeline(corpus, eegnet):
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.pipeline import Pipeline as ImbPipeline

    flip = FunctionTransformer(lambda Z: Z[:, ::-1].copy()).fit(corpus.X_test)
    X = corpus.X_test[:3]
    expected = attribute(eegnet, flip.transform(X), n_steps=4)
    pipe = Pipeline([("flip", flip), ("clf", eegnet)])
    np.testing.assert_array_equal(attribute(pipe, X, n_steps=4), expected)
    sampled = ImbPipeline([("ros", RandomOverSampler()), ("flip", flip), ("clf", eegnet)])
    np.testing.assert_array_equal(attribute(sampled, X, n_steps=4), expected)


def _tiny_data():
    d = make_eeg_emotion(
        "emotiv14", n_subjects=2, n_classes=2, n_windows_per_trial=4, window_seconds=1.0,
        random_state=0,
    )  # fmt: skip
    return d


# one tiny fitted instance of every deep classifier, and how to get the network input that
# the classifier itself computes from raw windows
DEEP_CASES = {
    EEGNetClassifier: (dict(F1=2, D=1, F2=2, kernel_length=8), lambda clf, X: X),
    TSSTDNClassifier: (
        dict(D=1, lstm_hidden=4, Fs=4, Ft=4, sfreq=128.0),
        lambda clf, X: clf._prepare(X),
    ),
    GRUXNetClassifier: (
        dict(filters=(2, 2, 2), gru_hidden=4, n_heads=1, head_units=(4,), sfreq=128.0),
        lambda clf, X: clf.spectrogram(X),
    ),
    SSTEmotionNetClassifier: (
        dict(ch_names="emotiv14", grid_size=8, spectral_growth=2, temporal_growth=2),
        lambda clf, X: clf._prepare(X),
    ),
    # explained without its numpy resampling and high-pass (they are refused: test below)
    SSLECGClassifier: (
        dict(
            sfreq=128.0,
            target_sfreq=None,
            highpass=None,
            n_filters=(2, 2, 4),
            head_units=(4,),
            pretrain_epochs=1,
        ),  # fmt: skip
        lambda clf, X: X,
    ),
}


def test_ssl_ecg_numpy_input_stage_is_refused_with_the_way_out():
    d = _tiny_data()
    clf = SSLECGClassifier(sfreq=128.0, n_filters=(2, 2, 4), head_units=(4,), pretrain_epochs=1,
                           max_epochs=1, device="cpu", random_state=0)  # fmt: skip
    clf.fit(d.X[:16, :1], d.y[:16])
    with pytest.raises(TypeError, match=r"target_sfreq=256.0, highpass=0.8\), which gradients "
                       r"cannot pass.*target_sfreq=None, highpass=None"):  # fmt: skip
        attribute(clf, d.X[:2, :1])


def test_every_deep_classifier_has_an_attribution_case():
    public = {
        getattr(classifiers, name)
        for name in classifiers.__all__
        if isinstance(getattr(classifiers, name), type)
        and issubclass(getattr(classifiers, name), DeepClassifierBase)
        and getattr(classifiers, name) is not DeepClassifierBase
    }
    assert public == set(DEEP_CASES), public ^ set(DEEP_CASES)


@pytest.mark.parametrize("cls", list(DEEP_CASES), ids=lambda c: c.__name__)
def test_each_deep_classifier_is_attributed_on_raw_windows(cls):
    params, network_input = DEEP_CASES[cls]
    d = _tiny_data()
    clf = cls(**params, max_epochs=1, batch_size=16, device="cpu", random_state=0)
    clf.fit(d.X, d.y)
    X = d.X[:5].copy()
    X[1, 3] = 0.0  # a missing (zero-padded) channel: the input stages leave it out
    # the differentiable stage computes the classifier's own network input from raw windows
    stage = _attribution._input_stage(clf)
    with torch.no_grad():
        got = stage(torch.from_numpy(X.copy()))
    expected = network_input(clf, X)
    if isinstance(expected, dict):
        assert set(got) == set(expected)
        for key in expected:
            np.testing.assert_allclose(got[key].numpy(), expected[key], rtol=1e-4, atol=1e-4)
    else:
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-4, atol=1e-4)
    attr = attribute(clf, X, n_steps=4)
    assert attr.shape == X.shape and attr.dtype == np.float32
    assert np.isfinite(attr).all() and np.abs(attr).max() > 0
    sal = attribute(clf, X, method="saliency")
    assert np.isfinite(sal).all() and sal.max() > 0


class _NumpyStageClassifier(EEGNetClassifier):
    """A classifier whose input stage is numpy (not differentiable)."""

    def _prepare(self, X):
        return np.ascontiguousarray(np.sign(X) * np.sqrt(np.abs(X)), dtype=np.float32)


def test_a_numpy_input_stage_is_refused_with_a_clear_message():
    d = _tiny_data()
    clf = _NumpyStageClassifier(F1=2, D=1, F2=2, kernel_length=8, max_epochs=1, device="cpu")
    clf.fit(d.X[:16], d.y[:16])
    with pytest.raises(TypeError, match="_NumpyStageClassifier prepares its network input"):
        attribute(clf, d.X[:2])


def test_a_stage_that_does_not_reproduce_the_predictions_is_refused(monkeypatch, eegnet, corpus):
    monkeypatch.setattr(_attribution, "_input_stage", lambda clf: lambda x: 3.0 * x)
    with pytest.raises(RuntimeError, match="does not reproduce its predict_proba"):
        attribute(eegnet, corpus.X_test[:2])


# --- summaries -----------------------------------------------------------------------------


def test_summaries_against_closed_forms():
    sfreq, t = 128.0, np.arange(256) / 128.0
    attr = np.zeros((2, 3, 256))
    attr[0, 2] = 3.0 * np.sin(2 * np.pi * 10.0 * t)  # alpha, variance 4.5
    attr[1, 0] = -2.0  # a constant: no band power, mean |.| of 2 in one window of two
    np.testing.assert_allclose(
        summarize_channels(attr), [1.0, 0.0, 3.0 * np.abs(np.sin(2 * np.pi * 10 * t)).mean() / 2]
    )
    power = summarize_bands(attr, sfreq, {"theta": (4, 8), "alpha": (8, 14)})
    np.testing.assert_allclose(power, [[0, 0], [0, 0], [0, 4.5 / 2]], atol=1e-9)
    with pytest.raises(ValueError, match="summarize_channels: argument attributions must be 3-D"):
        summarize_channels(attr[0])
    with pytest.raises(ValueError, match="summarize_bands: argument sfreq"):
        summarize_bands(attr, 0.0)
    with pytest.raises(ValueError, match="summarize_bands: argument bands"):
        summarize_bands(attr, sfreq, bands=[(8.0, 4.0)])


# --- optional dependencies -----------------------------------------------------------------


def test_attribute_without_captum_says_which_extra(monkeypatch, eegnet, corpus):
    monkeypatch.setitem(sys.modules, "captum", None)
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    with pytest.raises(ImportError, match=r"attribute needs captum.*skemotion\[explain\]"):
        attribute(eegnet, corpus.X_test[:2])


@pytest.mark.parametrize(("module", "extra"), [("matplotlib", "plot"), ("mne", "mne")])
def test_plots_without_their_dependency_say_which_extra(monkeypatch, module, extra):
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=rf"plot_topomap needs {module}.*skemotion\[{extra}\]"):
        plot_topomap(np.zeros(3), ["C3", "Cz", "C4"])
    if module == "matplotlib":
        with pytest.raises(ImportError, match=r"plot_band_channel needs matplotlib"):
            plot_band_channel(np.zeros((3, 2)), ["C3", "Cz", "C4"], ["a", "b"])


def test_inspection_imports_without_optional_dependencies():
    import subprocess

    code = (
        "import sys\n"
        "for m in ('captum', 'mne', 'matplotlib'): sys.modules[m] = None\n"
        "import skemotion.inspection\n"
        "print(sorted(m for m in ('torch', 'captum', 'mne', 'matplotlib') "
        "if sys.modules.get(m) is not None))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- figures -------------------------------------------------------------------------------


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_topomap_draws_on_the_scalp(pyplot):
    pytest.importorskip("mne")
    from matplotlib.figure import Figure

    names = ["FP1", "fp2", "C3", "Cz", "C4", "O1", "O2"]  # case does not matter
    fig = plot_topomap(np.arange(7.0), names, show_names=True, title="importance")
    assert isinstance(fig, Figure) and len(fig.axes) == 2  # map and colour bar
    assert fig.axes[0].get_title() == "importance"
    assert {t.get_text() for t in fig.axes[0].texts} >= set(names)
    _, ax = pyplot.subplots()
    assert plot_topomap(np.ones(7), names, axes=ax, colorbar=False) is ax.figure
    with pytest.raises(ValueError, match="plot_topomap: argument ch_names: some channels"):
        plot_topomap(np.ones(2), ["Cz", "XYZ"])
    with pytest.raises(ValueError, match="plot_topomap: argument ch_names holds 2 names"):
        plot_topomap(np.ones(3), ["Cz", "C3"])
    with pytest.raises(ValueError, match="plot_topomap: argument values contains NaN"):
        plot_topomap(np.array([1.0, np.nan]), ["Cz", "C3"])


def test_plot_band_channel_draws_bands_by_channels(pyplot):
    values = np.arange(6.0).reshape(3, 2)  # (channels, bands)
    fig = plot_band_channel(values, ["C3", "Cz", "C4"], ["alpha", "beta"])
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), values.T)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["C3", "Cz", "C4"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["alpha", "beta"]
    with pytest.raises(ValueError, match="plot_band_channel: argument band_names holds 3"):
        plot_band_channel(values, ["C3", "Cz", "C4"], ["a", "b", "c"])
    with pytest.raises(ValueError, match="plot_band_channel: argument importances must be 2-D"):
        plot_band_channel(values[0], ["C3", "Cz", "C4"], ["a", "b"])
