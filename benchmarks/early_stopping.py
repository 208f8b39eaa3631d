"""Early stopping inside leave-one-subject-out: the README's recipe and the stopping rules.

Two parts:

- ``readme``: the README's snippet as written, ``cross_val_score(EEGNetClassifier(
  early_stopping=..., max_epochs=200, random_state=0), X, y, groups=subjects,
  cv=LeaveOneGroupOut(), params={"groups": trials}, scoring="balanced_accuracy")``, with
  ``--early-stopping true|refit|false`` (false: the fixed 60-epoch budget, no groups).
- ``rules``: each fold trained once for 200 epochs on the early-stopping split, recording every
  epoch the held-out trials' loss and balanced accuracy and the test subject's balanced
  accuracy; each rule of :data:`RULES` is then applied offline (its score: the test score at the
  epoch it would restore). Indicative only: the per-epoch scoring perturbs the training
  trajectory, so the ``readme`` runs are the record.

Corpus: ``make_eeg_emotion("emotiv14", n_subjects=6, random_state=DATA_SEED)``; data seed 0 is
the default benchmark's corpus, 1 the development corpus of ``benchmarks/recipes.py``.

Run (one thread)::

    OMP_NUM_THREADS=1 python benchmarks/early_stopping.py --part readme --data-seed 0 \\
        --early-stopping true
    OMP_NUM_THREADS=1 python benchmarks/early_stopping.py --part rules --data-seed 1

Results are recorded in ``benchmarks/RESULTS.md`` ("Early stopping").
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from skorch.callbacks import Callback

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion

#: name -> (monitored quantity, patience, first epoch judged)
RULES = {
    "loss, patience 10, from epoch 1 (previous)": ("valid_loss", 10, 1),
    "loss, patience 30": ("valid_loss", 30, 1),
    "balanced accuracy, patience 30": ("valid_bal", 30, 1),
    "loss, patience 10, from epoch 60": ("valid_loss", 10, 60),
    "loss, patience 30, from epoch 60": ("valid_loss", 30, 60),
    "balanced accuracy, patience 30, from epoch 60": ("valid_bal", 30, 60),
    "balanced accuracy, patience 50, from epoch 60": ("valid_bal", 50, 60),
    "never stop (200 epochs)": (None, 0, 1),
}


def readme(data, early_stopping):
    kw = dict(early_stopping=early_stopping, max_epochs=200) if early_stopping else {}
    clf = EEGNetClassifier(random_state=0, **kw)
    params = {"groups": data.trials} if early_stopping else None
    return cross_val_score(clf, data.X, data.y, groups=data.groups, cv=LeaveOneGroupOut(),
                           params=params, scoring="balanced_accuracy")  # fmt: skip


class _Recorder(Callback):
    """Per epoch: the validation balanced accuracy and the test subject's."""

    def __init__(self, X_test, y_test):
        self.X_test, self.y_test = X_test, y_test

    def on_train_begin(self, net, **kwargs):
        self.test, self.valid_bal = [], []

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        self.test.append(balanced_accuracy_score(self.y_test, net.predict(self.X_test)))
        y_valid = np.asarray(dataset_valid.dataset.y)[np.asarray(dataset_valid.indices)]
        self.valid_bal.append(balanced_accuracy_score(y_valid, net.predict(dataset_valid)))


def simulate(fold, monitor, patience, first):
    """(stop epoch, restored epoch), 0-based, of a rule on one fold's recorded curves."""
    n = len(fold["test"])
    if monitor is None:
        return n - 1, n - 1
    sign = 1.0 if monitor == "valid_loss" else -1.0
    best, best_e, wait = np.inf, None, 0
    for e, v in enumerate(fold[monitor]):
        if e + 1 < first:
            continue
        if sign * v < best:
            best, best_e, wait = sign * v, e, 0
        else:
            wait += 1
            if wait >= patience:
                return e, best_e
    return n - 1, best_e


def rules(data):
    folds = []
    for train, test in LeaveOneGroupOut().split(data.X, data.y, data.groups):
        classes = np.unique(data.y[train])
        rec = _Recorder(data.X[test], np.searchsorted(classes, data.y[test]))
        clf = EEGNetClassifier(early_stopping=True, max_epochs=200, patience=1000, min_epochs=1,
                               random_state=0, callbacks=[("rec", rec)])  # fmt: skip
        clf.fit(data.X[train], data.y[train], groups=data.trials[train])
        rec = dict(clf.net_.callbacks_)["rec"]
        folds.append({"valid_loss": list(clf.history_[:, "valid_loss"]),
                      "valid_bal": rec.valid_bal, "test": rec.test})  # fmt: skip
    for name, rule in RULES.items():
        res = [simulate(f, *rule) for f in folds]
        scores = [f["test"][b] for f, (_, b) in zip(folds, res)]
        print(f"{name:48s} {np.mean(scores):.3f}  restored epochs {[b + 1 for _, b in res]}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=["readme", "rules"], default="readme")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--early-stopping", choices=["true", "refit", "false"], default="true")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    data = make_eeg_emotion("emotiv14", n_subjects=6, random_state=args.data_seed)
    t0 = time.perf_counter()
    if args.part == "rules":
        rules(data)
    else:
        es = {"true": True, "refit": "refit", "false": False}[args.early_stopping]
        scores = readme(data, es)
        folds = np.round(scores, 3).tolist()
        print(f"data seed {args.data_seed}, early_stopping={es!r}: {scores.mean():.3f} "
              f"(folds {folds}), {time.perf_counter() - t0:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
