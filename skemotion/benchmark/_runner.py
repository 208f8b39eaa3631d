"""The benchmark run: options, data, folds, models, run and report, in that order.

:func:`run_benchmark` reads as its steps:

1. options and data: :func:`~skemotion.benchmark._options.check_options`, the one check of
   the options (the command line calls it too), and :func:`_check_data`;
2. folds: the protocol's folds (:func:`~skemotion.benchmark.make_folds`), the first
   ``max_folds`` of them;
3. models: every arm (model and alignment) built once per seed, described and checked against
   the output folder's record (:func:`_models`);
4. run: scikit-learn's ``cross_validate`` over the folds the output folder does not hold yet
   (:func:`_run`);
5. report: the tables, the paired tests against the baselines, the files and the plots
   (:func:`_report`).

Execution and resumability
--------------------------
Each arm and seed is evaluated with ``cross_validate`` on an explicit list of ``(train, test)``
index pairs, the folds of the protocol that the output folder does not hold yet, so ``n_jobs``
and any joblib backend (loky processes, a Dask cluster) apply unchanged. ``cross_validate``
clones the arm's estimator for each fold and fits the clone once; its scorer predicts the test
windows and the training windows once each, one subject at a time, and returns every number
of the fold (:class:`~skemotion.benchmark._models.FoldScorer`).

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

import contextlib
import datetime
import json
import os
import platform
import shlex
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from .._validation import check_ids
from ..datasets._cache import disk_backed
from ._models import ALIGNMENTS, FoldScorer, build_arms, describe, fold_scores, param
from ._options import check_options
from ._protocols import split_folds
from ._registry import BenchmarkContext
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
    The baselines on two synthetic subjects:

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


def run_benchmark(
    X, y, groups, trials, *, sfreq, models=None, protocol="loso", n_splits=None, seeds=(0,),
    align=("none",), recipe="default", shrinkage=0.0, epochs=None, device="auto", precision="32",
    n_jobs=1, max_folds=None, domains=None, class_names=None, ch_names=None, ch_types=None,
    output=None, overwrite=False, plots=True, description=None, command=None, progress=False,
    log=None,
) -> BenchmarkResult:  # fmt: skip
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
    ch_types : list of str, optional
        MNE type of every channel (EEG and ECG in one window): the EEG models then read the
        EEG channels, the ECG and fusion models (``hrv_lr``, ``sslecg``, ``fusion_early``,
        ``fusion_late``) the ECG; see :class:`BenchmarkContext`.
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
    log = log or (lambda line: None)
    options = check_options(models=models, protocol=protocol, n_splits=n_splits, seeds=seeds,
                            align=align, recipe=recipe, shrinkage=shrinkage, epochs=epochs,
                            device=device, precision=precision, n_jobs=n_jobs,
                            max_folds=max_folds)  # fmt: skip
    data = _check_data(X, y, groups, trials, sfreq)
    folds, n_folds_total = _folds(options, data, domains)
    if output is not None:
        Path(output).mkdir(parents=True, exist_ok=True)
        check_output_paths(output, plots)
    # the output folder is this run's until it returns or fails
    with ResultStore(output, _config(options, data, description), overwrite=overwrite) as store:
        arms = _models(store, options, data, ch_names, ch_types)
        _run(store, options, data, arms, folds, command=command, progress=progress, log=log)
        report = _report(store, options, data, _requested(options, arms, folds),
                         n_total=n_folds_total, class_names=class_names)  # fmt: skip
        if store.folder is not None:
            # the folder's tables and plots cover every result in it, earlier runs' included
            # (other models, alignments or seeds of the same configuration)
            everything = _report(store, options, data, set(store.records),
                                 n_total=n_folds_total, class_names=class_names)  # fmt: skip
            _write_report(store, everything, plots=plots, log=log)
            report.files, report.notes = everything.files, everything.notes
        return report


# --- 1. data ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Data:
    """The windows of a benchmark, checked; ``labels`` and ``subjects`` sorted."""

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    trials: np.ndarray
    sfreq: float
    labels: np.ndarray
    subjects: np.ndarray


def _check_data(X, y, groups, trials, sfreq) -> _Data:
    f = "run_benchmark"
    # a window cache's memory map stays one, and its folds go to disk rather than memory
    X = disk_backed(X) if isinstance(X, np.memmap) else np.asarray(X)
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
    return _Data(X, y, groups, trials, float(sfreq), np.unique(y), np.unique(groups))


def run_config(options, description) -> dict:
    """What the numbers depend on besides model, seed and fold, as far as the options and the
    data's ``description`` tell: one output folder holds one configuration, and this much of
    it is checked before any data are loaded (:func:`~._store.check_folder_config`)."""
    config = {
        "data": dict(description or {}),
        "protocol": options.protocol,
        "n_splits": options.n_splits,
        "epochs": options.epochs,
        "device": options.device,
        "precision": options.precision,
    }
    if options.recipe != "default":  # (absent from records written before recipes existed)
        config["recipe"] = options.recipe
    if options.shrinkage:
        config["shrinkage"] = options.shrinkage
    return config


def _config(options, data: _Data, description) -> dict:
    """:func:`run_config` and the data's shape, rate and fingerprint (a resume must match)."""
    config = run_config(options, description)
    config["data"].update(
        shape=list(data.X.shape),
        sfreq=data.sfreq,
        sha1=data_fingerprint(data.X, data.y, data.groups, data.trials),
    )
    return config


# --- 2. folds ---------------------------------------------------------------------------------
def _folds(options, data: _Data, domains) -> tuple[list, int]:
    """The folds to run (the first ``max_folds``) and the protocol's number of folds."""
    try:
        folds = split_folds(options.protocol, data.y, data.groups, data.trials,
                            n_splits=options.n_splits, domains=domains)  # fmt: skip
    except ValueError as exc:
        raise BenchmarkInputError(str(exc)) from None
    return (folds[: options.max_folds] if options.max_folds else folds), len(folds)


# --- 3. models --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Arms:
    """The arms of a benchmark: ``keys`` (model, align), alignments outermost; ``models``
    ``(model, align, seed) -> FoldModel``; ``descriptions`` ``(model, align) -> dict``."""

    keys: list
    models: dict
    descriptions: dict


def _context(options, data: _Data, ch_names, ch_types=None) -> BenchmarkContext:
    return BenchmarkContext(
        sfreq=data.sfreq,
        n_channels=data.X.shape[1],
        n_times=data.X.shape[2],
        n_classes=len(data.labels),
        epochs=options.epochs,
        device=options.device,
        precision=options.precision,
        random_state=options.seeds[0],
        ch_names=None if ch_names is None else [str(c) for c in ch_names],
        recipe=options.recipe,
        shrinkage=options.shrinkage,
        ch_types=None if ch_types is None else [str(t) for t in ch_types],
    )


def _models(store: ResultStore, options, data: _Data, ch_names, ch_types=None) -> _Arms:
    """Every arm built once per seed; its parameters checked against the output's record."""
    keys = [(n, a) for a in options.align for n in options.models]
    models = build_arms(keys, options.seeds, _context(options, data, ch_names, ch_types))
    descriptions = {}
    for name, align in keys:
        est = models[(name, align, options.seeds[0])].estimator
        final = est.steps[-1][1] if hasattr(est, "steps") else est
        min_times = getattr(final, "_min_times", None)
        n_times = data.X.shape[2]
        if callable(min_times) and n_times < min_times():
            raise BenchmarkInputError(
                f"run_benchmark: model {name} needs windows of at least {min_times()} samples; "
                f"the data have {n_times} ({n_times / data.sfreq:g} s at {data.sfreq:g} Hz)."
            )
        descriptions[(name, align)] = describe(est)
        store.check_model(f"{name}/{align}", descriptions[(name, align)])
    return _Arms(keys, models, descriptions)


# --- 4. run -----------------------------------------------------------------------------------
def _run(store, options, data: _Data, arms: _Arms, folds, *, command, progress, log) -> None:
    """``cross_validate`` over the folds not finished yet; every batch recorded at once."""
    from tqdm.auto import tqdm

    from .._training import watch_sigint

    batches = _batches(store, options, arms.keys, folds)
    n_todo = sum(len(batch) for _, _, batch in batches)
    n_all = len(folds) * len(arms.keys) * len(options.seeds)
    if n_todo < n_all:
        log(f"resuming: {n_all - n_todo} of {n_all} fold results already in {store.folder}")
    run_index = _start_run(store, options, arms, command) if n_todo else None
    scorer = FoldScorer(data.labels, data.subjects)
    bar = tqdm(total=n_todo, disable=not progress, desc="benchmark", unit="fold")
    try:
        with watch_sigint() as sigint, _scattered(data):
            for seed, (name, align), batch in batches:
                bar.set_postfix_str(
                    f"seed {seed} {name}" + ("" if align == "none" else f"/{align}")
                )
                out = _cross_validate(arms.models[(name, align, seed)], batch, data, scorer,
                                      options.n_jobs)  # fmt: skip
                meta = _meta(name, align, seed, arms.descriptions[(name, align)], run_index)
                records = [_record(meta, fold, out, i, data) for i, fold in enumerate(batch)]
                if sigint["hit"]:  # an estimator caught Ctrl-C and returned early
                    raise KeyboardInterrupt
                store.add(records)
                bar.update(len(batch))
    finally:
        bar.close()


@contextlib.contextmanager
def _scattered(data: _Data):
    """Under joblib's dask backend, the windows and labels go to every worker once for the
    whole run (``client.scatter``, broadcast), not with each ``cross_validate`` call."""
    import joblib
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if type(backend).__name__ != "DaskDistributedBackend":
        yield
        return
    with joblib.parallel_backend("dask", scatter=[data.X, data.y]):
        yield


def _batches(store, options, arms, folds) -> list:
    """The work left, as ``(seed, arm, folds)``: serially one fold each, every arm on a fold
    before the next fold; in parallel every pending fold of an arm and seed together."""
    if options.n_jobs == 1:
        return [(seed, arm, [fold]) for seed in options.seeds for fold in folds for arm in arms
                if not store.has(*arm, seed, fold.index)]  # fmt: skip
    pending = [
        (seed, arm, [fd for fd in folds if not store.has(*arm, seed, fd.index)])
        for seed in options.seeds
        for arm in arms
    ]
    return [batch for batch in pending if batch[2]]


def _start_run(store, options, arms: _Arms, command) -> int:
    """Record this run (command, versions, device ...) before its first fold."""
    deep = any(param(d, "device") is not None for d in arms.descriptions.values())
    index = store.start_run(
        {
            "command": command or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "host": f"{socket.gethostname()}, {platform.platform()}, {os.cpu_count()} CPUs",
            "versions": package_versions(),
            "device": options.run_device if deep else "cpu",
            "n_jobs": options.n_jobs,
            "seeds": list(options.seeds),
            "models": list(options.models),
            "align": list(options.align),
            "max_folds": options.max_folds,
        }
    )
    store.save()
    return index


def _cross_validate(model, batch, data: _Data, scorer, n_jobs: int) -> dict:
    """One arm and seed on the folds of ``batch``. The subjects reach the fold model and the
    scorer through metadata routing, on in here whatever the caller's setting."""
    from sklearn.model_selection import cross_validate

    with sklearn.config_context(enable_metadata_routing=True):
        return cross_validate(
            model,
            data.X,
            data.y,
            cv=[(fd.train, fd.test) for fd in batch],
            scoring=scorer,
            return_train_score=True,
            n_jobs=n_jobs,
            error_score="raise",
            params={"groups": data.groups},
        )


def _meta(name, align, seed, description, run_index) -> dict:
    """The columns of a fold record that say what ran (model, seed, device ...)."""
    from .._training import resolve_device

    dev = param(description, "device")
    if dev == "auto":
        dev = resolve_device(None, dev)
    return {"model": name, "align": align, "seed": seed, "device": "cpu" if dev is None else dev,
            "precision": param(description, "precision"),
            "max_epochs": param(description, "max_epochs"), "run": run_index}  # fmt: skip


def _record(meta, fold, out, i, data: _Data) -> dict:
    """The record of fold ``fold``, the ``i``-th of a ``cross_validate`` output."""
    return {
        **meta,
        "fold": fold.index,
        "test_subjects": list(fold.test_subjects),
        "n_train": len(fold.train),
        "n_test": len(fold.test),
        **fold_scores(out, i, data.subjects, fold.test_subjects, len(data.labels)),
    }


# --- 5. report --------------------------------------------------------------------------------
def _requested(options, arms: _Arms, folds) -> set:
    """The (model, align, seed, fold) results this call asked for."""
    return {(n, a, s, fd.index) for (n, a) in arms.keys for s in options.seeds for fd in folds}


def _report(store, options, data: _Data, keys, *, n_total, class_names):
    """The :class:`BenchmarkResult` of the results ``keys`` (model, align, seed, fold)."""
    fold_df = store.fold_table(keys)
    subj_df = store.subject_table(keys)
    comparisons, verdicts = compare_to_baselines(
        fold_df, subj_df, by_subject=options.protocol == "subject-dependent"
    )
    confusion = {}
    for key in sorted(keys & store.records.keys(), key=lambda k: _sort_key(store.records[k])):
        rec = store.records[key]
        arm = (rec["model"], rec["align"])
        confusion[arm] = confusion.get(arm, 0) + np.asarray(rec["confusion"])
    labels = [x.item() if hasattr(x, "item") else x for x in data.labels]
    names = [str(c) for c in labels] if class_names is None else list(class_names)
    record = {"config": store.config, "models": store.models, "runs": store.runs,
              "folds_total": n_total}  # fmt: skip
    return BenchmarkResult(folds=fold_df, subjects=subj_df, summary=summarize(fold_df),
                           comparisons=comparisons, verdicts=verdicts, confusion=confusion,
                           labels=labels, class_names=names, chance=1.0 / len(labels),
                           record=record)  # fmt: skip


def _write_report(store: ResultStore, res: BenchmarkResult, *, plots: bool, log) -> None:
    """Every table, ``summary.json`` and the plots, into the output folder."""
    folder = store.folder
    store.save()  # every table on every run, also when no fold was left to do
    store.write_csv("summary.csv", res.summary.reset_index())
    store.write_csv("comparisons.csv", res.comparisons)
    payload = {
        **res.record,
        "summary": res.summary.reset_index().to_dict(orient="records"),
        "comparisons": res.comparisons.to_dict(orient="records"),
        "verdicts": res.verdicts,
        "chance": res.chance,
        "class_names": res.class_names,
        "confusion": [
            {"model": m, "align": a, "matrix": cm} for (m, a), cm in res.confusion.items()
        ],
    }
    atomic_write_text(folder / "summary.json", json.dumps(jsonable(payload), indent=1))
    res.files += [str(folder / n) for n in OUTPUT_FILES]
    if plots:
        try:
            images = plot_results(res.subjects, res.confusion, res.class_names, chance=res.chance,
                                  caption=store.runs[-1]["command"])  # fmt: skip
        except ImportError:
            res.notes.append(
                "plots skipped: matplotlib is not installed (pip install 'skemotion[plot]')"
            )
        else:
            (folder / PLOTS).mkdir(exist_ok=True)
            for name, image in images.items():
                atomic_write_bytes(folder / PLOTS / name, image)
                res.files.append(str(folder / PLOTS / name))
    for note in res.notes:
        log(note)
