"""Subject alignment for cross-subject EEG: does it help DE + LR and EEGNet under LOSO?

Leave-one-subject-out on the synthetic corpus of the default ``skemotion benchmark``
(``make_eeg_emotion("emotiv14", n_subjects=6, effect_size=1.0, random_state=0)``: 360 windows
of 14 channels x 256 samples at 128 Hz, 3 balanced classes). Two parts, on the same outer folds:

1. ``fixed``: every alignment in front of the two classifiers with fixed recipes, the ones of
   the default benchmark (DE + standardisation + logistic regression; EEGNet kernel 64,
   60 epochs, Adam lr 1e-3, batch 32). Alignments (label-free, per subject):

   - ``none``: the raw windows;
   - ``bp``: band-pass 1-50 Hz (zero-phase Butterworth, per window), a control for ``bp+ea``;
   - ``ea``: :class:`~skemotion.transfer.EuclideanAlignment` on the raw windows;
   - ``bp+ea``: band-pass 1-50 Hz, then Euclidean alignment (the method assumes band-passed,
     zero-mean windows; the raw synthetic windows carry about 20% of their power at DC);
   - ``std`` / ``robust``: :class:`~skemotion.transfer.SubjectStandardizer` (mean/std or
     median/IQR per subject and channel).

2. ``nested``: recipe selection without touching the test subject. Inside every outer fold,
   a pre-declared small set of recipes (:data:`DEEP_RECIPES` for EEGNet, every alignment for
   DE + LR) is scored on an inner ``GroupKFold`` over the training subjects only (each
   validation subject aligned with its own windows); the recipe with the best mean inner
   balanced accuracy (the first declared on ties) is refitted on all training subjects and
   scored once on the held-out subject. An outer score of a recipe already fitted in part 1 is
   reused (training is deterministic on CPU for a given ``random_state``).

3. ``confirm``: pre-declared configurations, no selection at all, for a second corpus (e.g.
   ``--montage seed62 --n-subjects 10``) or to report the recipes the nested part chose as
   fixed arms: DE + LR without alignment, with ``ea`` and with ``bp+ea``; EEGNet at the
   benchmark default; EEGNet with :data:`CONFIRM_RECIPE` (band-pass, Euclidean alignment, lr
   3e-3: the recipe the nested part selected most often); and a soft-voting ensemble of
   ``--ensemble`` EEGNets with that recipe and training seeds ``random_state + i`` (member 0
   is the single model; ``--ensemble 1``: no ensemble); and :data:`CONFIRM_ES`, that recipe
   with dropout 0.5 and early stopping on whole held-out training subjects (``--arms``
   selects arms). The primary comparison, declared
   before any run: the ensemble (the single model with ``--ensemble 1``) against DE + LR with
   ``ea`` (the better fixed DE + LR alignment of the first study).

Alignment runs inside a scikit-learn ``Pipeline`` with metadata routing: the aligner requests
``groups`` for ``fit`` and ``transform``, EEGNet declines them (``set_fit_request(groups=False)``,
its ``fit`` would otherwise read them as early-stopping groups), ``pipe.fit(X_train, y_train,
groups=subjects_train)`` aligns every training subject on its own and ``pipe.predict(X_test,
groups=subjects_test)`` the test subject on its own (without groups the windows passed are one
subject, the same thing in LOSO). Labels are never used by the alignment.

Run (about 18 min of CPU with the defaults on one thread; 56 min wall on a loaded 2-core
machine)::

    OMP_NUM_THREADS=1 python benchmarks/alignment.py --output alignment_results

``--quick`` runs a tiny version (3 subjects, 2 epochs) to check the script. Results are recorded
in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from scipy.stats import wilcoxon
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion
from skemotion.features import BandpassFilter, DifferentialEntropy
from skemotion.transfer import EuclideanAlignment, SubjectStandardizer

ALIGNMENTS = ("none", "bp", "ea", "bp+ea", "std", "robust")
#: alignments in front of EEGNet in part 1 (each costs 6 EEGNet fits)
DEEP_ALIGNMENTS = ("none", "ea", "bp+ea", "std")


@dataclass(frozen=True)
class Recipe:
    """An EEGNet training recipe: alignment in front, optimiser settings."""

    alignment: str
    max_epochs: int = 60
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    dropout: float = 0.25
    early_stopping: bool = False  # on a validation split of whole training subjects

    @property
    def name(self) -> str:
        wd = f"/{self.optimizer} wd {self.weight_decay:g}" if self.weight_decay else ""
        wd += f"/dropout {self.dropout:g}" if self.dropout != 0.25 else ""
        wd += "/early stopping" if self.early_stopping else ""
        return f"eegnet[{self.alignment}/{self.max_epochs}ep/lr {self.lr:g}{wd}]"


#: pre-declared EEGNet recipes for the nested selection (the first is the benchmark default)
DEEP_RECIPES = (
    Recipe("none"),
    Recipe("bp+ea"),
    Recipe("std"),
    Recipe("bp+ea", max_epochs=120),
    Recipe("bp+ea", lr=3e-3),
    Recipe("bp+ea", optimizer="adamw", weight_decay=1e-2),
)


#: the EEGNet recipe of the ``confirm`` part (and of its ensemble)
CONFIRM_RECIPE = Recipe("bp+ea", lr=3e-3)
#: the same against over-fitting the training subjects: dropout 0.5, up to 100 epochs with
#: early stopping (patience 10) on 20 % of the training subjects held out whole
CONFIRM_ES = Recipe("bp+ea", lr=3e-3, max_epochs=100, dropout=0.5, early_stopping=True)
#: arms of the ``confirm`` part
CONFIRM_ARMS = ("baselines", "eegnet", "recipe", "early_stopping")


def align_steps(name: str, sfreq: float) -> list:
    """Pipeline steps of an alignment; the aligners request ``groups`` through routing."""

    def routed(est):
        return est.set_fit_request(groups=True).set_transform_request(groups=True)

    bp = ("bp", BandpassFilter(sfreq, l_freq=1.0, h_freq=50.0))
    return {
        "none": [],
        "bp": [bp],
        "ea": [("align", routed(EuclideanAlignment()))],
        "bp+ea": [bp, ("align", routed(EuclideanAlignment()))],
        "std": [("align", routed(SubjectStandardizer()))],
        "robust": [("align", routed(SubjectStandardizer(robust=True)))],
    }[name]


def de_lr(alignment: str, sfreq: float) -> Pipeline:
    """The default benchmark's DE + logistic regression baseline behind an alignment."""
    return Pipeline(
        align_steps(alignment, sfreq)
        + [
            ("de", DifferentialEntropy(sfreq=sfreq, flatten=True)),
            ("scale", StandardScaler()),
            ("lr", LogisticRegression(max_iter=2000)),
        ]
    )


def eegnet(recipe: Recipe, sfreq: float, args, seed_offset: int = 0) -> Pipeline:
    """The default benchmark's EEGNet (kernel sfreq / 2, batch 32) with a recipe."""
    clf = EEGNetClassifier(
        kernel_length=max(2, int(sfreq // 2)),
        max_epochs=recipe.max_epochs if args.epochs is None else args.epochs,
        lr=recipe.lr,
        optimizer=recipe.optimizer,
        weight_decay=recipe.weight_decay,
        dropout=recipe.dropout,
        early_stopping=recipe.early_stopping,
        patience=10,  # the recorded early-stopping arm: patience 10, judged from epoch 1
        min_epochs=1,
        batch_size=32,
        device="cpu",
        random_state=args.random_state + seed_offset,
    ).set_fit_request(groups=recipe.early_stopping)  # early stopping splits by subject
    return Pipeline(align_steps(recipe.alignment, sfreq) + [("clf", clf)])


def _routes_groups(pipe) -> bool:
    """Whether a step requests ``groups``: an aligner, or EEGNet's early stopping by subject.

    Routing refuses metadata nobody asked for, so the subjects go only to such pipelines.
    """
    return isinstance(pipe, Pipeline) and (
        "align" in pipe.named_steps or getattr(pipe[-1], "early_stopping", False)
    )


def wilcoxon_p(d) -> float:
    """Two-sided Wilcoxon signed-rank p of paired differences; 1.0 when all of them are 0."""
    return float(wilcoxon(d).pvalue) if np.any(d) else 1.0


def _scores(y_true, pred) -> dict:
    return {
        "balanced_accuracy": balanced_accuracy_score(y_true, pred),
        "macro_f1": f1_score(y_true, pred, average="macro"),
    }


def fit_timed(pipe, X, y, g, train, test):
    """Fit on ``train`` (subjects aligned one by one).

    Returns the wall and CPU seconds of the fit, and the keyword arguments to predict ``test``
    with (the test subject's ids when the pipeline routes them).
    """
    routed = _routes_groups(pipe)
    fit_kw, pred_kw = ({"groups": g[train]}, {"groups": g[test]}) if routed else ({}, {})
    t0, c0 = time.perf_counter(), time.process_time()
    pipe.fit(X[train], y[train], **fit_kw)
    return {"fit_time_s": time.perf_counter() - t0, "fit_cpu_s": time.process_time() - c0}, pred_kw


def fit_score(pipe, X, y, g, train, test):
    """Fit on ``train`` (subjects aligned one by one), score on ``test``; returns a dict."""
    timing, pred_kw = fit_timed(pipe, X, y, g, train, test)
    return {**_scores(y[test], pipe.predict(X[test], **pred_kw)), **timing}


def confirm_fold(X, y, g, train, test, sfreq, args, record, k):
    """The ``confirm`` arms on one outer fold (no selection: every arm is pre-declared)."""
    if "baselines" in args.arms:
        res = fit_score(DummyClassifier(), X, y, g, train, test)
        record("confirm", "majority", "none", k, test, res)
        for a in ("none", "ea", "bp+ea"):
            res = fit_score(de_lr(a, sfreq), X, y, g, train, test)
            record("confirm", f"de_lr[{a}]", a, k, test, res)
    if "eegnet" in args.arms:
        res = fit_score(eegnet(Recipe("none"), sfreq, args), X, y, g, train, test)
        record("confirm", Recipe("none").name, "none", k, test, res)
    if "early_stopping" in args.arms:
        res = fit_score(eegnet(CONFIRM_ES, sfreq, args), X, y, g, train, test)
        record("confirm", CONFIRM_ES.name, "bp+ea", k, test, res)
    if "recipe" not in args.arms:
        return
    probas, timing = [], {"fit_time_s": 0.0, "fit_cpu_s": 0.0}
    for i in range(args.ensemble):  # member 0 is the single model
        pipe = eegnet(CONFIRM_RECIPE, sfreq, args, seed_offset=i)
        member, pred_kw = fit_timed(pipe, X, y, g, train, test)
        timing = {key: timing[key] + member[key] for key in timing}
        probas.append(pipe.predict_proba(X[test], **pred_kw))
        if i == 0:
            single = _scores(y[test], pipe.classes_[probas[0].argmax(1)])
            record("confirm", CONFIRM_RECIPE.name, "bp+ea", k, test, {**single, **timing})
    if args.ensemble > 1:
        pred = pipe.classes_[np.mean(probas, axis=0).argmax(1)]
        name = f"eegnet x{args.ensemble}" + CONFIRM_RECIPE.name.removeprefix("eegnet")
        record("confirm", name, "bp+ea", k, test, {**_scores(y[test], pred), **timing})


def inner_score(make, X, y, g, train, n_splits):
    """Mean balanced accuracy of a recipe on an inner GroupKFold of the training subjects."""
    scores, cpu = [], 0.0
    for itr, iva in GroupKFold(n_splits=n_splits).split(X[train], y[train], g[train]):
        r = fit_score(make(), X, y, g, train[itr], train[iva])
        scores.append(r["balanced_accuracy"])
        cpu += r["fit_cpu_s"]
    return float(np.mean(scores)), cpu


def describe(X, g, sfreq) -> str:
    """One line on the corpus and the machine, printed at the start of a run."""
    return (
        f"{X.shape[0]} windows of {X.shape[1]} x {X.shape[2]} at {sfreq:g} Hz, "
        f"{len(np.unique(g))} subjects; torch threads {torch.get_num_threads()}; "
        f"{platform.processor() or platform.machine()}"
    )


def trial_safe_loso(X, y, g, trials) -> list:
    """Leave-one-subject-out folds, checked: no trial on both sides of any split."""
    folds = list(LeaveOneGroupOut().split(X, y, g))
    for k, (train, test) in enumerate(folds):
        if np.intersect1d(trials[train], trials[test]).size:
            raise RuntimeError(f"fold {k}: a trial on both sides of the split")
    return folds


def run(args):
    torch.set_num_threads(args.threads)
    sklearn.set_config(enable_metadata_routing=True)
    data = make_eeg_emotion(
        args.montage,
        n_subjects=args.n_subjects,
        effect_size=args.effect_size,
        n_windows_per_trial=args.windows_per_trial,
        random_state=args.random_state,
    )
    X, y, g, trials, sfreq = data.X, np.asarray(data.y), data.groups, data.trials, data.sfreq
    print(f"{describe(X, g, sfreq)}; classes {np.bincount(y)}", flush=True)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    folds = trial_safe_loso(X, y, g, trials)
    rows, cache = [], {}
    t_start = time.perf_counter()

    def record(part, model, alignment, k, test, result, selected=""):
        row = {
            "part": part,
            "model": model,
            "alignment": alignment,
            "selected": selected,
            "fold": k,
            "test_subject": g[test][0],
            **result,
        }
        rows.append(row)
        pd.DataFrame(rows).to_csv(out / "results.csv", index=False)
        print(
            f"[{time.perf_counter() - t_start:7.0f}s] {part:6s} fold {k} {model:58s} "
            f"bacc {result['balanced_accuracy']:.3f} fit {result['fit_time_s']:.1f}s",
            flush=True,
        )

    if "confirm" in args.parts:
        for k, (train, test) in enumerate(folds):
            if args.folds is None or k in args.folds:
                confirm_fold(X, y, g, train, test, sfreq, args, record, k)
    deep_fixed = {a: Recipe(a) for a in DEEP_ALIGNMENTS}
    if "fixed" in args.parts:
        for k, (train, test) in enumerate(folds):
            res = fit_score(DummyClassifier(), X, y, g, train, test)
            record("fixed", "majority", "none", k, test, res)
            for a in ALIGNMENTS:
                record(
                    "fixed",
                    f"de_lr[{a}]",
                    a,
                    k,
                    test,
                    fit_score(de_lr(a, sfreq), X, y, g, train, test),
                )
            for a, recipe in deep_fixed.items():
                res = fit_score(eegnet(recipe, sfreq, args), X, y, g, train, test)
                cache[(recipe, k)] = res
                record("fixed", recipe.name, a, k, test, res)
    if "nested" in args.parts:
        for k, (train, test) in enumerate(folds):
            # DE + LR: choose the alignment on the inner split
            inner = {
                a: inner_score(lambda a=a: de_lr(a, sfreq), X, y, g, train, args.inner_splits)[0]
                for a in ALIGNMENTS
            }
            best = max(ALIGNMENTS, key=lambda a: (inner[a], -ALIGNMENTS.index(a)))
            res = fit_score(de_lr(best, sfreq), X, y, g, train, test)
            record("nested", "de_lr[selected]", best, k, test, {**res, "inner": repr(inner)}, best)
            # EEGNet: choose the recipe on the inner split
            inner, cpu = {}, 0.0
            for recipe in DEEP_RECIPES:
                inner[recipe], c = inner_score(
                    lambda r=recipe: eegnet(r, sfreq, args), X, y, g, train, args.inner_splits
                )
                cpu += c
                print(f"    inner fold {k} {recipe.name}: {inner[recipe]:.3f}", flush=True)
            best = max(DEEP_RECIPES, key=lambda r: (inner[r], -DEEP_RECIPES.index(r)))
            res = cache.get((best, k)) or fit_score(eegnet(best, sfreq, args), X, y, g, train, test)
            inner_txt = repr({r.name: round(v, 4) for r, v in inner.items()})
            record(
                "nested",
                "eegnet[selected]",
                best.alignment,
                k,
                test,
                {**res, "inner": inner_txt, "inner_cpu_s": cpu},
                best.name,
            )
    results = pd.DataFrame(rows)
    results.to_csv(out / "results.csv", index=False)
    print(f"total {time.perf_counter() - t_start:.0f} s wall, {time.process_time():.0f} s CPU")
    print(report(results))
    (out / "report.md").write_text(report(results) + "\n")
    return results


def report(results: pd.DataFrame) -> str:
    """Markdown tables: mean +- std over folds, and the paired gain over no alignment."""
    lines = []
    for part, df in results.groupby("part", sort=False):
        lines += [
            f"### {part}",
            "",
            "| model | balanced accuracy | macro-F1 | gain vs same model, no alignment | "
            "fit time (s/fold) |",
            "|---|---|---|---|---|",
        ]
        for model, m in df.groupby("model", sort=False):
            base_name = model.split("[")[0] + ("[none]" if model.startswith("de_lr") else "")
            if model.startswith("eegnet"):
                base_name = Recipe("none").name
            base_part = "confirm" if part == "confirm" else "fixed"
            base = results[(results.part == base_part) & (results.model == base_name)]
            gain = ""
            if len(base) == len(m) and model != base_name:
                d = m.balanced_accuracy.to_numpy() - base.balanced_accuracy.to_numpy()
                gain = f"{d.mean():+.3f} +- {d.std(ddof=1):.3f}"
            lines.append(
                f"| {model} | {m.balanced_accuracy.mean():.3f} +- "
                f"{m.balanced_accuracy.std(ddof=1):.3f} | {m.macro_f1.mean():.3f} +- "
                f"{m.macro_f1.std(ddof=1):.3f} | {gain} | {m.fit_time_s.mean():.1f} |"
            )
        if part == "confirm":
            ens = df[df.model.str.startswith("eegnet x")].sort_values("fold")
            if not len(ens):  # --ensemble 1: the single model is the primary arm
                ens = df[df.model == CONFIRM_RECIPE.name].sort_values("fold")
            ref = df[df.model == "de_lr[ea]"].sort_values("fold")
            if len(ens) and len(ens) == len(ref):
                d = ens.balanced_accuracy.to_numpy() - ref.balanced_accuracy.to_numpy()
                p = wilcoxon_p(d)
                lines.append(
                    f"\nprimary comparison, {ens.model.iloc[0]} - de_lr[ea]: {d.mean():+.3f} +- "
                    f"{d.std(ddof=1):.3f} (better in {int((d > 0).sum())} of {len(d)} folds, "
                    f"Wilcoxon p = {p:.3g})"
                )
        if part == "nested":
            for model, m in df.groupby("model", sort=False):
                lines.append(f"\n{model} selections per fold: {list(m.selected)}")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--montage", default="emotiv14")
    p.add_argument("--n-subjects", type=int, default=6)
    p.add_argument("--effect-size", type=float, default=1.0)
    p.add_argument("--windows-per-trial", type=int, default=10)
    p.add_argument("--epochs", type=int, default=None, help="override every recipe's epochs")
    p.add_argument("--inner-splits", type=int, default=2, help="inner GroupKFold splits")
    p.add_argument("--parts", default="fixed,nested")
    p.add_argument("--ensemble", type=int, default=5, help="EEGNets in the confirm ensemble")
    p.add_argument("--folds", default=None, help="outer folds to run, e.g. 0,1,2 (confirm)")
    p.add_argument(
        "--arms", default=",".join(CONFIRM_ARMS), help=f"confirm arms, of {CONFIRM_ARMS}"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--output", default="alignment_results")
    p.add_argument("--quick", action="store_true", help="3 subjects, 4 windows, 2 epochs")
    args = p.parse_args(argv)
    args.parts = args.parts.split(",")
    args.folds = [int(k) for k in args.folds.split(",")] if args.folds else None
    args.arms = args.arms.split(",")
    if set(args.arms) - set(CONFIRM_ARMS):
        p.error(f"--arms: unknown {sorted(set(args.arms) - set(CONFIRM_ARMS))}")
    if args.folds and set(args.parts) - {"confirm"}:
        p.error("--folds is for the confirm part only")
    if args.quick:
        args.n_subjects, args.windows_per_trial, args.epochs = 3, 4, 2
    return run(args)


if __name__ == "__main__":
    main()
