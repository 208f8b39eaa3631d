"""The `skemotion benchmark` command on a tiny synthetic corpus."""

import json

import numpy as np
import pandas as pd
import pytest

from skemotion.benchmark import BenchmarkContext, format_table, run_benchmark, summarize
from skemotion.cli import main
from skemotion.datasets import make_eeg_emotion


def test_benchmark_command_writes_table_and_files(tmp_path, capsys):
    out = tmp_path / "res"
    rc = main(
        ["benchmark", "--montage", "emotiv14", "--n-subjects", "3", "--epochs", "2",
         "--models", "eegnet", "--output", str(out), "--quiet"]
    )  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    for name in ("majority", "de_lr", "eegnet", "balanced acc", "macro-F1"):
        assert name in text
    res = pd.read_csv(out / "results.csv")
    assert set(res["model"]) == {"majority", "de_lr", "eegnet"}
    assert len(res) == 3 * 3  # 3 models x 3 LOSO folds
    summary = json.loads((out / "summary.json").read_text())
    assert summary["protocol"] == "leave-one-subject-out"
    assert summary["n_subjects"] == 3
    maj = [r for r in summary["summary"] if r["model"] == "majority"][0]
    # the majority baseline predicts one class: balanced accuracy is exactly 1 / n_classes
    assert maj["balanced_accuracy_mean"] == pytest.approx(1 / 3)


def test_benchmark_rejects_unknown_model(tmp_path):
    with pytest.raises(SystemExit, match="unknown models"):
        main(["benchmark", "--models", "nope", "--output", str(tmp_path)])


def test_benchmark_real_dataset_needs_path(tmp_path):
    with pytest.raises(SystemExit, match="--data-path"):
        main(["benchmark", "--dataset", "deap", "--output", str(tmp_path)])


def test_run_benchmark_refuses_leaky_trials():
    d = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=2, random_state=0)
    trials = d.trials.copy()
    trials[d.groups == 1] = trials[d.groups == 0][: (d.groups == 1).sum()]  # shared trial ids
    ctx = BenchmarkContext(sfreq=d.sfreq, n_channels=14, n_times=256, n_classes=3, epochs=1)
    with pytest.raises(RuntimeError, match="both sides"):
        run_benchmark(d.X, d.y, d.groups, trials, ctx=ctx, models=[], progress=False)


def test_summary_matches_hand_computation():
    res = pd.DataFrame(
        {"model": ["a", "a", "b", "b"], "fold": [0, 1, 0, 1],
         "balanced_accuracy": [0.5, 0.7, 0.2, 0.4], "macro_f1": [0.4, 0.6, 0.1, 0.3],
         "fit_time_s": [1.0, 3.0, 0.0, 0.0]}
    )  # fmt: skip
    s = summarize(res)
    assert list(s.index) == ["a", "b"]
    assert s.loc["a", "balanced_accuracy_mean"] == pytest.approx(0.6)
    assert s.loc["a", "balanced_accuracy_std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert s.loc["a", "fit_time_s_mean"] == pytest.approx(2.0)
    assert "0.600 +- 0.141" in format_table(s)


@pytest.mark.slow
def test_default_benchmark_first_fold(tmp_path, capsys):
    """The default configuration (every registered model, full epoch budgets), one fold."""
    from skemotion.benchmark import MODELS

    rc = main(["benchmark", "--max-folds", "1", "--output", str(tmp_path), "--quiet"])
    assert rc == 0
    res = pd.read_csv(tmp_path / "results.csv")
    assert set(res["model"]) == {"majority", "de_lr", *MODELS}
