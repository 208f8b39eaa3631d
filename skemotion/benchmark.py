"""Subject-wise benchmark of the deep models against a trivial and a classical baseline.

The protocol is leave-one-subject-out (``LeaveOneGroupOut`` with subjects as groups), so no
window of a trial is ever on both sides of a split; this is checked for every fold. Every table
shows, on the same folds, a majority-class baseline and a differential-entropy + logistic
regression baseline beside the deep models, so a reader sees at once whether a deep model
learned anything.

The command line (``skemotion benchmark``) lives in :mod:`skemotion.cli`; this module holds the
reusable parts: the model registry and :func:`run_benchmark`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["BenchmarkContext", "MODELS", "BASELINES", "run_benchmark", "summarize", "format_table"]


@dataclass
class BenchmarkContext:
    """What a model factory may use to configure its estimator."""

    sfreq: float
    n_channels: int
    n_times: int
    n_classes: int
    epochs: int | None = None  # None: each model's own benchmark budget
    device: str = "auto"
    precision: str = "32"
    random_state: int = 0
    verbose: int = 0


def _majority(ctx: BenchmarkContext):
    return DummyClassifier(strategy="most_frequent")


def _de_lr(ctx: BenchmarkContext):
    from .features import DifferentialEntropy

    return Pipeline(
        [
            ("de", DifferentialEntropy(sfreq=ctx.sfreq, flatten=True)),
            ("scale", StandardScaler()),
            ("lr", LogisticRegression(max_iter=2000)),
        ]
    )


def _eegnet(ctx: BenchmarkContext):
    from .classifiers import EEGNetClassifier

    return EEGNetClassifier(
        kernel_length=max(2, int(ctx.sfreq // 2)),
        max_epochs=ctx.epochs or 60,
        lr=1e-3,
        batch_size=32,
        device=ctx.device,
        precision=ctx.precision,
        random_state=ctx.random_state,
        verbose=ctx.verbose,
    )


def _tsstdn(ctx: BenchmarkContext):
    from .classifiers import TSSTDNClassifier

    return TSSTDNClassifier(
        sfreq=ctx.sfreq,
        max_epochs=ctx.epochs or 20,
        lr=1e-3,
        batch_size=64,
        device=ctx.device,
        precision=ctx.precision,
        random_state=ctx.random_state,
        verbose=ctx.verbose,
    )


#: baselines run on every benchmark, on the same folds as the models
BASELINES: dict[str, Callable[[BenchmarkContext], object]] = {
    "majority": _majority,
    "de_lr": _de_lr,
}

#: deep models selectable with ``--models``
MODELS: dict[str, Callable[[BenchmarkContext], object]] = {
    "eegnet": _eegnet,
    "tsstdn": _tsstdn,
}


def run_benchmark(
    X,
    y,
    groups,
    trials,
    *,
    ctx: BenchmarkContext,
    models=None,
    max_folds=None,
    progress=True,
):
    """Run the leave-one-subject-out benchmark and return one row per (model, fold).

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_channels, n_times)
    y : ndarray of shape (n_windows,)
    groups : ndarray of shape (n_windows,)
        Subject per window (the LOSO groups).
    trials : ndarray of shape (n_windows,)
        Trial per window; checked never to straddle a split.
    ctx : BenchmarkContext
    models : list of str, optional
        Names in :data:`MODELS` (default: all). Baselines always run.
    max_folds : int, optional
        Run only the first ``max_folds`` subjects as test folds (quick looks).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    results : pandas.DataFrame
        Columns model, fold, test_subject, balanced_accuracy, macro_f1, fit_time_s, n_train,
        n_test.
    """
    from tqdm.auto import tqdm

    models = list(MODELS) if models is None else list(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"run_benchmark: unknown models {unknown}; available: {sorted(MODELS)}.")
    factories = {**BASELINES, **{m: MODELS[m] for m in models}}
    splits = list(LeaveOneGroupOut().split(X, y, groups))
    if max_folds is not None:
        splits = splits[:max_folds]
    rows = []
    bar = tqdm(total=len(splits) * len(factories), disable=not progress, desc="benchmark")
    for fold, (train, test) in enumerate(splits):
        leaked = np.intersect1d(trials[train], trials[test])
        if leaked.size:
            raise RuntimeError(f"fold {fold}: trials {leaked[:5]} on both sides of the split")
        for name, factory in factories.items():
            bar.set_postfix_str(f"fold {fold} {name}")
            est = clone(factory(ctx))
            t0 = time.perf_counter()
            est.fit(X[train], y[train])
            fit_time = time.perf_counter() - t0
            pred = est.predict(X[test])
            rows.append(
                {
                    "model": name,
                    "fold": fold,
                    "test_subject": groups[test][0],
                    "balanced_accuracy": balanced_accuracy_score(y[test], pred),
                    "macro_f1": f1_score(y[test], pred, average="macro"),
                    "fit_time_s": fit_time,
                    "n_train": len(train),
                    "n_test": len(test),
                }
            )
            bar.update(1)
    bar.close()
    return pd.DataFrame(rows)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over folds per model (in the order the models first appear)."""
    order = list(dict.fromkeys(results["model"]))
    agg = results.groupby("model").agg(
        balanced_accuracy_mean=("balanced_accuracy", "mean"),
        balanced_accuracy_std=("balanced_accuracy", "std"),
        macro_f1_mean=("macro_f1", "mean"),
        macro_f1_std=("macro_f1", "std"),
        fit_time_s_mean=("fit_time_s", "mean"),
        n_folds=("fold", "count"),
    )
    return agg.loc[order].fillna(0.0)


def format_table(summary: pd.DataFrame, chance: float | None = None) -> str:
    """Plain-text table: balanced accuracy and macro-F1 as mean +- std, fit time."""
    lines = [
        f"{'model':<12} {'balanced acc':>16} {'macro-F1':>16} {'fit time (s)':>13} {'folds':>6}",
        "-" * 67,
    ]
    for name, r in summary.iterrows():
        lines.append(
            f"{name:<12} {r.balanced_accuracy_mean:>8.3f} +- {r.balanced_accuracy_std:.3f}"
            f" {r.macro_f1_mean:>8.3f} +- {r.macro_f1_std:.3f} {r.fit_time_s_mean:>13.2f}"
            f" {int(r.n_folds):>6}"
        )
    if chance is not None:
        lines.append(f"(chance balanced accuracy: {chance:.3f})")
    return "\n".join(lines)
