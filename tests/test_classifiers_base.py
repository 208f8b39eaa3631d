"""The sklearn contract of the deep classifiers, beyond sklearn's own estimator checks."""

import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    LeaveOneGroupOut,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from skorch.callbacks import Callback

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion

FAST = dict(F1=4, D=2, F2=8, kernel_length=16, max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    return make_eeg_emotion(
        "emotiv14", n_subjects=3, n_trials_per_class=2, n_windows_per_trial=4, random_state=0
    )


def _scale(X):
    return X / 20.0


def test_gridsearch_pipeline_logo_groups(data):
    pipe = Pipeline([("scale", FunctionTransformer(_scale)), ("clf", EEGNetClassifier(**FAST))])
    search = GridSearchCV(
        pipe,
        {"clf__lr": [1e-4, 3e-2]},
        cv=LeaveOneGroupOut(),
        scoring="balanced_accuracy",
    )
    search.fit(data.X, data.y, groups=data.groups)
    res = search.cv_results_
    # three LOSO folds per candidate
    assert [f"split{i}_test_score" in res for i in range(4)] == [True, True, True, False]
    assert np.isfinite(res["mean_test_score"]).all()
    # the candidate parameters reach the classifier: the two learning rates give different
    # held-out scores (a search that ignored clf__lr would score both candidates the same)
    per_candidate = np.stack([res[f"split{i}_test_score"] for i in range(3)], axis=1)
    assert not np.array_equal(per_candidate[0], per_candidate[1])
    assert search.best_params_["clf__lr"] == [1e-4, 3e-2][int(np.argmax(res["mean_test_score"]))]
    # the refitted best pipeline is exactly a fresh fit with the best parameters
    refit = clone(pipe).set_params(**search.best_params_).fit(data.X, data.y)
    np.testing.assert_array_equal(search.predict_proba(data.X), refit.predict_proba(data.X))


def test_cross_val_score_groups(data):
    clf = EEGNetClassifier(**FAST)
    scores = cross_val_score(clf, data.X, data.y, groups=data.groups, cv=LeaveOneGroupOut())
    # the same as a hand-written leave-one-subject-out loop
    expected = []
    for s in np.unique(data.groups):
        train, test = data.groups != s, data.groups == s
        pred = clone(clf).fit(data.X[train], data.y[train]).predict(data.X[test])
        expected.append(np.mean(pred == data.y[test]))
    np.testing.assert_allclose(scores, expected)


def test_joblib_roundtrip_fresh_process(tmp_path, data):
    clf = EEGNetClassifier(**FAST).fit(data.X, data.y)
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    np.save(tmp_path / "X.npy", data.X[:10])
    np.save(tmp_path / "proba.npy", clf.predict_proba(data.X[:10]))
    code = textwrap.dedent(
        f"""
        import joblib, numpy as np
        clf = joblib.load({str(path)!r})
        X = np.load({str(tmp_path / "X.npy")!r})
        ref = np.load({str(tmp_path / "proba.npy")!r})
        out = clf.predict_proba(X)
        assert np.array_equal(out, ref), np.abs(out - ref).max()
        print("ok")
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_pickle_preserves_predictions(data):
    clf = EEGNetClassifier(**FAST).fit(data.X, data.y)
    clf2 = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(data.X), clf2.predict_proba(data.X))


def test_clone_refit_other_shapes(data):
    clf = EEGNetClassifier(**FAST).fit(data.X, data.y)
    other = make_eeg_emotion(
        "deap32",
        n_subjects=1,
        n_classes=4,
        n_trials_per_class=1,
        n_windows_per_trial=3,
        window_seconds=1.0,
        random_state=1,
    )
    clf2 = clone(clf).fit(other.X, other.y)
    assert (clf2.n_channels_, clf2.n_times_) == (32, 128)
    assert clf2.predict_proba(other.X).shape == (len(other.y), 4)
    # the first estimator is untouched and still works on its own shape
    assert clf.n_channels_ == 14 and clf.predict(data.X[:2]).shape == (2,)
    assert "n_channels_" not in clone(clf).__dict__


@pytest.mark.parametrize(
    "labels", [np.array(["sad", "happy", "calm"]), np.array([-1, 0, 1]), np.array([3, 7, 11])]
)
def test_arbitrary_labels(data, labels):
    y = labels[data.y]
    clf = EEGNetClassifier(**FAST).fit(data.X, y)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(data.X)
    assert set(pred) <= set(labels)
    proba = clf.predict_proba(data.X)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], pred)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)


def test_random_state_reproducible(data):
    p1 = EEGNetClassifier(**FAST).fit(data.X, data.y).predict_proba(data.X)
    p2 = EEGNetClassifier(**FAST).fit(data.X, data.y).predict_proba(data.X)
    np.testing.assert_array_equal(p1, p2)
    p3 = EEGNetClassifier(**{**FAST, "random_state": 1}).fit(data.X, data.y).predict_proba(data.X)
    assert not np.array_equal(p1, p3)


def test_global_torch_rng_untouched(data):
    import torch

    torch.manual_seed(123)
    a = torch.rand(3)
    torch.manual_seed(123)
    EEGNetClassifier(**FAST).fit(data.X[:20], data.y[:20])
    b = torch.rand(3)
    assert torch.equal(a, b)


def test_input_not_modified(data):
    X = data.X.copy()
    X64 = data.X.astype(np.float64)
    X64_copy = X64.copy()
    y = data.y.copy()
    clf = EEGNetClassifier(**FAST).fit(X64, y)
    clf.predict(X64)
    np.testing.assert_array_equal(X64, X64_copy)
    np.testing.assert_array_equal(y, data.y)
    np.testing.assert_array_equal(X, data.X)


def test_early_stopping_split_by_groups(data):
    clf = EEGNetClassifier(**{**FAST, "max_epochs": 4}, early_stopping=True, patience=2)
    clf.fit(data.X, data.y, groups=data.trials)
    hist = clf.net_.history
    assert "valid_loss" in hist[-1]
    # the held-out windows are whole trials: count the validation batch sizes
    n_valid = sum(b["valid_batch_size"] for b in hist[0]["batches"] if "valid_batch_size" in b)
    assert n_valid % 4 == 0 and 0 < n_valid < len(data.y)


def test_early_stopping_needs_groups(data):
    with pytest.raises(ValueError, match="EEGNetClassifier.*groups"):
        EEGNetClassifier(**FAST, early_stopping=True).fit(data.X, data.y)


def test_group_split_never_mixes_trials():
    from skemotion.classifiers._base import group_split

    groups = np.repeat(np.arange(10), 7)
    train, valid = group_split(groups, 0.3, seed=0)
    assert set(groups[train]).isdisjoint(groups[valid]) and len(set(groups[valid])) == 3
    assert len(train) + len(valid) == 70


def test_early_stopping_uneven_groups_still_trains():
    # 60 training windows after holding out a whole subject, batch 64: one partial batch must
    # still be used (dropping it would train nothing)
    d = make_eeg_emotion("emotiv14", n_subjects=3, n_trials_per_class=2, n_windows_per_trial=5,
                         random_state=0)  # fmt: skip
    clf = EEGNetClassifier(**{**FAST, "batch_size": 64}, early_stopping=True, patience=5)
    clf.fit(d.X, d.y, groups=d.groups)
    n_train = sum(
        b["train_batch_size"] for b in clf.history_[0]["batches"] if "train_batch_size" in b
    )
    assert n_train == 60
    assert all("train_loss" in row for row in clf.history_)


def test_early_stopping_single_group():
    with pytest.raises(ValueError, match="EEGNetClassifier: argument groups has 1 distinct"):
        EEGNetClassifier(**FAST, early_stopping=True).fit(
            np.zeros((6, 2, 32)), [0, 1] * 3, groups=np.zeros(6)
        )


@pytest.mark.parametrize("device, match", [("gpu", "argument device must be"),
                                           ("cuda:7", "argument device='cuda:7'")])  # fmt: skip
def test_bad_device(data, device, match):
    import torch

    if device.startswith("cuda") and torch.cuda.device_count() > 7:
        pytest.skip("machine has that many GPUs")
    with pytest.raises(ValueError, match=f"EEGNetClassifier: {match}"):
        EEGNetClassifier(**FAST, device=device).fit(data.X, data.y)


def test_bad_callbacks(data):
    with pytest.raises(TypeError, match="EEGNetClassifier: argument callbacks"):
        EEGNetClassifier(**FAST, callbacks=[("x", 3)]).fit(data.X, data.y)


def test_learns_above_chance_on_held_out_subjects():
    d = make_eeg_emotion(
        "emotiv14",
        n_subjects=4,
        n_classes=2,
        n_trials_per_class=3,
        n_windows_per_trial=6,
        effect_size=3.0,
        random_state=0,
    )
    train, test = d.groups < 3, d.groups == 3
    clf = EEGNetClassifier(
        F1=8, D=2, F2=16, kernel_length=32, max_epochs=25, lr=3e-3, random_state=0
    )
    clf.fit(d.X[train] / 20, d.y[train])
    score = balanced_accuracy_score(d.y[test], clf.predict(d.X[test] / 20))
    assert score > 0.7, score


class _OutputDtypes(Callback):
    """Records the dtype of the network's outputs on every training batch."""

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training:
            self.__dict__.setdefault("dtypes_", set()).add(y_pred.dtype)


@pytest.mark.parametrize("precision, dtype", [("bf16", "bfloat16"), ("32", "float32")])
def test_precision_on_cpu(data, precision, dtype):
    # a change that silently trains in float32 (or in bf16 when asked for 32) fails here
    clf = EEGNetClassifier(
        **FAST, precision=precision, device="cpu", callbacks=[("dt", _OutputDtypes())]
    ).fit(data.X, data.y)
    assert {str(d) for d in dict(clf.net_.callbacks_)["dt"].dtypes_} == {f"torch.{dtype}"}
    proba = clf.predict_proba(data.X[:4])
    assert proba.dtype == np.float64 and np.allclose(proba.sum(1), 1, atol=1e-2)


def test_verbose_progress_bar(data, capsys):
    EEGNetClassifier(**FAST, verbose=1).fit(data.X[:20], data.y[:20])
    err = capsys.readouterr().err
    assert "EEGNetClassifier" in err and "epoch" in err
    EEGNetClassifier(**FAST, verbose=0).fit(data.X[:20], data.y[:20])
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.full((6, 2, 10), np.nan), [0, 1] * 3, "EEGNetClassifier: argument X contains NaN"),
        (np.zeros((6, 2, 10, 1)), [0, 1] * 3, "argument X must be 3-D"),
        (np.zeros((6, 2, 10)), [0] * 6, "needs at least 2 classes.*got 1 class"),
        (np.zeros((0, 2, 10)), [], "0 sample"),
        (np.zeros((6, 2, 10)), [0, 1] * 2, "EEGNetClassifier: .*inconsistent numbers of samples"),
    ],
)
def test_bad_fit_input(X, y, match):
    with pytest.raises(ValueError, match=match):
        EEGNetClassifier(**FAST).fit(X, np.asarray(y))


def test_non_numeric_X():
    X = np.array([[["a", "b"], ["c", "d"]]] * 4, dtype=object)
    with pytest.raises((TypeError, ValueError), match="EEGNetClassifier: argument X: .*float"):
        EEGNetClassifier(**FAST).fit(X, [0, 1, 0, 1])


def test_predict_shape_mismatch(data):
    clf = EEGNetClassifier(**FAST).fit(data.X, data.y)
    with pytest.raises(ValueError, match="EEGNetClassifier: argument X has 13 channels.*14"):
        clf.predict(data.X[:, :13])
    with pytest.raises(ValueError, match="X has 200 time samples.*256 samples"):
        clf.predict(data.X[:, :, :200])
    with pytest.raises(ValueError, match="NaN"):
        Xn = data.X[:3].copy()
        Xn[0, 0, 0] = np.inf
        clf.predict(Xn)


def test_bad_hyperparameter():
    with pytest.raises(ValueError, match="lr"):
        EEGNetClassifier(lr=-1).fit(np.zeros((4, 1, 8)), [0, 1, 0, 1])
