"""SSL-ECG benchmark: self-supervised embeddings vs HRV features vs a supervised CNN.

On the synthetic ``make_ecg_emotion`` corpus (arousal, 10 s windows at 256 Hz), subject-wise
cross-validation (GroupKFold or LeaveOneGroupOut over subjects; windows of one trial never cross
a split) compares, at 100% and at 10% of the training labels:

- majority class (``DummyClassifier``);
- HRV features + logistic regression (``HRVFeatures`` -> impute -> scale -> LR);
- SSL-ECG embeddings + logistic regression (``SSLECGEncoder`` pre-trained without labels on all
  training windows of the fold, frozen, -> scale -> LR);
- SSL-ECG fine-tuned (``SSLECGClassifier``): the fold's pre-trained encoder plus a linear
  head, trained end to end on the labelled training windows;
- a supervised CNN: the same encoder architecture plus a linear head, trained from scratch on
  the labelled training windows only.

Every subject is normalised with its own robust z-score first (``person_zscore``: label-free,
per subject, so it does not leak across the subject-wise split), as in the original.

Run ``python benchmarks/ssl_ecg.py --help``; the numbers recorded in ``RESULTS.md`` come from
the command printed at the top of the output.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np
import torch
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from skemotion.classifiers import DeepClassifierBase, SSLECGClassifier
from skemotion.datasets import make_ecg_emotion
from skemotion.features import HRVFeatures
from skemotion.models.sslecg import SSLECGEncoderNet
from skemotion.ssl import SSLECGEncoder, person_zscore


class SupervisedSSLECGCNN(DeepClassifierBase):
    """The SSL-ECG encoder + a linear head, trained end to end from scratch (supervised)."""

    def __init__(
        self,
        n_filters=(32, 64, 128),
        *,
        lr=1e-3,
        max_epochs=30,
        batch_size=32,
        optimizer="adam",
        weight_decay=0.0,
        lr_schedule=None,
        early_stopping=False,
        validation_fraction=0.2,
        patience=10,
        device="auto",
        precision="32",
        num_workers=0,
        random_state=None,
        callbacks=None,
        verbose=0,
    ):
        self.n_filters = n_filters
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.precision = precision
        self.num_workers = num_workers
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose

    _parameter_constraints = {**DeepClassifierBase._parameter_constraints, "n_filters": [tuple]}

    def _min_times(self):
        return 22

    def _build_module(self, input_shape, n_classes):
        enc = SSLECGEncoderNet(input_shape[0], self.n_filters)
        return nn.Sequential(enc, nn.Linear(enc.n_outputs, n_classes))


def label_subset(y, fraction, rng):
    """Indices of a class-stratified random fraction of the windows (at least 2 per class)."""
    idx = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        k = max(2, int(round(fraction * members.size)))
        idx.append(rng.choice(members, min(k, members.size), replace=False))
    return np.sort(np.concatenate(idx))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n-subjects", type=int, default=8)
    p.add_argument("--n-trials-per-class", type=int, default=3)
    p.add_argument("--n-windows-per-trial", type=int, default=4)
    p.add_argument("--effect-size", type=float, default=1.0)
    p.add_argument("--cv", choices=["logo", "groupkfold"], default="groupkfold")
    p.add_argument("--n-splits", type=int, default=4, help="folds of GroupKFold")
    p.add_argument(
        "--width",
        type=int,
        nargs=3,
        default=[32, 64, 128],
        help="encoder filters per block (32 64 128 is the canonical SSL-ECG)",
    )
    p.add_argument("--ssl-epochs", type=int, default=10)
    p.add_argument("--ssl-lr", type=float, default=1e-3)
    p.add_argument("--cnn-epochs", type=int, default=30)
    p.add_argument("--cnn-lr", type=float, default=1e-3)
    p.add_argument("--label-fractions", type=float, nargs="+", default=[1.0, 0.1])
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    print("command: python benchmarks/ssl_ecg.py " + " ".join(argv or sys.argv[1:]))
    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s), device={args.device} "
        f"(cuda available: {torch.cuda.is_available()})"
    )
    data = make_ecg_emotion(
        n_subjects=args.n_subjects,
        n_trials_per_class=args.n_trials_per_class,
        n_windows_per_trial=args.n_windows_per_trial,
        effect_size=args.effect_size,
        random_state=args.seed,
    )
    X = person_zscore(data.X, data.groups)
    y, groups, sfreq = data.y, data.groups, float(data.sfreq)
    print(f"data: {X.shape} windows, {len(np.unique(groups))} subjects, sfreq {sfreq} Hz")
    cv = LeaveOneGroupOut() if args.cv == "logo" else GroupKFold(n_splits=args.n_splits)
    width = tuple(args.width)

    methods = ["majority", "HRV + LR", "SSL-ECG + LR", "SSL-ECG fine-tuned", "supervised CNN"]
    res = {
        (m, f): {"bacc": [], "f1": [], "time": []} for m in methods for f in args.label_fractions
    }
    pretext = []

    def record(method, frac, y_true, y_pred, seconds):
        r = res[(method, frac)]
        r["bacc"].append(balanced_accuracy_score(y_true, y_pred))
        r["f1"].append(f1_score(y_true, y_pred, average="macro"))
        r["time"].append(seconds)

    for fold, (tr, te) in enumerate(cv.split(X, y, groups)):
        rng = np.random.default_rng(args.seed + fold)
        # fixed per fold: HRV features (no fitting) and the SSL pre-training (no labels)
        t0 = time.perf_counter()
        hrv = HRVFeatures(sfreq).fit(X[tr])
        F_tr, F_te = hrv.transform(X[tr]), hrv.transform(X[te])
        keep = np.isfinite(F_tr).any(axis=0)  # LF/HF are NaN for 10 s windows: drop them
        F_tr, F_te = F_tr[:, keep], F_te[:, keep]
        t_hrv = time.perf_counter() - t0
        t0 = time.perf_counter()
        enc = SSLECGEncoder(
            sfreq=sfreq,
            n_filters=width,
            head_units=128,
            lr=args.ssl_lr,
            max_epochs=args.ssl_epochs,
            device=args.device,
            random_state=args.seed + fold,
        ).fit(X[tr])
        Z_tr, Z_te = enc.transform(X[tr]), enc.transform(X[te])
        t_ssl = time.perf_counter() - t0
        pretext.append((enc.pretext_accuracy_, enc.score(X[te])))
        print(
            f"fold {fold}: SSL pre-training {t_ssl:.0f} s, pretext accuracy train "
            f"{pretext[-1][0]:.3f} / test subjects {pretext[-1][1]:.3f} (chance 0.143)",
            flush=True,
        )
        for frac in args.label_fractions:
            sub = tr if frac >= 1 else tr[label_subset(y[tr], frac, rng)]
            ins = np.searchsorted(tr, sub)  # positions of `sub` inside `tr`
            t0 = time.perf_counter()
            dummy = DummyClassifier(strategy="most_frequent").fit(X[sub, 0, :1], y[sub])
            record("majority", frac, y[te], dummy.predict(X[te, 0, :1]), time.perf_counter() - t0)

            t0 = time.perf_counter()
            lr_hrv = make_pipeline(
                SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression()
            ).fit(F_tr[ins], y[sub])
            record("HRV + LR", frac, y[te], lr_hrv.predict(F_te), t_hrv + time.perf_counter() - t0)

            t0 = time.perf_counter()
            lr_ssl = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
            lr_ssl.fit(Z_tr[ins], y[sub])
            record(
                "SSL-ECG + LR", frac, y[te], lr_ssl.predict(Z_te), t_ssl + time.perf_counter() - t0
            )

            t0 = time.perf_counter()
            tuned = SSLECGClassifier(
                enc,
                head_units=(),
                sfreq=sfreq,
                lr=args.cnn_lr,
                max_epochs=args.cnn_epochs,
                batch_size=32 if frac >= 1 else 8,
                device=args.device,
                random_state=args.seed + fold,
            ).fit(X[sub], y[sub])
            record(
                "SSL-ECG fine-tuned", frac, y[te], tuned.predict(X[te]),
                t_ssl + time.perf_counter() - t0,
            )  # fmt: skip

            t0 = time.perf_counter()
            cnn = SupervisedSSLECGCNN(
                width,
                lr=args.cnn_lr,
                max_epochs=args.cnn_epochs,
                batch_size=32 if frac >= 1 else 8,
                device=args.device,
                random_state=args.seed + fold,
            ).fit(X[sub], y[sub])
            record("supervised CNN", frac, y[te], cnn.predict(X[te]), time.perf_counter() - t0)
            print(
                f"fold {fold}, {frac:.0%} labels ({len(sub)} windows): "
                + ", ".join(f"{m} {res[(m, frac)]['bacc'][-1]:.3f}" for m in methods),
                flush=True,
            )

    pt = np.asarray(pretext)
    print(
        f"\npretext 7-way accuracy (chance 0.143): training subjects {pt[:, 0].mean():.3f} "
        f"+- {pt[:, 0].std():.3f}, held-out subjects {pt[:, 1].mean():.3f} +- {pt[:, 1].std():.3f}"
    )
    print("\n| method | labels | balanced accuracy | macro-F1 | fit time (s/fold) |")
    print("|---|---|---|---|---|")
    for frac in args.label_fractions:
        for m in methods:
            r = res[(m, frac)]
            print(
                f"| {m} | {frac:.0%} | {np.mean(r['bacc']):.3f} ± {np.std(r['bacc']):.3f} | "
                f"{np.mean(r['f1']):.3f} ± {np.std(r['f1']):.3f} | {np.mean(r['time']):.1f} |"
            )


if __name__ == "__main__":
    main()
