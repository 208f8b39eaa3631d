"""Evaluation protocols: the folds of a benchmark, every one checked trial-safe.

- ``loso``: leave one subject out (scikit-learn's ``LeaveOneGroupOut`` over subjects).
- ``group-kfold``: k folds of whole subjects (``GroupKFold``).
- ``subject-dependent``: within each subject, k folds of whole trials stratified by class
  (``StratifiedGroupKFold`` over the subject's trials); a model trains on one subject only.
- ``cross-dataset``: leave one dataset out (``LeaveOneGroupOut`` over the dataset of each
  window); offered where the data carry a dataset per window.

Whatever the protocol, windows of one trial are never on both sides of a split, and in the
subject-independent protocols no subject is; :func:`check_folds` asserts it for every fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PROTOCOLS", "Fold", "check_folds", "make_folds", "split_folds"]

#: protocol name -> one-line description
PROTOCOLS = {
    "loso": "leave one subject out",
    "group-kfold": "k folds of whole subjects",
    "subject-dependent": "within each subject, k folds of whole trials",
    "cross-dataset": "leave one dataset out",
}


@dataclass(frozen=True)
class Fold:
    """One train / test split of a benchmark.

    Parameters
    ----------
    index : int
        Position of the fold in the protocol (stable across runs on the same data).
    train : ndarray of int
        Indices of the training windows.
    test : ndarray of int
        Indices of the test windows.
    test_subjects : tuple
        Subjects of the test windows.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.benchmark import Fold
    >>> Fold(0, np.array([0, 1]), np.array([2, 3]), (2,)).test_subjects
    (2,)
    """

    index: int
    train: np.ndarray
    test: np.ndarray
    test_subjects: tuple


def _subject_key(s):
    """A subject id as a plain JSON-able Python value."""
    return s.item() if hasattr(s, "item") else s


def make_folds(protocol, y, groups, trials, *, n_splits=None, domains=None) -> list[Fold]:
    """The folds of ``protocol`` on windows with labels ``y``, subjects and trials.

    Parameters
    ----------
    protocol : {"loso", "group-kfold", "subject-dependent", "cross-dataset"}
    y, groups, trials : array-like of shape (n_windows,)
        Labels, subject per window and trial per window (trial ids unique across subjects).
    n_splits : int, optional
        Folds of ``group-kfold`` (default 5) or per subject in ``subject-dependent`` (default:
        the smallest number of trials any subject has of one class, at most 5, at least 2).
    domains : array-like of shape (n_windows,), optional
        Dataset of each window (``cross-dataset`` only).

    Returns
    -------
    folds : list of Fold
        Checked by :func:`check_folds`.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.benchmark import make_folds
    >>> groups = np.repeat([1, 2, 3], 4)
    >>> trials = np.repeat(np.arange(6), 2)
    >>> y = np.tile([0, 0, 1, 1], 3)
    >>> [f.test_subjects for f in make_folds("loso", y, groups, trials)]
    [(1,), (2,), (3,)]
    >>> len(make_folds("subject-dependent", y, groups, trials))  # 2 folds of 1 trial per subject
    6
    """
    from ._options import check_protocol

    y, groups, trials = np.asarray(y), np.asarray(groups), np.asarray(trials)
    if not (y.shape == groups.shape == trials.shape) or y.ndim != 1:
        raise ValueError(
            f"make_folds: y, groups and trials must be 1-D of one length; got shapes "
            f"{y.shape}, {groups.shape}, {trials.shape}."
        )
    protocol, n_splits = check_protocol(protocol, n_splits, func="make_folds")
    return split_folds(protocol, y, groups, trials, n_splits=n_splits, domains=domains)


def split_folds(protocol, y, groups, trials, *, n_splits=None, domains=None) -> list[Fold]:
    """:func:`make_folds` on checked arguments (1-D arrays of one length, and a protocol and
    ``n_splits`` checked by :func:`~skemotion.benchmark._options.check_protocol`); refuses
    what only the data can make impossible (too few subjects, trials or datasets)."""
    subjects = np.unique(groups)
    if protocol != "cross-dataset" and domains is not None:
        raise ValueError("make_folds: domains are for protocol='cross-dataset' only.")
    split = {"loso": _loso, "group-kfold": _group_kfold, "cross-dataset": _cross_dataset,
             "subject-dependent": _subject_dependent}[protocol]  # fmt: skip
    pairs = split(y, groups, trials, subjects, n_splits=n_splits, domains=domains)
    folds = [
        Fold(
            i, np.asarray(tr), np.asarray(te), tuple(_subject_key(s) for s in np.unique(groups[te]))
        )
        for i, (tr, te) in enumerate(pairs)
    ]
    check_folds(folds, groups, trials, within_subject=protocol == "subject-dependent")
    return folds


def _loso(y, groups, trials, subjects, **_):
    from sklearn.model_selection import LeaveOneGroupOut

    if len(subjects) < 2:
        raise ValueError(f"make_folds: loso needs at least 2 subjects; got {len(subjects)}.")
    return list(LeaveOneGroupOut().split(np.zeros((len(y), 1)), y, groups))


def _group_kfold(y, groups, trials, subjects, *, n_splits, **_):
    from sklearn.model_selection import GroupKFold

    k = 5 if n_splits is None else n_splits
    if k > len(subjects):
        raise ValueError(
            f"make_folds: group-kfold needs 2 <= n_splits <= number of subjects "
            f"({len(subjects)}); got n_splits={k}."
        )
    return list(GroupKFold(n_splits=k).split(np.zeros((len(y), 1)), y, groups))


def _cross_dataset(y, groups, trials, subjects, *, domains, **_):
    from sklearn.model_selection import LeaveOneGroupOut

    if domains is None:
        raise ValueError("make_folds: cross-dataset needs domains (dataset per window).")
    domains = np.asarray(domains)
    if domains.shape != y.shape:
        raise ValueError(f"make_folds: domains must have shape {y.shape}; got {domains.shape}.")
    if len(np.unique(domains)) < 2:
        raise ValueError("make_folds: cross-dataset needs at least 2 datasets.")
    return list(LeaveOneGroupOut().split(np.zeros((len(y), 1)), y, domains))


def _subject_dependent(y, groups, trials, subjects, *, n_splits, **_):
    """Within each subject, k folds of whole trials stratified by class."""
    from sklearn.model_selection import StratifiedGroupKFold

    per_class = []
    for s in subjects:
        m = groups == s
        t, first = np.unique(trials[m], return_index=True)
        per_class.append(np.unique(y[m][first], return_counts=True)[1].min())
        if len(t) < 2:
            raise ValueError(
                f"make_folds: subject-dependent needs at least 2 trials per subject; "
                f"subject {_subject_key(s)!r} has {len(t)}."
            )
    k = min(5, max(2, int(min(per_class)))) if n_splits is None else n_splits
    pairs = []
    for s in subjects:
        idx = np.flatnonzero(groups == s)
        n_trials = len(np.unique(trials[idx]))
        if k > n_trials:
            raise ValueError(
                f"make_folds: subject-dependent needs 2 <= n_splits <= the trials of every "
                f"subject; subject {_subject_key(s)!r} has {n_trials}, n_splits={k}."
            )
        cv = StratifiedGroupKFold(n_splits=k)
        for tr, te in cv.split(np.zeros((len(idx), 1)), y[idx], trials[idx]):
            pairs.append((idx[tr], idx[te]))
    return pairs


def check_folds(folds, groups, trials, *, within_subject=False) -> None:
    """Raise ``RuntimeError`` when a fold splits a trial (or a subject) across train and test.

    Parameters
    ----------
    folds : list of Fold
    groups, trials : ndarray of shape (n_windows,)
    within_subject : bool, default=False
        Subject-dependent folds: train and test must come from one and the same subject.
        Otherwise no subject may be on both sides.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.benchmark import Fold, check_folds
    >>> leaky = Fold(0, np.array([0, 1]), np.array([2, 3]), (1,))
    >>> check_folds([leaky], groups=np.zeros(4), trials=np.array([0, 1, 1, 2]),
    ...             within_subject=True)
    Traceback (most recent call last):
    ...
    RuntimeError: fold 0: trials [1] on both sides of the split
    """
    groups, trials = np.asarray(groups), np.asarray(trials)
    for f in folds:
        if len(f.train) == 0 or len(f.test) == 0:
            raise RuntimeError(f"fold {f.index}: empty train or test set")
        leaked = np.intersect1d(trials[f.train], trials[f.test])
        if leaked.size:
            raise RuntimeError(f"fold {f.index}: trials {leaked[:5]} on both sides of the split")
        train_subj, test_subj = np.unique(groups[f.train]), np.unique(groups[f.test])
        if within_subject:
            if len(test_subj) != 1 or not np.array_equal(train_subj, test_subj):
                raise RuntimeError(
                    f"fold {f.index}: a subject-dependent fold must train and test on one "
                    f"subject; got train subjects {train_subj[:5]}, test {test_subj[:5]}"
                )
        else:
            shared = np.intersect1d(train_subj, test_subj)
            if shared.size:
                raise RuntimeError(
                    f"fold {f.index}: subjects {shared[:5]} on both sides of the split"
                )
