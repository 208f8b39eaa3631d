"""The estimators of a benchmark: built once per arm and seed, fitted and scored once per fold.

An *arm* is a registered model (:data:`~skemotion.benchmark.REGISTRY`) behind an optional
per-subject alignment (:data:`ALIGNMENTS`). :func:`build_arms` builds one unfitted estimator per
arm and seed; ``cross_validate`` clones it for each fold, as scikit-learn does, and fits the
clone once (:class:`FoldModel`).

Every model predicts one subject at a time, even when a test fold holds several subjects: a
per-subject aligner aligns each subject with its own statistics, and batch-norm adaptation
(``adapt_bn``) takes the statistics of the windows it predicts. scikit-learn's metadata routing
hands the subjects (``groups``) of a fold's windows to :class:`FoldModel` (training windows:
for the aligner and a subject adversary) and to :class:`FoldScorer`, which predicts the test
windows, and then the training windows, once each and returns every number of a fold record.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import replace

import numpy as np
import sklearn
from sklearn.base import BaseEstimator

from ._registry import REGISTRY, BenchmarkContext

__all__ = [
    "ALIGNMENTS",
    "FoldModel",
    "FoldScorer",
    "build_arms",
    "describe",
    "fold_scores",
    "param",
]


def _aligned(class_name: str):
    """Factory: ``Pipeline([("align", <per-subject aligner>), ("model", estimator)])``."""

    def wrap(estimator):
        from sklearn.pipeline import Pipeline

        from .. import transfer

        return Pipeline([("align", getattr(transfer, class_name)()), ("model", estimator)])

    return wrap


#: alignment name -> wrapper putting a label-free per-subject transformer before a model
#: (None: no alignment). The subjects reach the aligner's fit as ``align__groups``; at predict
#: time the benchmark passes one subject at a time.
ALIGNMENTS: dict = {"none": None}
if importlib.util.find_spec("skemotion.transfer") is not None:
    ALIGNMENTS["euclidean"] = _aligned("EuclideanAlignment")
    ALIGNMENTS["standardize"] = _aligned("SubjectStandardizer")


def _build(name: str, align: str, ctx: BenchmarkContext):
    est = REGISTRY[name](ctx)
    factory = ALIGNMENTS[align]
    if factory is None:
        return est
    est = factory(est)
    if ctx.shrinkage and "shrinkage" in est.named_steps["align"].get_params():
        est.set_params(align__shrinkage=ctx.shrinkage)
    return est


def build_arms(arms, seeds, ctx: BenchmarkContext) -> dict:
    """``(model, align, seed) -> FoldModel``: every arm built once per seed."""
    return {
        (name, align, seed): FoldModel(_build(name, align, replace(ctx, random_state=seed)), align)
        for name, align in arms
        for seed in seeds
    }


def describe(est) -> dict:
    """The parameters of an estimator that define what runs (JSON-able, seed excluded)."""
    out = {"estimator": type(est).__name__}
    for k, v in sorted(est.get_params(deep=True).items()):
        if k.endswith("random_state") or hasattr(v, "get_params"):
            continue
        if isinstance(v, list) and k == "steps":
            out[k] = [name for name, _ in v]
            continue
        out[k] = v if isinstance(v, str | int | float | bool | type(None)) else repr(v)
    return out


def param(description: dict, suffix: str):
    """The value of parameter ``suffix`` (of the last step that has it) in a description."""
    hits = [v for k, v in description.items() if k == suffix or k.endswith("__" + suffix)]
    return hits[-1] if hits else None


def _fit_params(est, align: str, groups) -> dict:
    """``fit`` arguments of a fold: the subjects, to the aligner and to a subject adversary."""
    params, final, prefix = {}, est, ""
    if align != "none":  # Pipeline([("align", ...), ("model", est)])
        params["align__groups"] = groups
        final, prefix = est.named_steps["model"], "model__"
    if hasattr(final, "steps"):  # a channel selection, then the model (mixed EEG + ECG data)
        name, final = final.steps[-1]
        prefix += f"{name}__"
    if getattr(final, "subject_adversarial", 0) > 0:
        params[prefix + "groups"] = groups
    return params


class FoldModel(BaseEstimator):
    """What ``cross_validate`` fits on a fold: an arm's estimator, told the subjects.

    Parameters
    ----------
    estimator : estimator
        The arm's estimator (unfitted); ``cross_validate`` gives each fold its own clone.
    align : str, default="none"
        The arm's alignment (a key of :data:`ALIGNMENTS`).
    """

    # the subjects of the training windows reach fit (metadata routing)
    __metadata_request__fit = {"groups": True}

    def __init__(self, estimator=None, align="none"):
        self.estimator = estimator
        self.align = align

    def fit(self, X, y, groups):
        """Fit the fold's clone of the estimator as it is (no second copy), passing the
        subjects to the steps that take them by name."""
        est = self.estimator
        with sklearn.config_context(enable_metadata_routing=False):
            est.fit(X, y, **_fit_params(est, self.align, groups))
        self.estimator_ = est
        return self

    def predict(self, X):
        """Predictions of the fitted estimator."""
        with sklearn.config_context(enable_metadata_routing=False):
            return self.estimator_.predict(X)


def _scores(y, pred) -> tuple[float, float]:
    from sklearn.metrics import balanced_accuracy_score, f1_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a class absent from a subject's windows
        return (
            float(balanced_accuracy_score(y, pred)),
            float(f1_score(y, pred, average="macro", zero_division=0)),
        )


class FoldScorer:
    """Every score of a fold from one prediction of its windows, one subject at a time.

    ``scorer(model, X, y, groups)`` returns ``balanced_accuracy``, ``macro_f1``, the confusion
    counts ``confusion_<i>_<j>`` (true ``labels[i]``, predicted ``labels[j]``) and, for every
    subject ``subjects[k]`` of the data, ``subject_<k>_n`` (its windows here, 0 if none),
    ``subject_<k>_balanced_accuracy`` and ``subject_<k>_macro_f1`` (NaN if none): the same keys
    on every fold, as ``cross_validate`` wants them. :func:`fold_scores` reads them back.

    Parameters
    ----------
    labels : ndarray
        The classes, sorted.
    subjects : ndarray
        The subjects of the data, sorted.
    """

    def __init__(self, labels, subjects):
        self.labels = labels
        self.subjects = subjects

    def get_metadata_routing(self):
        """The scorer takes the subjects of the windows it scores (``groups``)."""
        from sklearn.utils.metadata_routing import MetadataRequest

        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="groups", alias=True)
        return request

    def __call__(self, model, X, y, groups) -> dict:
        from sklearn.metrics import confusion_matrix

        pred = None
        for s in np.unique(groups):
            m = groups == s
            idx = np.flatnonzero(m)
            # a subject's windows in one run are a view (no copy of a memory-mapped fold)
            contiguous = idx[-1] - idx[0] + 1 == len(idx)
            p = model.predict(X[idx[0] : idx[-1] + 1] if contiguous else X[m])
            if pred is None:
                pred = np.empty(len(X), dtype=p.dtype)
            pred[m] = p
        out = dict(zip(("balanced_accuracy", "macro_f1"), _scores(y, pred)))
        cm = confusion_matrix(y, pred, labels=self.labels)
        out.update({f"confusion_{i}_{j}": n for (i, j), n in np.ndenumerate(cm)})
        for k, s in enumerate(self.subjects):
            m = groups == s
            scores = _scores(y[m], pred[m]) if m.any() else (np.nan, np.nan)
            out[f"subject_{k}_n"] = int(m.sum())
            out[f"subject_{k}_balanced_accuracy"], out[f"subject_{k}_macro_f1"] = scores
        return out


def fold_scores(out: dict, i: int, subjects, fold_subjects, n_classes: int) -> dict:
    """The numbers of fold ``i`` of a ``cross_validate`` output scored by :class:`FoldScorer`:
    test and training balanced accuracy and macro-F1, fit and predict times, the scores of each
    test subject (``fold_subjects``, in that order) and the confusion counts."""
    test = {k.removeprefix("test_"): v[i] for k, v in out.items() if k.startswith("test_")}
    index = {(s.item() if hasattr(s, "item") else s): k for k, s in enumerate(subjects)}
    return {
        "balanced_accuracy": float(test["balanced_accuracy"]),
        "macro_f1": float(test["macro_f1"]),
        "train_balanced_accuracy": float(out["train_balanced_accuracy"][i]),
        "train_macro_f1": float(out["train_macro_f1"][i]),
        "fit_time_s": float(out["fit_time"][i]),
        "predict_time_s": float(out["score_time"][i]),
        "subjects": [
            {
                "subject": s,
                "n_test": int(test[f"subject_{index[s]}_n"]),
                "balanced_accuracy": float(test[f"subject_{index[s]}_balanced_accuracy"]),
                "macro_f1": float(test[f"subject_{index[s]}_macro_f1"]),
            }
            for s in fold_subjects
        ],
        "confusion": [
            [int(test[f"confusion_{a}_{b}"]) for b in range(n_classes)] for a in range(n_classes)
        ],
    }
