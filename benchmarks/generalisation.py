"""Cross-subject options of the deep classifiers: chosen on a development corpus, reported once.

The options (``subject_adversarial``, ``adapt_bn``, ``augment``; every deep classifier takes
them) are combined into the pre-declared recipes of :data:`RECIPES`, fixed before any run:

1. ``tune``: every recipe, for every model of :data:`MODELS`, behind no alignment and behind
   band-pass 1-50 Hz + Euclidean alignment (``bp+ea``, per subject, label-free), with
   leave-one-subject-out on the *development* corpus ``make_eeg_emotion("emotiv14",
   n_subjects=6, random_state=1)`` (other subjects, trials and noise than the reported
   corpora). The rule (:func:`select`), written before the runs: the best deep configuration
   is the (model, recipe, alignment) of highest mean balanced accuracy; configurations within
   :data:`TIE` of it count as tied, and among them the one with the fewest options, then no
   alignment, then the first declared model wins.
2. ``report``: the chosen configuration, the same model with its default recipe, and DE +
   logistic regression, each behind no alignment and behind ``bp+ea``, on the default
   benchmark's corpus (data seed 0) and on the 10-subject 62-channel corpus (``seed62``, data
   seed 0), every arm on the same trial-safe LOSO folds; paired Wilcoxon tests against aligned
   DE + LR. Nothing is chosen in this part.

GRU-XNet is left out of the grid: at 70 s per fold on the 14-channel corpus and about 4 min per
fold on the 62-channel one (2-core CPU), its 60 tuning and 40 report fits do not fit a CPU
session; ``--models gruxnet`` runs it where a GPU is available.

Run (one thread per process)::

    OMP_NUM_THREADS=1 python benchmarks/generalisation.py --part tune
    OMP_NUM_THREADS=1 python benchmarks/generalisation.py --part report --corpus default \\
        --chosen MODEL/RECIPE
    OMP_NUM_THREADS=1 python benchmarks/generalisation.py --part report --corpus seed62 \\
        --chosen MODEL/RECIPE

``--quick`` runs a tiny version (3 subjects, 4 windows per trial, 2 epochs) to check the
script. Results are recorded in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from alignment import _scores, align_steps, de_lr, describe, trial_safe_loso, wilcoxon_p
from recipes import CORPORA
from sklearn.pipeline import Pipeline

from skemotion.benchmark import RECIPES as HARNESS_RECIPES
from skemotion.benchmark import BenchmarkContext, recipe_options
from skemotion.classifiers import EEGNetClassifier, SSTEmotionNetClassifier, TSSTDNClassifier

MODELS = ("eegnet", "tsstdn", "sstemotionnet")
ALIGNS = ("none", "bp+ea")


#: recipe -> number of options; the options themselves are the benchmark harness's
#: (``skemotion benchmark --recipe``, :func:`skemotion.benchmark.recipe_options`)
RECIPES = {"default": 0, "adversarial": 1, "adabn": 1, "augment": 1, "all": 3}
assert tuple(RECIPES) == HARNESS_RECIPES


def recipe_params(recipe: str, sfreq: float) -> dict:
    """The classifier parameters of a recipe (subject adversary 0.3, AdaBN per batch, the
    six augmentations on half the windows each)."""
    return recipe_options(BenchmarkContext(sfreq, 0, 0, 0, recipe=recipe))


#: configurations within this of the best count as tied (then the simplest wins)
TIE = 0.01


def make_model(model: str, recipe: str, corpus, sfreq: float, alignment: str, seed: int):
    """The classifier (its defaults and a recipe) behind an alignment, as a Pipeline.

    Metadata routing is on: the subjects reach the aligner (fit and transform) and, for the
    subject adversary, the classifier's fit. In LOSO a test fold is one subject, so
    ``adapt_bn="batch"`` adapts to that subject.
    """
    if model == "de_lr":
        return de_lr(alignment, sfreq)
    params = recipe_params(recipe, sfreq)
    common = dict(device="cpu", random_state=seed, **params)
    clf = {
        "eegnet": lambda: EEGNetClassifier(kernel_length=max(2, int(sfreq // 2)), **common),
        "tsstdn": lambda: TSSTDNClassifier(sfreq=sfreq, **common),
        "sstemotionnet": lambda: SSTEmotionNetClassifier(ch_names=corpus[0], sfreq=sfreq, **common),
    }[model]()
    clf.set_fit_request(groups="subject_adversarial" in params)
    return Pipeline(align_steps(alignment, sfreq) + [("clf", clf)])


def fit_predict(pipe, X, y, g, train, test):
    """Fit on ``train``, predict ``test``; the subjects go to whichever step requests them."""
    routed = alignment_of(pipe) != "none" or getattr(pipe[-1], "subject_adversarial", 0) > 0
    t0, c0 = time.perf_counter(), time.process_time()
    pipe.fit(X[train], y[train], **({"groups": g[train]} if routed else {}))
    timing = {"fit_time_s": time.perf_counter() - t0, "fit_cpu_s": time.process_time() - c0}
    pred_kw = {"groups": g[test]} if alignment_of(pipe) != "none" else {}
    return _scores(y[test], pipe.predict(X[test], **pred_kw)), timing


def alignment_of(pipe) -> str:
    return "bp+ea" if "align" in pipe.named_steps else "none"


def select(df: pd.DataFrame) -> tuple[str, str, str]:
    """The declared rule: best mean; ties (within TIE) go to fewest options, no alignment,
    then the first declared model."""
    means = df.groupby(["model", "recipe", "alignment"], sort=False).balanced_accuracy.mean()
    best = means.max()
    tied = [k for k, v in means.items() if v >= best - TIE]

    def cost(key):
        model, recipe, alignment = key
        return RECIPES[recipe], ALIGNS.index(alignment), MODELS.index(model)

    return min(tied, key=cost)


def run(args):
    torch.set_num_threads(args.threads)
    sklearn.set_config(enable_metadata_routing=True)
    corpus = CORPORA[args.corpus]
    montage, n_subjects, wpt, data_seed = corpus
    if args.quick:
        n_subjects, wpt = 3, 4
    data = make_data(montage, n_subjects, wpt, data_seed)
    X, y, g, trials, sfreq = data.X, np.asarray(data.y), data.groups, data.trials, data.sfreq
    print(f"corpus {args.corpus}: {describe(X, g, sfreq)}", flush=True)
    folds = trial_safe_loso(X, y, g, trials)
    if args.part == "tune":
        arms = [("de_lr", "default", a) for a in args.align if not args.recipes]
        arms += [(m, r, a) for a in args.align for m in args.models for r in RECIPES
                 if not args.recipes or r in args.recipes]  # fmt: skip
    else:
        model, recipe = args.chosen.split("/")
        pairs = [("de_lr", "default"), (model, "default"), (model, recipe)]
        if args.chosen_only:  # the report: the chosen configuration beside DE + LR
            pairs = [("de_lr", "default"), (model, recipe)]
        arms = [(m, r, a) for a in args.align for m, r in dict.fromkeys(pairs)]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    tag = "_folds" + "-".join(map(str, args.folds)) if args.folds else ""
    tag += "_" + "-".join(args.recipes) if args.recipes else ""
    csv = out / f"{args.part}_{args.corpus}_{'_'.join(args.models)}{tag}.csv"
    rows, t_start = [], time.perf_counter()
    for model, recipe, alignment in arms:
        for k, (train, test) in enumerate(folds):
            if args.folds is not None and k not in args.folds:
                continue
            pipe = make_model(model, recipe, corpus, sfreq, alignment, args.random_state)
            if args.quick and model != "de_lr":
                pipe[-1].set_params(max_epochs=2)
            res, timing = fit_predict(pipe, X, y, g, train, test)
            rows.append({"corpus": args.corpus, "model": model, "recipe": recipe,
                         "alignment": alignment, "fold": k, "test_subject": g[test][0],
                         **res, **timing})  # fmt: skip
            pd.DataFrame(rows).to_csv(csv, index=False)
            print(
                f"[{time.perf_counter() - t_start:6.0f}s] {model}/{recipe}/{alignment} fold {k}: "
                f"bacc {res['balanced_accuracy']:.3f}, fit {timing['fit_cpu_s']:.1f} s CPU",
                flush=True,
            )
    results = pd.DataFrame(rows)
    text = report(results, tune=args.part == "tune")
    print(text)
    csv.with_suffix(".md").write_text(text + "\n")
    return results


def make_data(montage, n_subjects, wpt, data_seed):
    from skemotion.datasets import make_eeg_emotion

    return make_eeg_emotion(
        montage, n_subjects=n_subjects, n_windows_per_trial=wpt, random_state=data_seed
    )


def report(results: pd.DataFrame, tune: bool) -> str:
    """Markdown: mean +- std per arm, paired difference with aligned DE + LR where it ran."""
    ref = results[(results.model == "de_lr") & (results.alignment == "bp+ea")].sort_values("fold")
    lines = [
        "| model | recipe | alignment | balanced accuracy | macro-F1 | vs DE + LR bp+ea (paired) "
        "| fit (s CPU) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (model, recipe, alignment), m in results.groupby(
        ["model", "recipe", "alignment"], sort=False
    ):
        m = m.sort_values("fold")
        diff = ""
        if len(ref) == len(m) and not (model == "de_lr" and alignment == "bp+ea"):
            d = m.balanced_accuracy.to_numpy() - ref.balanced_accuracy.to_numpy()
            better = int((d > 0).sum())
            diff = (
                f"{d.mean():+.3f} +- {d.std(ddof=1):.3f} ({better}/{len(d)} folds better, "
                f"p = {wilcoxon_p(d):.2f})"
            )
        lines.append(
            f"| {model} | {recipe} | {alignment} | {m.balanced_accuracy.mean():.3f} +- "
            f"{m.balanced_accuracy.std(ddof=1):.3f} | {m.macro_f1.mean():.3f} +- "
            f"{m.macro_f1.std(ddof=1):.3f} | {diff} | {m.fit_cpu_s.mean():.1f} |"
        )
    if tune:
        deep = results[results.model != "de_lr"]
        if len(deep):
            lines.append("\nselected by the declared rule: **{}/{}/{}**".format(*select(deep)))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=["tune", "report"], default="tune")
    p.add_argument("--corpus", choices=list(CORPORA), default="dev")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--align", nargs="+", default=list(ALIGNS), choices=ALIGNS)
    p.add_argument("--chosen", default=None, help="report: MODEL/RECIPE chosen by tune")
    p.add_argument(
        "--chosen-only",
        action="store_true",
        help="report: skip the chosen model's default recipe (the costly reference)",
    )
    p.add_argument("--recipes", nargs="*", default=[], choices=list(RECIPES),
                   help="tune: only these recipes (a run split across processes)")  # fmt: skip
    p.add_argument("--folds", default=None, help="LOSO folds to run, e.g. 0,1,2")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--random-state", type=int, default=0, help="training seed")
    p.add_argument("--output", default="generalisation_results")
    p.add_argument("--quick", action="store_true", help="3 subjects, 4 windows, 2 epochs")
    args = p.parse_args(argv)
    args.folds = [int(k) for k in args.folds.split(",")] if args.folds else None
    if args.part == "report":
        if args.chosen is None or args.chosen.count("/") != 1:
            p.error("--part report needs --chosen MODEL/RECIPE")
        model, recipe = args.chosen.split("/")
        if model not in MODELS or recipe not in RECIPES:
            p.error(f"--chosen: {args.chosen} is not a declared model/recipe")
    return run(args)


if __name__ == "__main__":
    main()
