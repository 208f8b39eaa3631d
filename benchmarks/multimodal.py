"""EEG, ECG and their fusion on the same leave-one-subject-out folds, with Wilcoxon verdicts.

On the synthetic multimodal corpus (:func:`skemotion.datasets.make_multimodal_emotion`: EEG
channels and one ECG lead in the same windows, four valence x arousal classes; the EEG mainly
carries valence, the ECG mainly arousal), every model is scored on the same
``LeaveOneGroupOut`` folds over subjects (balanced accuracy, per held-out subject):

- majority class;
- ECG alone: HRV features + logistic regression; the SSL-ECG linear probe (an
  ``SSLECGEncoder`` pre-trained without labels on the fold's training windows, frozen, then
  logistic regression on its embedding); SSL-ECG fine-tuned (``SSLECGClassifier`` started from
  that encoder, trained end to end);
- EEG alone: differential entropy + logistic regression;
- late fusion: soft voting of the EEG and HRV pipelines (``VotingClassifier``);
- early fusion: the DE and HRV features side by side (``FeatureUnion``), one logistic
  regression.

Every pipeline starts with :class:`skemotion.features.PickChannels`, so the fusions are plain
scikit-learn. Each model is compared with the better single modality (the best of the ECG and
EEG models by mean score) with a two-sided Wilcoxon signed-rank test over the folds
(``skemotion.benchmark.paired_comparison``).

Usage: ``python benchmarks/multimodal.py [--subjects 10] [--seed 0] [--ssl-epochs 5]``; prints
the command, the machine and a markdown table.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skemotion.benchmark import paired_comparison
from skemotion.classifiers import SSLECGClassifier
from skemotion.datasets import make_multimodal_emotion
from skemotion.features import DifferentialEntropy, HRVFeatures, PickChannels
from skemotion.ssl import SSLECGEncoder, person_zscore


def _lr():
    return LogisticRegression(max_iter=2000)


def _eeg_features(data):
    pick = PickChannels(types="eeg", ch_types=data.ch_types, ch_names=data.ch_names)
    return make_pipeline(pick, DifferentialEntropy(data.sfreq, flatten=True))


def _ecg_features(data):
    pick = PickChannels(types="ecg", ch_types=data.ch_types, ch_names=data.ch_names)
    # HRV features that a short window cannot give are NaN: imputed (median of training);
    # log(1 + x) of the (non-negative) features tames the RMSSD of a window with a missed beat
    return make_pipeline(
        pick,
        HRVFeatures(data.sfreq),
        SimpleImputer(strategy="median", keep_empty_features=True),
        FunctionTransformer(np.log1p),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10)
    parser.add_argument("--trials", type=int, default=2, help="trials per class and subject")
    parser.add_argument("--windows", type=int, default=4, help="windows per trial")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, nargs=3, default=[8, 16, 32])
    parser.add_argument("--ssl-epochs", type=int, default=5)
    parser.add_argument("--tune-epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    print("command: python benchmarks/multimodal.py " + " ".join(argv or sys.argv[1:]))
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} thread(s), CPU")  # fmt: skip

    data = make_multimodal_emotion(
        n_subjects=args.subjects,
        n_trials_per_class=args.trials,
        n_windows_per_trial=args.windows,
        random_state=args.seed,
    )
    X, y, groups, sfreq = data.X, data.y, data.groups, float(data.sfreq)
    ecg_index = [i for i, t in enumerate(data.ch_types) if t == "ecg"]
    print(f"data: {X.shape} windows at {sfreq:g} Hz, {len(np.unique(groups))} subjects, "
          f"classes {list(data.target_names)}, channel types "
          f"{sorted(set(data.ch_types))}")  # fmt: skip

    eeg = make_pipeline(_eeg_features(data), StandardScaler(), _lr())
    hrv = make_pipeline(_ecg_features(data), StandardScaler(), _lr())
    models = {
        "majority": lambda: DummyClassifier(strategy="most_frequent"),
        "ECG: HRV + LR": lambda: hrv,
        "EEG: DE + LR": lambda: eeg,
        "late fusion (soft vote)": lambda: VotingClassifier(
            [("eeg", eeg), ("ecg", hrv)], voting="soft"
        ),
        "early fusion (DE + HRV, one LR)": lambda: make_pipeline(
            FeatureUnion([("eeg", _eeg_features(data)), ("ecg", _ecg_features(data))]),
            StandardScaler(),
            _lr(),
        ),
    }
    names = [*models, "ECG: SSL-ECG linear probe", "ECG: SSL-ECG fine-tuned"]
    scores = {name: [] for name in names}
    seconds = {name: 0.0 for name in names}
    for fold, (tr, te) in enumerate(LeaveOneGroupOut().split(X, y, groups)):
        for name, make in models.items():
            t0 = time.perf_counter()
            model = make().fit(X[tr], y[tr])
            scores[name].append(balanced_accuracy_score(y[te], model.predict(X[te])))
            seconds[name] += time.perf_counter() - t0
        # SSL-ECG on the ECG lead, every subject z-scored with its own robust statistics
        ecg = person_zscore(X[:, ecg_index], groups)
        t0 = time.perf_counter()
        enc = SSLECGEncoder(sfreq=sfreq, target_sfreq=None, n_filters=tuple(args.width),
                            head_units=32, lr=3e-3, max_epochs=args.ssl_epochs, device="cpu",
                            random_state=args.seed + fold).fit(ecg[tr])  # fmt: skip
        t_ssl = time.perf_counter() - t0
        probe = make_pipeline(StandardScaler(), _lr()).fit(enc.transform(ecg[tr]), y[tr])
        name = "ECG: SSL-ECG linear probe"
        scores[name].append(balanced_accuracy_score(y[te], probe.predict(enc.transform(ecg[te]))))
        seconds[name] += time.perf_counter() - t0
        t0 = time.perf_counter()
        tuned = SSLECGClassifier(enc, head_units=(), sfreq=sfreq, target_sfreq=None, lr=1e-3,
                                 max_epochs=args.tune_epochs, device="cpu",
                                 random_state=args.seed + fold).fit(ecg[tr], y[tr])  # fmt: skip
        name = "ECG: SSL-ECG fine-tuned"
        scores[name].append(balanced_accuracy_score(y[te], tuned.predict(ecg[te])))
        seconds[name] += t_ssl + time.perf_counter() - t0
        print(f"fold {fold}: " + ", ".join(f"{n} {scores[n][-1]:.3f}" for n in names),
              flush=True)  # fmt: skip

    singles = [n for n in names if n.startswith(("ECG", "EEG"))]
    best = max(singles, key=lambda n: np.mean(scores[n]))
    n_folds = len(scores["majority"])
    print(f"\nbetter single modality (by mean): {best}\n")
    print(f"| model | balanced accuracy (mean ± std over {n_folds} subjects) | vs {best} | "
          "fit time (s/fold) |")  # fmt: skip
    print("|---|---|---|---|")
    for name in names:
        s = np.asarray(scores[name])
        verdict = "—" if name == best else paired_comparison(s, scores[best]).describe(best)
        print(f"| {name} | {s.mean():.3f} ± {s.std():.3f} | {verdict} | "
              f"{seconds[name] / n_folds:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
