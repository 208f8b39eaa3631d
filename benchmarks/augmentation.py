"""Over-sampling an under-represented emotion: ESC-GAN vs random over-sampling vs SMOTE.

The synthetic two-class corpus (:func:`skemotion.datasets.make_eeg_emotion`) is made imbalanced
by keeping, in every subject, only ``--minority-fraction`` of the windows of class 1
("positive"). Leave-one-subject-out: every fold trains the same classifier (differential
entropy on the 9x9 electrode grid, flattened, standardised, logistic regression) on the other
subjects with one of these over-sampling steps in front of it, and scores the held-out subject:

- ``none``: no augmentation;
- ``ros``: :class:`imblearn.over_sampling.RandomOverSampler` (duplicates minority windows);
- ``smote``: :class:`imblearn.over_sampling.SMOTE` on the flattened features;
- ``escgan``: :class:`skemotion.augment.ESCGANSampler` with its defaults (edits majority
  windows into the minority class on the DE grids);
- ``escgan_paper_d``: the same with the paper's discriminator loss (``fake_class_weight=1``:
  its emotion head is also trained to call edits by their target class);
- ``majority``: the trivial baseline.

Every sampler grows the minority class to the majority's size (``sampling_strategy="auto"``).
The DE grids are computed once for all windows (they are per-window features, so this equals
a feature step inside every pipeline). Reported per method: balanced accuracy over folds
(mean and std), recall of the minority class pooled over all held-out windows, mean fit time
per fold, and for ESC-GAN the share of edits the discriminator accepted.

Run (CPU, defaults)::

    python benchmarks/augmentation.py

Results are recorded in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skemotion.augment import ESCGANSampler
from skemotion.datasets import make_eeg_emotion
from skemotion.features import DifferentialEntropy, ElectrodeGrid

METHODS = ("majority", "none", "ros", "smote", "escgan", "escgan_paper_d")


def _flatten(X):
    return X.reshape(len(X), -1)


def make_corpus(args):
    data = make_eeg_emotion(
        args.montage,
        n_subjects=args.n_subjects,
        n_classes=2,
        n_trials_per_class=args.trials_per_class,
        n_windows_per_trial=args.windows_per_trial,
        window_seconds=args.window_seconds,
        effect_size=args.effect_size,
        random_state=args.seed,
    )
    rng = np.random.default_rng(args.seed)
    keep = [np.flatnonzero(data.y == 0)]
    for g in np.unique(data.groups):
        ones = np.flatnonzero((data.y == 1) & (data.groups == g))
        n_keep = max(1, int(round(args.minority_fraction * len(ones))))
        keep.append(rng.choice(ones, n_keep, replace=False))
    keep = np.sort(np.concatenate(keep))
    de = DifferentialEntropy(data.sfreq).fit_transform(data.X[keep])
    grids = ElectrodeGrid(data.ch_names).fit_transform(de)
    return grids, data.y[keep], data.groups[keep]


def make_pipeline(method, args):
    tail = [
        ("flat", FunctionTransformer(_flatten)),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(C=args.C, max_iter=2000)),
    ]
    if method == "majority":
        return Pipeline([("flat", FunctionTransformer(_flatten)), ("clf", DummyClassifier())])
    if method == "none":
        return Pipeline(tail)
    if method == "ros":
        return Pipeline([tail[0], ("ros", RandomOverSampler(random_state=args.seed)), *tail[1:]])
    if method == "smote":
        return Pipeline([tail[0], ("smote", SMOTE(random_state=args.seed)), *tail[1:]])
    gan = {
        k: v
        for k, v in dict(
            hidden=args.escgan_hidden,
            max_epochs=args.escgan_epochs,
            batch_size=args.escgan_batch_size,
            lr=args.escgan_lr,
        ).items()
        if v is not None
    }
    if method == "escgan_paper_d":
        gan["fake_class_weight"] = 1.0
    sampler = ESCGANSampler(
        device=args.device, precision=args.precision, random_state=args.seed, **gan
    )
    return Pipeline([("escgan", sampler), *tail])


def run(args):
    X, y, groups = make_corpus(args)
    counts = np.bincount(y)
    print(
        f"corpus: {len(y)} windows, {X.shape[1:]} DE grids, class counts {counts.tolist()}, "
        f"{len(np.unique(groups))} subjects"
    )
    rows = []
    for method in args.methods:
        bacc, fit_s, accepted, candidates = [], [], 0, 0
        y_true, y_pred = [], []
        for train, test in LeaveOneGroupOut().split(X, y, groups):
            pipe = make_pipeline(method, args)
            t0 = time.perf_counter()
            pipe.fit(X[train], y[train])
            fit_s.append(time.perf_counter() - t0)
            pred = pipe.predict(X[test])
            bacc.append(balanced_accuracy_score(y[test], pred))
            y_true.append(y[test])
            y_pred.append(pred)
            if "escgan" in pipe.named_steps:
                sampler = pipe.named_steps["escgan"]
                accepted += sum(sampler.n_accepted_.values())
                candidates += sum(sampler.n_candidates_.values())
        y_true, y_pred = np.concatenate(y_true), np.concatenate(y_pred)
        recall = float(np.mean(y_pred[y_true == 1] == 1))
        acc_rate = f"{accepted / candidates:.1%}" if candidates else "-"
        rows.append((method, np.mean(bacc), np.std(bacc), recall, np.mean(fit_s), acc_rate))
        print(
            f"{method}: balanced accuracy {np.mean(bacc):.3f} +- {np.std(bacc):.3f}, minority "
            f"recall {recall:.3f}, fit {np.mean(fit_s):.2f} s/fold, accepted {acc_rate}",
            flush=True,
        )
    print()
    print("| method | balanced accuracy | minority recall | fit time (s/fold) | edits accepted |")
    print("|---|---:|---:|---:|---:|")
    for method, m, s, r, t, a in rows:
        print(f"| {method} | {m:.3f} ± {s:.3f} | {r:.3f} | {t:.2f} | {a} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, {dev}, torch "
        f"{torch.__version__}, Python {platform.python_version()}; load average at the end "
        f"{load:.1f}."
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--montage", default="emotiv14")
    p.add_argument("--n-subjects", type=int, default=8)
    p.add_argument("--trials-per-class", type=int, default=2)
    p.add_argument("--windows-per-trial", type=int, default=20)
    p.add_argument("--window-seconds", type=float, default=1.0)
    p.add_argument("--effect-size", type=float, default=1.5)
    p.add_argument("--minority-fraction", type=float, default=0.1)
    p.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the classifier")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--escgan-hidden", type=int, default=None)
    p.add_argument("--escgan-epochs", type=int, default=None)
    p.add_argument("--escgan-batch-size", type=int, default=None)
    p.add_argument("--escgan-lr", type=float, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="32")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    run(args)


if __name__ == "__main__":
    main()
