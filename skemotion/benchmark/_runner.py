"""The benchmark run: scikit-learn's ``cross_validate`` over the folds not yet finished.

Execution and resumability
--------------------------
Each model (with each alignment) and seed is evaluated with ``cross_validate`` on an explicit
list of ``(train, test)`` index pairs, the folds of the protocol that the output folder does not
hold yet, so ``n_jobs`` and any joblib backend (loky processes, a Dask cluster) apply unchanged.

- ``n_jobs=1``: one ``cross_validate`` call per fold, fold after fold (every model on fold 0,
  then fold 1, ...); each finished fold is recorded at once, so an interruption loses at most
  the fold in progress.
- ``n_jobs != 1``: one call per (model, seed) over all its pending folds, run in parallel; the
  batch is recorded when it finishes, so an interruption loses the batch in progress.

Recording rewrites the output files atomically (temporary file, then ``os.replace``). Ctrl-C
(SIGINT) stops the run with ``KeyboardInterrupt`` and no row for an unfinished fold, even when
an estimator would catch the interrupt and return early: the benchmark notes the signal itself
and discards the fold. Rerunning the same command continues with the missing folds; estimators
are seeded per fold, so the finished table is the one an uninterrupted run gives.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import numbers
import os
import platform
import shlex
import socket
import sys
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from .._validation import check_ids
from ._options import (
    PRECISIONS,
    check_device,
    check_n_jobs,
    check_nonnegative_int,
    check_positive_int,
)
from ._protocols import PROTOCOLS, make_folds
from ._registry import RECIPES, REGISTRY, BenchmarkContext, resolve_models
from ._report import compare_to_baselines, format_table, plot_results, summarize
from ._store import (
    OUTPUT_FILES,
    PLOTS,
    BenchmarkInputError,
    ResultStore,
    _sort_key,
    atomic_write_bytes,
    atomic_write_text,
    check_output_paths,
    data_fingerprint,
    jsonable,
)

__all__ = ["ALIGNMENTS", "BenchmarkResult", "package_versions", "run_benchmark"]

SCORING = {"balanced_accuracy": "balanced_accuracy", "macro_f1": "f1_macro"}


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

_VERSIONED = ("skemotion", "numpy", "scipy", "scikit-learn", "torch", "skorch", "pandas",
              "joblib", "imbalanced-learn", "dask", "distributed")  # fmt: skip


def package_versions() -> dict:
    """Versions of Python and of the packages the numbers depend on (installed ones).

    Returns
    -------
    versions : dict
        Name -> version string.

    Examples
    --------
    >>> from skemotion.benchmark import package_versions
    >>> sorted(package_versions())[:3]
    ['dask', 'distributed', 'imbalanced-learn']
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` returns.

    Parameters
    ----------
    folds : pandas.DataFrame
        One row per model, alignment, seed and fold of this benchmark.
    subjects : pandas.DataFrame
        One row per test subject and fold.
    summary : pandas.DataFrame
        :func:`summarize` of ``folds``.
    comparisons : pandas.DataFrame
        Paired tests of every model against the baselines (:func:`compare_to_baselines`).
    verdicts : list of str
        One line per model.
    confusion : dict
        ``(model, align) -> ndarray`` confusion counts summed over folds and seeds (rows: true
        class, columns: predicted, in the order of ``labels``).
    labels : list
        Class labels.
    class_names : list of str
    chance : float
        Balanced accuracy of chance.
    record : dict
        Configuration and runs (commands, versions, devices).
    notes : list of str
        What was skipped and why (e.g. plots without matplotlib).
    files : list of str
        Files written.

    Examples
    --------
    >>> from skemotion.benchmark import run_benchmark
    >>> from skemotion.datasets import make_eeg_emotion
    >>> d = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=2, random_state=0)
    >>> res = run_benchmark(d.X, d.y, d.groups, d.trials, sfreq=d.sfreq, models=["none"])
    >>> res.confusion[("majority", "none")].sum(), res.chance
    (np.int64(24), 0.3333333333333333)
    """

    folds: pd.DataFrame
    subjects: pd.DataFrame
    summary: pd.DataFrame
    comparisons: pd.DataFrame
    verdicts: list
    confusion: dict
    labels: list
    class_names: list
    chance: float
    record: dict
    notes: list = field(default_factory=list)
    files: list = field(default_factory=list)

    def table(self) -> str:
        """The plain-text table (:func:`format_table`).

        Returns
        -------
        table : str
        """
        return format_table(self.summary, chance=self.chance)


def _arg(func: str, name: str, checker, value):
    try:
        return checker(value)
    except ValueError as exc:
        raise BenchmarkInputError(f"{func}: argument {name} {exc}.") from None


def _describe(est) -> dict:
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


def _param(desc: dict, suffix: str):
    hits = [v for k, v in desc.items() if k == suffix or k.endswith("__" + suffix)]
    return hits[-1] if hits else None


def _resolved_device(requested: str) -> str:
    if requested != "auto":
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _build(name: str, align: str, ctx: BenchmarkContext):
    est = REGISTRY[name](ctx)
    factory = ALIGNMENTS[align]
    if factory is None:
        return est
    est = factory(est)
    if ctx.shrinkage and "shrinkage" in est.named_steps["align"].get_params():
        est.set_params(align__shrinkage=ctx.shrinkage)
    return est


def _fit_params(est, align: str, groups) -> dict | None:
    """``fit`` arguments of a fold: the subjects, to the aligner and to a subject adversary."""
    params, final = {}, est
    if align != "none":  # Pipeline([("align", ...), ("model", est)])
        params["align__groups"] = groups
        final = est.named_steps["model"]
    if getattr(final, "subject_adversarial", 0) > 0:
        params["model__groups" if align != "none" else "groups"] = groups
    return params or None


def _sigint_watch():
    """Note SIGINT (and raise KeyboardInterrupt as usual) while the benchmark runs."""
    from .._training import watch_sigint

    return watch_sigint()


def _predict_by_subject(est, X, groups, subjects):
    """Predictions made one subject at a time (per-subject alignment sees one subject)."""
    pred = None
    for s in subjects:
        m = groups == s
        p = est.predict(X[m])
        if pred is None:
            pred = np.empty(len(X), dtype=p.dtype)
        pred[m] = p
    return pred


def _scores(y, pred):
    from sklearn.metrics import balanced_accuracy_score, f1_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a class absent from a subject's windows
        return (
            float(balanced_accuracy_score(y, pred)),
            float(f1_score(y, pred, average="macro", zero_division=0)),
        )


def _fold_records(out, batch, X, y, groups, labels, meta):
    """One record per fold of a ``cross_validate`` output.

    The fitted estimators predict the test (and training) windows one subject at a time, so
    that a per-subject alignment aligns each subject with its own statistics even when a test
    fold holds several subjects (scikit-learn's scorers cannot pass the subjects to
    ``predict``). For any other model this equals predicting the windows together.
    """
    from sklearn.metrics import confusion_matrix

    records = []
    for i, fold in enumerate(batch):
        est = out["estimator"][i]
        y_test, g_test = y[fold.test], groups[fold.test]
        pred = _predict_by_subject(est, X[fold.test], g_test, fold.test_subjects)
        g_train = groups[fold.train]
        pred_train = _predict_by_subject(est, X[fold.train], g_train, np.unique(g_train))
        subj = []
        for s in fold.test_subjects:
            m = g_test == s
            bacc, f1 = _scores(y_test[m], pred[m])
            subj.append({"subject": s, "n_test": int(m.sum()), "balanced_accuracy": bacc,
                         "macro_f1": f1})  # fmt: skip
        bacc, f1 = _scores(y_test, pred)
        train_bacc, train_f1 = _scores(y[fold.train], pred_train)
        records.append(
            {
                **meta,
                "fold": fold.index,
                "test_subjects": list(fold.test_subjects),
                "n_train": len(fold.train),
                "n_test": len(fold.test),
                "balanced_accuracy": bacc,
                "macro_f1": f1,
                "train_balanced_accuracy": train_bacc,
                "train_macro_f1": train_f1,
                "fit_time_s": float(out["fit_time"][i]),
                "predict_time_s": float(out["score_time"][i]),
                "subjects": subj,
                "confusion": confusion_matrix(y_test, pred, labels=labels).tolist(),
            }
        )
    return records


def run_benchmark(
    X,
    y,
    groups,
    trials,
    *,
    sfreq,
    models=None,
    protocol="loso",
    n_splits=None,
    seeds=(0,),
    align=("none",),
    recipe="default",
    shrinkage=0.0,
    epochs=None,
    device="auto",
    precision="32",
    n_jobs=1,
    max_folds=None,
    domains=None,
    class_names=None,
    ch_names=None,
    output=None,
    overwrite=False,
    plots=True,
    description=None,
    command=None,
    progress=False,
    log=None,
) -> BenchmarkResult:
    """Benchmark the models and the baselines on the same trial-safe folds.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_channels, n_times)
    y, groups, trials : array-like of shape (n_windows,)
        Labels, subject per window, trial per window (unique across subjects).
    sfreq : float
        Sampling rate (Hz).
    models : list of str, optional
        Registered models (see ``REGISTRY``); the baselines always run. Default: the default
        models; ``["none"]``: the baselines only.
    protocol : {"loso", "group-kfold", "subject-dependent", "cross-dataset"}, default="loso"
        See :func:`make_folds`.
    n_splits : int, optional
        Folds of ``group-kfold`` / per subject of ``subject-dependent``.
    seeds : list of int, default=(0,)
        Training seeds; each model runs once per seed on the same folds.
    align : list of str, default=("none",)
        Alignments (keys of ``ALIGNMENTS``): every model and baseline runs with each.
    recipe : str, default="default"
        Cross-subject training options of every deep model (:data:`RECIPES`:
        ``"adversarial"``, ``"adabn"``, ``"augment"``, ``"all"``; see
        :func:`recipe_options`); the baselines are unchanged. A resume with another recipe is
        refused.
    shrinkage : float in [0, 1), default=0.0
        Shrinkage of the Euclidean alignment's reference covariances (singular covariances,
        e.g. average-referenced data, need a little: 0.01); recorded in the results.
    epochs : int, optional
        Epochs of every deep model (default: each model's own budget).
    device : str, default="auto"
        ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` for the deep models.
    precision : {"32", "bf16", "16-mixed"}, default="32"
    n_jobs : int, default=1
        Parallel folds through joblib (inside ``joblib.parallel_backend("dask")`` they run on
        a Dask cluster).
    max_folds : int, optional
        Only the first ``max_folds`` folds.
    domains : array-like of shape (n_windows,), optional
        Dataset of each window (``cross-dataset``).
    class_names : list of str, optional
        Names of the sorted classes, for the plots.
    ch_names : list of str, optional
        Channel names (models that place electrodes on the scalp need them).
    output : path-like, optional
        Folder of the results; a run continues from the folds it already holds.
    overwrite : bool, default=False
        Discard results of another configuration in ``output`` instead of refusing to run.
    plots : bool, default=True
        Write PNG plots to ``output/plots`` (needs matplotlib).
    description : dict, optional
        How the data were made (dataset, montage ...): recorded and part of the configuration.
    command : str, optional
        The command line to record (default: ``sys.argv``).
    progress : bool, default=False
        A progress bar over folds.
    log : callable, optional
        Called with a line of text for each message (e.g. ``print``).

    Returns
    -------
    result : BenchmarkResult

    Examples
    --------
    >>> from skemotion.benchmark import run_benchmark
    >>> from skemotion.datasets import make_eeg_emotion
    >>> d = make_eeg_emotion("emotiv14", n_subjects=3, n_windows_per_trial=2, random_state=0)
    >>> res = run_benchmark(d.X, d.y, d.groups, d.trials, sfreq=d.sfreq, models=["none"])
    >>> res.summary["balanced_accuracy_mean"].round(3).to_dict()
    {'majority': 0.333, 'de_lr': 0.528}
    >>> print(res.verdicts[0])  # doctest: +ELLIPSIS
    de_lr: balanced accuracy 0.528 over 3 folds; vs majority +0.194 (rank-biserial +0.67; ...
    """
    from sklearn.model_selection import cross_validate

    f = "run_benchmark"
    log = log or (lambda line: None)
    X = np.asarray(X)
    if X.ndim != 3:
        raise BenchmarkInputError(f"{f}: argument X must be 3-D; got shape {X.shape}.")
    y, groups, trials = np.asarray(y), np.asarray(groups), np.asarray(trials)
    for name, a in (("y", y), ("groups", groups), ("trials", trials)):
        if a.shape != (X.shape[0],):
            raise BenchmarkInputError(
                f"{f}: argument {name} must have shape ({X.shape[0]},); got {a.shape}."
            )
    for name, a, what in (("groups", groups, "subject"), ("trials", trials, "trial")):
        try:
            check_ids(f, a, X.shape[0], name, what)
        except ValueError as exc:
            raise BenchmarkInputError(str(exc)) from None
    if protocol not in PROTOCOLS:
        raise BenchmarkInputError(
            f"{f}: argument protocol must be one of {', '.join(PROTOCOLS)}; got {protocol!r}."
        )
    if n_splits is not None:
        n_splits = _arg(f, "n_splits", check_positive_int, n_splits)
    seeds = [_arg(f, "seeds", check_nonnegative_int, s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise BenchmarkInputError(
            f"{f}: argument seeds must be distinct, at least one; got {seeds}."
        )
    align = list(align)
    bad = [a for a in align if a not in ALIGNMENTS]
    if bad or not align or len(set(align)) != len(align):
        raise BenchmarkInputError(
            f"{f}: argument align must hold distinct values among {', '.join(ALIGNMENTS)}; got "
            f"{align}."
        )
    if recipe not in RECIPES:
        raise BenchmarkInputError(
            f"{f}: argument recipe must be one of {', '.join(RECIPES)}; got {recipe!r}."
        )
    if (
        isinstance(shrinkage, bool)
        or not isinstance(shrinkage, numbers.Real)
        or not (0 <= shrinkage < 1)
    ):
        raise BenchmarkInputError(
            f"{f}: argument shrinkage must be a number in [0, 1); got {shrinkage!r}."
        )
    if epochs is not None:
        epochs = _arg(f, "epochs", check_positive_int, epochs)
    device = _arg(f, "device", check_device, device)
    if precision not in PRECISIONS:
        raise BenchmarkInputError(
            f"{f}: argument precision must be one of {', '.join(PRECISIONS)}; got {precision!r}."
        )
    if precision == "16-mixed" and _resolved_device(device) == "cpu":
        raise BenchmarkInputError(
            f"{f}: argument precision='16-mixed' needs a CUDA device (device={device!r}); use "
            "bf16 or 32 on CPU."
        )
    n_jobs = _arg(f, "n_jobs", check_n_jobs, n_jobs)
    if max_folds is not None:
        max_folds = _arg(f, "max_folds", check_positive_int, max_folds)
    try:
        names = resolve_models(models)
    except ValueError as exc:
        raise BenchmarkInputError(f"{f}: argument models: {exc}.") from None
    try:
        folds = make_folds(protocol, y, groups, trials, n_splits=n_splits, domains=domains)
    except ValueError as exc:
        raise BenchmarkInputError(str(exc)) from None
    n_folds_total = len(folds)
    folds = folds[:max_folds] if max_folds else folds

    labels = np.unique(y)
    ctx = BenchmarkContext(
        sfreq=float(sfreq),
        n_channels=X.shape[1],
        n_times=X.shape[2],
        n_classes=len(labels),
        epochs=epochs,
        device=device,
        precision=precision,
        random_state=seeds[0],
        ch_names=None if ch_names is None else [str(c) for c in ch_names],
        recipe=recipe,
        shrinkage=float(shrinkage),
    )
    arms = [(n, a) for a in align for n in names]
    config = {
        "data": {
            **(description or {}),
            "shape": list(X.shape),
            "sfreq": float(sfreq),
            "sha1": data_fingerprint(X, y, groups, trials),
        },
        "protocol": protocol,
        "n_splits": n_splits,
        "epochs": epochs,
        "device": device,
        "precision": precision,
    }
    if recipe != "default":  # (absent from records written before recipes existed)
        config["recipe"] = recipe
    if shrinkage:
        config["shrinkage"] = float(shrinkage)
    if output is not None:
        Path(output).mkdir(parents=True, exist_ok=True)
    if output is not None:
        check_output_paths(output, plots)
    store = ResultStore(output, config, overwrite=overwrite)
    with store:  # the output folder is this run's until it returns or fails
        descriptions = {}
        for name, a in arms:
            est = _build(name, a, ctx)
            desc = _describe(est)
            final = est.steps[-1][1] if hasattr(est, "steps") else est
            min_times = getattr(final, "_min_times", None)
            if callable(min_times) and X.shape[2] < min_times():
                raise BenchmarkInputError(
                    f"{f}: model {name} needs windows of at least {min_times()} samples; the data "
                    f"have {X.shape[2]} ({X.shape[2] / sfreq:g} s at {sfreq:g} Hz)."
                )
            store.check_model(f"{name}/{a}", desc)
            descriptions[(name, a)] = desc
        # the work left, as (seed, arm, folds) batches
        if n_jobs == 1:
            batches = [
                (seed, arm, [fold])
                for seed in seeds
                for fold in folds
                for arm in arms
                if not store.has(*arm, seed, fold.index)
            ]
        else:
            batches = []
            for seed in seeds:
                for arm in arms:
                    todo = [fd for fd in folds if not store.has(*arm, seed, fd.index)]
                    if todo:
                        batches.append((seed, arm, todo))
        n_todo = sum(len(b[2]) for b in batches)
        n_all = len(folds) * len(arms) * len(seeds)
        if n_todo < n_all:
            log(f"resuming: {n_all - n_todo} of {n_all} fold results already in {output}")
        deep = any(_param(d, "device") is not None for d in descriptions.values())
        run_index = None
        if n_todo:
            run_index = store.start_run(
                {
                    "command": command or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                    "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                    "host": f"{socket.gethostname()}, {platform.platform()}, {os.cpu_count()} CPUs",
                    "versions": package_versions(),
                    "device": _resolved_device(device) if deep else "cpu",
                    "n_jobs": n_jobs,
                    "seeds": seeds,
                    "models": names,
                    "align": align,
                    "max_folds": max_folds,
                }
            )
            store.save()

        def meta(name, a, seed):
            desc = descriptions[(name, a)]
            dev = _param(desc, "device")
            return {
                "model": name,
                "align": a,
                "seed": seed,
                "device": "cpu" if dev is None else _resolved_device(dev),
                "precision": _param(desc, "precision"),
                "max_epochs": _param(desc, "max_epochs"),
                "run": run_index,
            }

        from tqdm.auto import tqdm

        bar = tqdm(total=n_todo, disable=not progress, desc="benchmark", unit="fold")
        try:
            with _sigint_watch() as sigint:
                for seed, (name, a), batch in batches:
                    bar.set_postfix_str(f"seed {seed} {name}" + ("" if a == "none" else f"/{a}"))
                    est = _build(name, a, replace(ctx, random_state=seed))
                    # the subjects reach the aligner as align__groups: routing off in here,
                    # whatever the caller's setting (the benchmark builds every pipeline itself)
                    with sklearn.config_context(enable_metadata_routing=False):
                        out = cross_validate(
                            est,
                            X,
                            y,
                            cv=[(fd.train, fd.test) for fd in batch],
                            scoring=SCORING,
                            return_estimator=True,
                            n_jobs=n_jobs,
                            error_score="raise",
                            params=_fit_params(est, a, groups),
                        )
                    records = _fold_records(out, batch, X, y, groups, labels, meta(name, a, seed))
                    if sigint["hit"]:  # an estimator caught Ctrl-C and returned early
                        raise KeyboardInterrupt
                    store.add(records)
                    bar.update(len(batch))
        finally:
            bar.close()
        return _result(
            store, arms, seeds, folds, labels, class_names, protocol, n_folds_total, plots, log
        )


def _result(store, arms, seeds, folds, labels, class_names, protocol, n_total, plots, log):
    """The :class:`BenchmarkResult` of the requested models, seeds and folds; with an output
    folder, also the summary files and the plots."""
    keys = {(n, a, s, fd.index) for (n, a) in arms for s in seeds for fd in folds}
    fold_df = store.fold_table(keys)
    subj_df = store.subject_table(keys)
    summary = summarize(fold_df)
    comparisons, verdicts = compare_to_baselines(
        fold_df, subj_df, by_subject=protocol == "subject-dependent"
    )
    confusion = {}
    for key in sorted(keys & store.records.keys(), key=lambda k: _sort_key(store.records[k])):
        rec = store.records[key]
        arm = (rec["model"], rec["align"])
        confusion[arm] = confusion.get(arm, 0) + np.asarray(rec["confusion"])
    names = list(class_names) if class_names is not None else [str(c) for c in labels]
    chance = 1.0 / len(labels)
    record = {"config": store.config, "models": store.models, "runs": store.runs,
              "folds_total": n_total}  # fmt: skip
    res = BenchmarkResult(
        folds=fold_df,
        subjects=subj_df,
        summary=summary,
        comparisons=comparisons,
        verdicts=verdicts,
        confusion=confusion,
        labels=[x.item() if hasattr(x, "item") else x for x in labels],
        class_names=names,
        chance=chance,
        record=record,
    )
    if store.folder is None:
        return res
    folder = store.folder
    store.save()  # every table on every run, also when no fold was left to do
    store.write_csv("summary.csv", summary.reset_index())
    store.write_csv("comparisons.csv", comparisons)
    payload = {
        **record,
        "summary": summary.reset_index().to_dict(orient="records"),
        "comparisons": comparisons.to_dict(orient="records"),
        "verdicts": verdicts,
        "chance": chance,
        "class_names": names,
        "confusion": [{"model": m, "align": a, "matrix": cm} for (m, a), cm in confusion.items()],
    }
    atomic_write_text(folder / "summary.json", json.dumps(jsonable(payload), indent=1))
    res.files += [str(folder / n) for n in OUTPUT_FILES]
    if plots:
        try:
            images = plot_results(
                subj_df, confusion, names, chance=chance, caption=store.runs[-1]["command"]
            )
        except ImportError:
            res.notes.append(
                "plots skipped: matplotlib is not installed (pip install 'skemotion[plot]')"
            )
        else:
            (folder / PLOTS).mkdir(exist_ok=True)
            for fname, data in images.items():
                atomic_write_bytes(folder / PLOTS / fname, data)
                res.files.append(str(folder / PLOTS / fname))
    for note in res.notes:
        log(note)
    return res
