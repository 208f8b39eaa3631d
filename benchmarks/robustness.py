"""Robustness to muscle artifact: TS-STDN vs EEGNet under EMG contamination of the test data.

Leave-one-subject-out on the synthetic corpus. Each fold trains every model on the clean
training subjects (TS-STDN contaminates its own training batches on the fly, as its estimator
does by default) and scores it on the held-out subject three times: clean, and contaminated with
EMG (:func:`skemotion.features.functional.emg_contamination`, the TS-STDN protocol: 60% of the
electrode groups, standard-dB SNR per channel) at 0 dB and -5 dB. The contaminated test sets are
drawn once per fold and shared by all models. The paper's claim (Liu et al., ICONIP 2023) is
that TS-STDN loses much less under EMG than a model without its denoising streams; the table
reports the drop of each model.

Models (deep models share epochs, learning rate and batch size):

- ``tsstdn``: TSSTDNClassifier, on-the-fly EMG at U(-10, 10) dB while training;
- ``eegnet``: EEGNetClassifier trained on clean windows (the non-denoising baseline);
- ``eegnet_emg``: control, EEGNet trained on one EMG-contaminated copy of every training window
  (same SNR range, drawn once), to separate the effect of seeing noise from that of denoising;
- ``tsstdn_clean``: control, TS-STDN trained without contamination (``noise=None``);
- ``majority`` and ``de_lr`` (differential entropy + logistic regression): the baselines of
  ``skemotion benchmark``, on the same folds.

Run (about 17 min with the defaults on one thread of a shared 2-core Xeon)::

    python benchmarks/robustness.py --output robustness_results

Results are recorded in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import LeaveOneGroupOut

from skemotion.benchmark import BASELINES, BenchmarkContext
from skemotion.classifiers import EEGNetClassifier, TSSTDNClassifier
from skemotion.datasets import make_eeg_emotion
from skemotion.features.functional import emg_contamination

TRAIN_SNR = (-10.0, 10.0)
DEEP = ("tsstdn", "eegnet", "eegnet_emg", "tsstdn_clean")


def make_models(args, sfreq):
    common = dict(
        max_epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        device=args.device,
        random_state=args.random_state,
    )
    eegnet = EEGNetClassifier(kernel_length=max(2, int(sfreq // 2)), **common)
    tsstdn = TSSTDNClassifier(sfreq=sfreq, noise="emg", noise_snr_db=TRAIN_SNR, **common)
    ctx = BenchmarkContext(sfreq=sfreq, n_channels=0, n_times=0, n_classes=0, epochs=args.epochs)
    models = {name: factory(ctx) for name, factory in BASELINES.items()}
    models.update(
        tsstdn=tsstdn,
        eegnet=eegnet,
        eegnet_emg=eegnet,
        tsstdn_clean=clone(tsstdn).set_params(noise=None),
    )
    return {k: v for k, v in models.items() if k not in DEEP or k in args.models}


def run(args):
    torch.set_num_threads(args.threads)
    data = make_eeg_emotion(
        args.montage,
        n_subjects=args.n_subjects,
        n_classes=3,
        n_trials_per_class=args.trials_per_class,
        n_windows_per_trial=args.windows_per_trial,
        window_seconds=args.window_seconds,
        effect_size=args.effect_size,
        random_state=args.random_state,
    )
    X, y, groups, trials, sfreq = data.X, data.y, data.groups, data.trials, float(data.sfreq)
    print(f"data: X {X.shape}, sfreq {sfreq} Hz, {len(np.unique(groups))} subjects", flush=True)
    models = make_models(args, sfreq)
    rows = []
    splits = list(LeaveOneGroupOut().split(X, y, groups))[: args.max_folds]
    for fold, (train, test) in enumerate(splits):
        if np.intersect1d(trials[train], trials[test]).size:
            raise RuntimeError(f"fold {fold}: a trial straddles the split")
        rng = np.random.default_rng([args.random_state, fold])
        tests = {"clean": X[test]}
        for snr in args.snrs:
            tests[f"{snr:g} dB"] = emg_contamination(X[test], sfreq, snr, rng=rng)
        X_emg = emg_contamination(
            X[train], sfreq, rng.uniform(*TRAIN_SNR, size=len(train)), rng=rng
        )
        for name, proto in models.items():
            est = clone(proto)
            t0 = time.perf_counter()
            est.fit(X_emg if name == "eegnet_emg" else X[train], y[train])
            fit_time = time.perf_counter() - t0
            for condition, Xt in tests.items():
                pred = est.predict(Xt)
                rows.append(
                    dict(
                        model=name,
                        fold=fold,
                        test_subject=groups[test][0],
                        condition=condition,
                        balanced_accuracy=balanced_accuracy_score(y[test], pred),
                        macro_f1=f1_score(y[test], pred, average="macro"),
                        fit_time_s=fit_time,
                    )
                )
            ba = {r["condition"]: round(r["balanced_accuracy"], 3) for r in rows[-len(tests) :]}
            print(f"fold {fold} {name:13s} fit {fit_time:6.1f} s  {ba}", flush=True)
    return pd.DataFrame(rows)


def table(results: pd.DataFrame, metric: str, conditions) -> str:
    """Markdown table: mean +- std over folds per condition, and the mean per-fold drop."""
    wide = results.pivot_table(index=["model", "fold"], columns="condition", values=metric)
    fit = results.groupby("model")["fit_time_s"].mean()
    head = ["model", *conditions, *(f"drop {c}" for c in conditions[1:]), "fit time (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = [m for m in ("tsstdn", "eegnet", "eegnet_emg", "tsstdn_clean", "de_lr", "majority")]
    for model in [m for m in order if m in wide.index.get_level_values(0)]:
        w = wide.loc[model]
        cells = [f"{w[c].mean():.3f} ± {w[c].std(ddof=0):.3f}" for c in conditions]
        drops = [w["clean"] - w[c] for c in conditions[1:]]
        cells += [f"{round(100 * d.mean(), 1) + 0.0:+.1f} pp" for d in drops]  # no "-0.0"
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {fit[model]:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--montage", default="emotiv14", choices=["seed62", "deap32", "emotiv14"])
    p.add_argument("--n-subjects", type=int, default=6)
    p.add_argument("--trials-per-class", type=int, default=2)
    p.add_argument("--windows-per-trial", type=int, default=10)
    p.add_argument("--window-seconds", type=float, default=2.0)
    p.add_argument("--effect-size", type=float, default=2.0)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--snrs", type=float, nargs="+", default=[0.0, -5.0])
    p.add_argument("--models", default=",".join(DEEP), help=f"deep models among {DEEP}")
    p.add_argument("--max-folds", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--output", type=Path, default=None, help="folder for results.csv")
    args = p.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    unknown = set(args.models) - set(DEEP)
    if unknown:
        p.error(f"unknown models {sorted(unknown)}; available {DEEP}")

    t0 = time.perf_counter()
    results = run(args)
    conditions = ["clean", *(f"{s:g} dB" for s in args.snrs)]
    print()
    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s); total {time.perf_counter() - t0:.0f} s"
    )
    print(f"\nbalanced accuracy (LOSO, {results['fold'].nunique()} folds; chance 0.333)\n")
    print(table(results, "balanced_accuracy", conditions))
    print("\nmacro-F1\n")
    print(table(results, "macro_f1", conditions))
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        results.to_csv(args.output / "results.csv", index=False)


if __name__ == "__main__":
    main()
