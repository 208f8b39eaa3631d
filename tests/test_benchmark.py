"""The benchmark harness: protocols, registry, statistics, resumable runs, plots."""

import csv
import json
import os
import signal
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.benchmark import (
    ALIGNMENTS,
    RECIPES,
    REGISTRY,
    BenchmarkContext,
    BenchmarkInputError,
    Fold,
    ResultsMismatchError,
    check_folds,
    compare_to_baselines,
    make_folds,
    min_pairs_for_test,
    paired_comparison,
    rank_biserial,
    read_results,
    recipe_options,
    register_model,
    resolve_models,
    run_benchmark,
    summarize,
)
from skemotion.benchmark._options import OptionError, check_options
from skemotion.benchmark._store import atomic_write_text
from skemotion.datasets import EMOTIV14, make_eeg_emotion
from skemotion.features import DifferentialEntropy

TIMING = ["fit_time_s", "predict_time_s", "run"]


@pytest.fixture(scope="module")
def data():
    return make_eeg_emotion("emotiv14", n_subjects=3, n_windows_per_trial=2, random_state=0)


def _layout(n_subjects=4, trials_per_class=2, n_classes=3, windows=3):
    """groups / trials / y of a corpus: every trial one class, ids unique across subjects."""
    g, t, y = [], [], []
    trial = 0
    for s in range(n_subjects):
        for c in range(n_classes):
            for _ in range(trials_per_class):
                g += [s + 1] * windows
                t += [trial] * windows
                y += [c] * windows
                trial += 1
    return np.array(g), np.array(t), np.array(y)


# --- protocols --------------------------------------------------------------------------------
def test_loso_folds_are_sklearns_leave_one_group_out():
    groups, trials, y = _layout()
    folds = make_folds("loso", y, groups, trials)
    ref = list(LeaveOneGroupOut().split(np.zeros(len(y)), y, groups))
    assert len(folds) == len(ref) == 4
    for f, (tr, te) in zip(folds, ref):
        np.testing.assert_array_equal(f.train, tr)
        np.testing.assert_array_equal(f.test, te)
        assert f.test_subjects == (groups[te][0],)


def test_group_kfold_tests_every_subject_once():
    groups, trials, y = _layout(n_subjects=6)
    folds = make_folds("group-kfold", y, groups, trials, n_splits=3)
    assert len(folds) == 3
    tested = np.concatenate([f.test for f in folds])
    np.testing.assert_array_equal(np.sort(tested), np.arange(len(y)))
    assert sorted(s for f in folds for s in f.test_subjects) == [1, 2, 3, 4, 5, 6]
    for f in folds:
        assert not set(groups[f.train]) & set(groups[f.test])


def test_subject_dependent_folds_split_trials_within_one_subject():
    groups, trials, y = _layout(n_subjects=3, trials_per_class=2)
    folds = make_folds("subject-dependent", y, groups, trials)
    # default: 2 trials per class -> 2 folds per subject
    assert len(folds) == 6
    for f in folds:
        assert set(groups[f.train]) == set(groups[f.test]) == set(f.test_subjects)
        assert not set(trials[f.train]) & set(trials[f.test])
        # stratified by trial: every class is in both train and test
        assert set(y[f.test]) == set(y[f.train]) == {0, 1, 2}
    for s in (1, 2, 3):
        tested = np.concatenate([f.test for f in folds if f.test_subjects == (s,)])
        np.testing.assert_array_equal(np.sort(tested), np.flatnonzero(groups == s))


def test_cross_dataset_leaves_one_dataset_out():
    groups, trials, y = _layout(n_subjects=4)
    domains = np.where(groups <= 2, "a", "b")
    folds = make_folds("cross-dataset", y, groups, trials, domains=domains)
    assert [set(domains[f.test]) for f in folds] == [{"a"}, {"b"}]


@pytest.mark.parametrize(
    "protocol, kwargs, match",
    [
        ("group-kfold", {"n_splits": 5}, "n_splits"),
        ("subject-dependent", {"n_splits": 7}, "trials of every subject"),
        ("loso", {"n_splits": 3}, "does not apply"),
        ("cross-dataset", {}, "domains"),
        ("leave-one-out", {}, "protocol must be one of"),
    ],
)
def test_make_folds_refuses_impossible_settings(protocol, kwargs, match):
    groups, trials, y = _layout(n_subjects=4)
    with pytest.raises(ValueError, match=match):
        make_folds(protocol, y, groups, trials, **kwargs)


def test_check_folds_refuses_leaks():
    groups = np.array([1, 1, 2, 2])
    trials = np.array([0, 1, 2, 3])
    with pytest.raises(RuntimeError, match="trials .* both sides"):
        check_folds([Fold(0, np.array([0, 1]), np.array([2, 3]), (2,))], groups,
                    np.array([0, 1, 1, 2]))  # fmt: skip
    with pytest.raises(RuntimeError, match="subjects .* both sides"):
        check_folds([Fold(0, np.array([0, 2]), np.array([1, 3]), (1, 2))], groups, trials)
    with pytest.raises(RuntimeError, match="one subject"):
        check_folds([Fold(0, np.array([0, 2]), np.array([1]), (1,))], groups, trials,
                    within_subject=True)  # fmt: skip
    check_folds([Fold(0, np.array([0, 1]), np.array([2, 3]), (2,))], groups, trials)


def test_run_benchmark_refuses_leaky_trials(data):
    trials = data.trials.copy()
    trials[data.groups == 1] = trials[data.groups == 0][: (data.groups == 1).sum()]
    with pytest.raises(RuntimeError, match="both sides"):
        run_benchmark(data.X, data.y, data.groups, trials, sfreq=data.sfreq, models=["none"])


# --- statistics -------------------------------------------------------------------------------
def test_rank_biserial_by_hand():
    # |d| = 0.1, 0.2, 0.05 -> ranks 2, 3, 1; positives 2 + 3, negative 1: (5 - 1) / 6
    assert rank_biserial([0.1, 0.2, -0.05]) == pytest.approx(4 / 6)
    # ties share the average rank; zeros are dropped: |d| = .1,.1,.3 -> 1.5, 1.5, 3
    assert rank_biserial([0.1, -0.1, 0.3, 0.0]) == pytest.approx((1.5 + 3 - 1.5) / 6)
    assert rank_biserial([-1, -2]) == -1.0
    assert np.isnan(rank_biserial([0.0, 0.0]))


def test_min_pairs_for_test_is_the_exact_tests_limit():
    for alpha in (0.05, 0.01, 0.1):
        n = min_pairs_for_test(alpha)
        # smallest two-sided exact p-value with n pairs is 2 / 2**n
        assert 2 / 2**n < alpha <= 2 / 2 ** (n - 1)


def test_paired_comparison_exact_p_and_verdicts():
    a = np.array([0.61, 0.72, 0.65, 0.83, 0.70, 0.77])
    r = paired_comparison(a, np.full(6, 1 / 3))
    # all six differences positive: the exact two-sided p-value is 2 / 2**6
    assert r.p_value == pytest.approx(2 / 64)
    assert r.verdict == "better" and r.rank_biserial == 1.0
    assert r.mean_difference == pytest.approx(a.mean() - 1 / 3)
    assert paired_comparison(np.full(6, 1 / 3), a).verdict == "worse"
    b = a + np.array([0.05, -0.02, 0.03, -0.04, 0.01, -0.06])
    r = paired_comparison(a, b)
    assert r.p_value == pytest.approx(wilcoxon(a, b).pvalue)
    assert r.verdict == "no significant difference"


def test_paired_comparison_says_when_too_few_folds():
    r = paired_comparison([0.6, 0.7, 0.8, 0.9, 0.7], [0.3] * 5)
    assert r.p_value is None and r.verdict == "too few folds"
    assert "needs 6" in r.describe("majority")
    r = paired_comparison([0.5] * 7, [0.5] * 7)
    assert r.verdict == "identical" and "identical" in r.describe("de_lr")


def test_compare_to_baselines_pairs_over_folds():
    scores = {"majority": [1 / 3] * 6, "de_lr": [0.5, 0.6, 0.7, 0.55, 0.65, 0.6],
              "net": [0.4, 0.7, 0.6, 0.6, 0.7, 0.5]}  # fmt: skip
    folds = pd.DataFrame(
        [{"model": m, "fold": i, "seed": s, "balanced_accuracy": v + (0.01 if s else -0.01)}
         for m, vals in scores.items() for i, v in enumerate(vals) for s in (0, 1)]
    )  # fmt: skip
    comp, lines = compare_to_baselines(folds)
    row = comp[(comp.model == "net") & (comp.reference == "de_lr")].iloc[0]
    # seeds are averaged within a fold first: the pairs are the six fold means
    expected = wilcoxon(scores["net"], scores["de_lr"]).pvalue
    assert row.p_value == pytest.approx(expected)
    assert row.n == 6
    assert lines[0].startswith("de_lr: balanced accuracy 0.600 over 6 folds; vs majority")
    assert "net" in lines[1] and "vs de_lr" in lines[1]


def test_summary_matches_hand_computation():
    res = pd.DataFrame(
        {"model": ["a"] * 4 + ["b"] * 2, "fold": [0, 1, 0, 1, 0, 1], "seed": [0, 0, 1, 1, 0, 0],
         "balanced_accuracy": [0.5, 0.7, 0.7, 0.9, 0.2, 0.4], "macro_f1": [0.4] * 6,
         "fit_time_s": [1.0, 3.0, 1.0, 3.0, 0.0, 0.0]}
    )  # fmt: skip
    s = summarize(res)
    assert list(s.index) == ["a", "b"]
    # fold means over seeds: 0.6, 0.8 -> mean 0.7, std sqrt(0.02)
    assert s.loc["a", "balanced_accuracy_mean"] == pytest.approx(0.7)
    assert s.loc["a", "balanced_accuracy_std"] == pytest.approx(np.std([0.6, 0.8], ddof=1))
    # seed means 0.6, 0.8
    assert s.loc["a", "balanced_accuracy_seed_std"] == pytest.approx(np.std([0.6, 0.8], ddof=1))
    assert s.loc["a", "n_seeds"] == 2 and s.loc["b", "n_seeds"] == 1
    assert np.isnan(s.loc["b", "balanced_accuracy_seed_std"])


# --- registry ---------------------------------------------------------------------------------
def test_registry_adds_a_model_in_one_call(data):
    register_model("stratified", lambda ctx: DummyClassifier(strategy="stratified",
                   random_state=ctx.random_state), default=False)  # fmt: skip
    try:
        assert resolve_models(["stratified"]) == ["majority", "de_lr", "stratified"]
        assert "stratified" not in resolve_models()  # not a default model
        res = run_benchmark(data.X, data.y, data.groups, data.trials, sfreq=data.sfreq,
                            models=["stratified"], seeds=[0, 1])  # fmt: skip
        assert set(res.folds["model"]) == {"majority", "de_lr", "stratified"}
        assert len(res.folds) == 3 * 3 * 2
    finally:
        del REGISTRY["stratified"]
    with pytest.raises(ValueError, match="unknown model"):
        resolve_models(["nope"])
    with pytest.raises(ValueError, match="without spaces"):
        register_model("a b", lambda ctx: None)
    assert resolve_models(["none"]) == ["majority", "de_lr"]


#: the classical ECG and fusion models of --modality (no training epochs, no recipe)
_CLASSICAL = ("hrv_lr", "fusion_early", "fusion_late")
_DEEP_MODELS = [n for n, s in REGISTRY.items() if not s.baseline and n not in _CLASSICAL]


def _ctx_for(name, **kw):
    """A context for model ``name``: EEG, or EEG + one ECG lead for the ECG model."""
    ecg = name == "sslecg"
    names = [*EMOTIV14, "ECG"] if ecg else list(EMOTIV14)
    types = ["eeg"] * 14 + ["ecg"] if ecg else None
    return BenchmarkContext(sfreq=128.0, n_channels=len(names), n_times=256, n_classes=3,
                            ch_names=names, ch_types=types, **kw)  # fmt: skip


def _final(model):
    """The estimator of a model, after its channel selection (a Pipeline) if any."""
    return model[-1] if hasattr(model, "steps") else model


@pytest.mark.parametrize("name", _DEEP_MODELS)
def test_every_model_takes_epochs_device_precision_and_seed(name):
    ctx = _ctx_for(name, epochs=3, device="cpu", precision="bf16", random_state=7)
    params = _final(REGISTRY[name](ctx)).get_params()
    assert (params["max_epochs"], params["device"], params["precision"]) == (3, "cpu", "bf16")
    assert params["random_state"] == 7
    # without --epochs a model keeps a budget of its own (never 0, never silently 1)
    own = _final(REGISTRY[name](_ctx_for(name)))
    assert own.get_params()["max_epochs"] >= 10


# --- runs -------------------------------------------------------------------------------------
def test_run_matches_cross_val_score_and_tables_agree(data, tmp_path):
    res = run_benchmark(data.X, data.y, data.groups, data.trials, sfreq=data.sfreq,
                        models=["none"], output=tmp_path, plots=False,
                        class_names=data.target_names)  # fmt: skip
    de_lr = make_pipeline(DifferentialEntropy(sfreq=data.sfreq, flatten=True), StandardScaler(),
                          LogisticRegression(max_iter=2000))  # fmt: skip
    ref = cross_val_score(de_lr, data.X, data.y, groups=data.groups, cv=LeaveOneGroupOut(),
                          scoring="balanced_accuracy")  # fmt: skip
    got = res.folds[res.folds.model == "de_lr"]["balanced_accuracy"].to_numpy()
    np.testing.assert_allclose(got, ref)
    maj = res.folds[res.folds.model == "majority"]
    np.testing.assert_allclose(maj["balanced_accuracy"], 1 / 3)  # one class predicted
    # LOSO: per-subject scores are the fold scores
    np.testing.assert_allclose(res.subjects["balanced_accuracy"], res.folds["balanced_accuracy"])
    # confusion matrices count every test window once per fold
    for cm in res.confusion.values():
        assert cm.sum() == len(data.y) and cm.shape == (3, 3)
    # the files on disk hold the same numbers and the record says what ran
    disk = read_results(tmp_path)
    for rec in disk["record"]["folds"]:
        cm = np.asarray(rec["confusion"], dtype=float)
        # balanced accuracy = mean recall = mean of the row-normalised diagonal
        assert rec["balanced_accuracy"] == pytest.approx(np.mean(np.diag(cm) / cm.sum(axis=1)))
    cols = ["model", "align", "seed", "fold", "n_test", "balanced_accuracy", "macro_f1",
            "train_balanced_accuracy", "device"]  # fmt: skip
    pd.testing.assert_frame_equal(disk["folds"][cols], res.folds[cols], check_dtype=False)
    run = disk["record"]["runs"][0]
    assert {"numpy", "scikit-learn", "torch", "python"} <= set(run["versions"])
    assert run["seeds"] == [0] and run["device"] == "cpu" and run["command"]
    # a plain CSV (a header row, then one row per fold, no index or comment lines): the run's
    # record is in results.json
    with open(tmp_path / "results.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["model", "align", "seed", "fold"]
    assert len(rows) == 1 + len(res.folds) and {len(r) for r in rows} == {len(rows[0])}
    assert list(pd.read_csv(tmp_path / "results.csv").columns) == rows[0]
    assert list(disk["summary"]["model"]) == ["majority", "de_lr"]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_interrupted_run_resumes_to_the_same_table(data, tmp_path):
    kw = dict(sfreq=data.sfreq, models=["none"], plots=False)
    args = (data.X, data.y, data.groups, data.trials)
    full = run_benchmark(*args, output=tmp_path / "full", **kw)
    logs = []
    part = run_benchmark(*args, output=tmp_path / "resumed", max_folds=1, **kw)
    assert len(part.folds) == 2
    resumed = run_benchmark(*args, output=tmp_path / "resumed", log=logs.append, **kw)
    assert logs == [f"resuming: 2 of 6 fold results already in {tmp_path / 'resumed'}"]
    pd.testing.assert_frame_equal(
        resumed.folds.drop(columns=TIMING), full.folds.drop(columns=TIMING)
    )
    assert sorted(resumed.folds["run"]) == [0, 0, 1, 1, 1, 1]
    # another configuration in the same folder is refused before anything runs
    with pytest.raises(ResultsMismatchError, match="epochs"):
        run_benchmark(*args, output=tmp_path / "resumed", epochs=3, **kw)
    again = run_benchmark(*args, output=tmp_path / "resumed", epochs=3, overwrite=True, **kw)
    assert set(again.folds["run"]) == {0}


class _SwallowsInterrupt(ClassifierMixin, BaseEstimator):
    """Like a training loop that catches Ctrl-C and returns a half-trained model."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_sigint_caught_by_an_estimator_still_stops_without_a_row(data, tmp_path):
    register_model("swallow", lambda ctx: _SwallowsInterrupt(), default=False)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_benchmark(data.X, data.y, data.groups, data.trials, sfreq=data.sfreq,
                          models=["swallow"], output=tmp_path, plots=False)  # fmt: skip
    finally:
        del REGISTRY["swallow"]
    rec = json.loads((tmp_path / "results.json").read_text())
    # fold 0 of the baselines finished; the interrupted fold left nothing
    assert [(r["model"], r["fold"]) for r in rec["folds"]] == [("majority", 0), ("de_lr", 0)]
    csv = pd.read_csv(tmp_path / "results.csv")
    assert list(csv["model"]) == ["majority", "de_lr"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    atomic_write_text(path, "old\n")

    def interrupted(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(path, "new\n")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["results.csv"]


def test_parallel_batches_give_the_serial_numbers(data):
    import joblib

    kw = dict(sfreq=data.sfreq, models=["none"], protocol="subject-dependent")
    serial = run_benchmark(data.X, data.y, data.groups, data.trials, **kw)
    with joblib.parallel_backend("threading"):
        par = run_benchmark(data.X, data.y, data.groups, data.trials, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(par.folds.drop(columns=TIMING), serial.folds.drop(columns=TIMING))
    # subject-dependent: two folds per subject, verdicts paired over the 3 subjects
    assert len(serial.folds) == 2 * 3 * 2
    assert "over 3 subjects" in serial.verdicts[0]


@pytest.mark.skipif(len(ALIGNMENTS) < 2, reason="skemotion.transfer not available")
def test_alignment_runs_every_model_on_the_same_folds_and_per_subject(data):
    from sklearn.pipeline import Pipeline

    from skemotion.transfer import SubjectStandardizer

    res = run_benchmark(data.X, data.y, data.groups, data.trials, sfreq=data.sfreq,
                        models=["none"], align=["none", "standardize"],
                        protocol="group-kfold", n_splits=2)  # fmt: skip
    assert set(zip(res.folds["model"], res.folds["align"])) == {
        (m, a) for m in ("majority", "de_lr") for a in ("none", "standardize")
    }
    # reference: standardise each training subject with its own statistics in fit, and each
    # test subject of the (two-subject) test fold on its own at predict time
    folds = list(GroupKFold(n_splits=2).split(data.X, data.y, data.groups))
    for k, (tr, te) in enumerate(folds):
        de_lr = make_pipeline(DifferentialEntropy(sfreq=data.sfreq, flatten=True),
                              StandardScaler(), LogisticRegression(max_iter=2000))  # fmt: skip
        pipe = Pipeline([("align", SubjectStandardizer()), ("model", de_lr)])
        pipe.fit(data.X[tr], data.y[tr], align__groups=data.groups[tr])
        pred = np.empty(len(te), dtype=data.y.dtype)
        for s in np.unique(data.groups[te]):
            m = data.groups[te] == s
            pred[m] = pipe.predict(data.X[te][m])
        got = res.folds[
            (res.folds["model"] == "de_lr") & (res.folds["align"] == "standardize")
            & (res.folds["fold"] == k)
        ]  # fmt: skip
        assert got["balanced_accuracy"].item() == pytest.approx(
            balanced_accuracy_score(data.y[te], pred)
        )


def test_plots_written_or_skipped_with_a_note(data, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    kw = dict(sfreq=data.sfreq, models=["none"], max_folds=2)
    args = (data.X, data.y, data.groups, data.trials)
    res = run_benchmark(*args, output=tmp_path / "a", **kw)
    for name in ("subject_scores.png", "confusion_matrices.png"):
        assert (tmp_path / "a" / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert res.notes == []
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    res = run_benchmark(*args, output=tmp_path / "b", **kw)
    assert res.notes == [
        "plots skipped: matplotlib is not installed (pip install 'skemotion[plot]')"
    ]
    assert not (tmp_path / "b" / "plots").exists()


@pytest.mark.parametrize("recipe", RECIPES)
@pytest.mark.parametrize("name", _DEEP_MODELS)
def test_recipes_set_the_cross_subject_options_of_every_deep_model(name, recipe):
    ctx = _ctx_for(name, recipe=recipe)
    params = _final(REGISTRY[name](ctx)).get_params()
    on = {
        "subject_adversarial": params["subject_adversarial"] > 0,
        "adapt_bn": params["adapt_bn"] == "batch",
        "augment": bool(params["augment"]),
    }
    want = {"default": set(), "adversarial": {"subject_adversarial"}, "adabn": {"adapt_bn"},
            "augment": {"augment"}, "all": set(on)}[recipe]  # fmt: skip
    assert {k for k, v in on.items() if v} == want
    assert set(recipe_options(ctx)) == want


def test_adversarial_recipe_trains_with_the_subjects_and_is_recorded(data, tmp_path):
    kw = dict(sfreq=data.sfreq, models=["eegnet"], epochs=1, plots=False, max_folds=1,
              device="cpu", align=["none", "euclidean"])  # fmt: skip
    args = (data.X, data.y, data.groups, data.trials)
    res = run_benchmark(*args, output=tmp_path, recipe="adversarial", **kw)
    assert set(res.folds.model) == {"majority", "de_lr", "eegnet"}
    assert read_results(tmp_path)["record"]["config"]["recipe"] == "adversarial"
    with pytest.raises(ResultsMismatchError, match="recipe"):
        run_benchmark(*args, output=tmp_path, recipe="adabn", **kw)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"recipe": "magic"}, "argument recipe must be one of"),
        ({"epochs": 0}, "argument epochs must be an integer >= 1"),
        ({"max_folds": -1}, "argument max_folds must be an integer >= 1"),
        ({"device": "tpu"}, "argument device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'tpu'"),
        ({"seeds": [0, 0]}, "argument seeds must be distinct"),
        ({"n_jobs": 0}, "argument n_jobs must be a non-zero integer"),
        ({"precision": "8"}, "argument precision must be one of"),
        ({"align": ["nope"]}, "argument align"),
        ({"models": ["nope"]}, "argument models must be registered: unknown model"),
        ({"models": ["none", "eegnet"]}, "argument models must be registered models, or none"),
        ({"shrinkage": 1.0}, r"argument shrinkage must be a number in \[0, 1\); got 1.0"),
        ({"seeds": [2**32]}, r"argument seeds must be below 2\*\*32"),
        ({"protocol": "loso", "n_splits": 3}, "argument n_splits does not apply to protocol"),
        ({"precision": "16-mixed", "device": "cpu"}, "precision='16-mixed' needs a CUDA device"),
    ],
)
def test_run_benchmark_checks_values_like_the_command_line(data, kwargs, match):
    with pytest.raises(BenchmarkInputError, match=match):
        run_benchmark(data.X, data.y, data.groups, data.trials, sfreq=data.sfreq, **kwargs)


# --- one check of the options -----------------------------------------------------------------
def test_check_options_reads_command_line_strings_and_gives_the_defaults():
    opts = check_options(models="eegnet", seeds="3,1", n_jobs="-1", shrinkage="0.01", epochs="5",
                         protocol="group-kfold", n_splits="3", device="cpu")  # fmt: skip
    assert opts.models == ("majority", "de_lr", "eegnet")
    assert (opts.seeds, opts.n_jobs, opts.shrinkage, opts.epochs) == ((3, 1), -1, 0.01, 5)
    assert (opts.n_splits, opts.device, opts.run_device) == (3, "cpu", "cpu")
    defaults = check_options()
    assert defaults.protocol == "loso" and defaults.seeds == (0,) and defaults.align == ("none",)
    # the checked options passed on (the command line to run_benchmark) check to themselves
    assert check_options(**opts.kwargs()) == opts
    assert check_options(**defaults.kwargs()) == defaults


def test_a_bad_option_names_itself_and_the_value_once(data):
    with pytest.raises(OptionError) as exc:
        run_benchmark(data.X, data.y, data.groups, data.trials, sfreq=data.sfreq,
                      models=["none"], max_folds="two")  # fmt: skip
    assert exc.value.option == "max_folds"
    assert str(exc.value) == "run_benchmark: argument max_folds must be an integer >= 1; got 'two'."
    with pytest.raises(TypeError, match="unknown option"):
        check_options(epoch=3)


def test_make_folds_checks_its_options_with_the_benchmarks_check():
    groups, trials, y = _layout(n_subjects=4)
    with pytest.raises(OptionError) as exc:
        make_folds("group-kfold", y, groups, trials, n_splits=1)
    assert exc.value.option == "n_splits"
    assert exc.value.clause == "n_splits must be an integer >= 2; got 1"
    assert str(exc.value).startswith("make_folds: argument n_splits")


# --- each fold: one model, one prediction of each window, cross_validate's scores ------------
COUNTS = Counter()


class _Counting(ClassifierMixin, BaseEstimator):
    """Predicts the first class; counts how often it is built, fitted and asked to predict."""

    def __init__(self, random_state=None):
        COUNTS["built"] += 1
        self.random_state = random_state

    def fit(self, X, y):
        COUNTS["fitted"] += 1
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        COUNTS["predict calls"] += 1
        COUNTS["predicted windows"] += len(X)
        return np.full(len(X), self.classes_[0])


def _counting(ctx):
    COUNTS["factory"] += 1
    return _Counting(random_state=ctx.random_state)


def test_each_fold_builds_fits_and_predicts_once(data):
    COUNTS.clear()
    register_model("counting", _counting, default=False)
    try:
        res = run_benchmark(data.X, data.y, data.groups, data.trials, sfreq=data.sfreq,
                            models=["counting"], seeds=[0, 1])  # fmt: skip
    finally:
        del REGISTRY["counting"]
    n_folds, n_seeds, n_subjects = 3, 2, 3
    assert len(res.folds[res.folds.model == "counting"]) == n_folds * n_seeds
    # one model per seed, cloned once per fold by cross_validate
    assert COUNTS["factory"] == n_seeds
    assert COUNTS["built"] == n_seeds + n_folds * n_seeds
    assert COUNTS["fitted"] == n_folds * n_seeds
    # every test and training window predicted once per fold, one subject at a time
    assert COUNTS["predicted windows"] == n_folds * n_seeds * len(data.y)
    assert COUNTS["predict calls"] == n_folds * n_seeds * n_subjects


def test_fold_records_hold_the_scores_cross_validate_computed(data, monkeypatch):
    import sklearn.model_selection

    real = sklearn.model_selection.cross_validate
    outputs = []

    def marked(*args, **kwargs):  # cross_validate, with its scores shifted by a known amount
        out = real(*args, **kwargs)
        outputs.append({k: v.copy() for k, v in out.items()})
        for key in ("test_balanced_accuracy", "train_macro_f1", "test_subject_0_macro_f1"):
            out[key] = out[key] + 1000.0
        return out

    monkeypatch.setattr(sklearn.model_selection, "cross_validate", marked)
    res = run_benchmark(data.X, data.y, data.groups, data.trials, sfreq=data.sfreq,
                        models=["none"], max_folds=1)  # fmt: skip
    assert len(outputs) == 2  # majority and de_lr on fold 0 (test subject 0)
    for row, out in zip(res.folds.itertuples(), outputs):
        assert row.balanced_accuracy == out["test_balanced_accuracy"][0] + 1000.0
        assert row.train_macro_f1 == out["train_macro_f1"][0] + 1000.0
        assert row.macro_f1 == out["test_macro_f1"][0]
    assert list(res.subjects["macro_f1"]) == [o["test_subject_0_macro_f1"][0] + 1000.0
                                              for o in outputs]  # fmt: skip


def test_verdicts_count_one_fold_in_the_singular():
    from skemotion.benchmark import compare_to_baselines

    folds = pd.DataFrame(
        {
            "model": ["majority", "de_lr", "eegnet"],
            "align": ["none"] * 3,
            "seed": [0] * 3,
            "fold": [0] * 3,
            "balanced_accuracy": [1 / 3, 0.6, 0.5],
        }
    )
    _, verdicts = compare_to_baselines(folds)
    line = next(v for v in verdicts if v.startswith("eegnet:"))
    assert "over 1 fold;" in line and "1 fold differ" in line and "1 folds" not in line
