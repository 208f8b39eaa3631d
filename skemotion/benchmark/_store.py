"""Results on disk: atomic writes and the resumable record of finished folds.

The output folder holds ``results.json``, the complete record (configuration, every run's
command, package versions and device, and one entry per finished fold with its per-subject
scores and confusion matrix), and tidy tables derived from it (``results.csv`` one row per fold,
``subjects.csv`` one row per subject and fold). Every file is written to a temporary name in the
same folder and moved over the old one with ``os.replace``, so a file is either the previous
complete version or the new complete version, never half-written, whenever the run stops.

A run reopens the record of its output folder and skips the folds already in it, provided the
record was made with the same configuration (data, protocol, epochs, device, precision, model
parameters); otherwise it stops before any training and says what differs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import row_blocks

__all__ = [
    "BenchmarkInputError",
    "ResultStore",
    "ResultsMismatchError",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_paths",
    "data_fingerprint",
    "jsonable",
    "read_results",
]

FORMAT = 1
RESULTS_JSON = "results.json"
FOLD_KEY = ("model", "align", "seed", "fold")


class BenchmarkInputError(ValueError):
    """A value or a combination of values the benchmark cannot run with.

    Examples
    --------
    >>> from skemotion.benchmark import BenchmarkInputError, run_benchmark
    >>> try:
    ...     run_benchmark([[[0.0]]], [0], [0], [0], sfreq=1.0, epochs=0)
    ... except BenchmarkInputError as exc:
    ...     print(exc)
    run_benchmark: argument epochs must be an integer >= 1; got 0.
    """


class ResultsMismatchError(BenchmarkInputError):
    """The output folder holds results of another configuration.

    Examples
    --------
    >>> import tempfile
    >>> from skemotion.benchmark import ResultsMismatchError, run_benchmark
    >>> from skemotion.datasets import make_eeg_emotion
    >>> d = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=2, random_state=0)
    >>> args = (d.X, d.y, d.groups, d.trials)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     _ = run_benchmark(*args, sfreq=d.sfreq, models=["none"], output=out, plots=False)
    ...     try:
    ...         run_benchmark(*args, sfreq=d.sfreq, models=["none"], output=out, epochs=5)
    ...     except ResultsMismatchError as exc:
    ...         print("refused:", "epochs: None there, 5 now" in str(exc))
    refused: True
    """


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def jsonable(v):
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return [jsonable(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def data_fingerprint(*arrays) -> str:
    """SHA-1 of the arrays' shapes, dtypes and bytes (identifies the data of a record)."""
    h = hashlib.sha1()
    for a in arrays:
        if not (isinstance(a, np.ndarray) and a.flags.c_contiguous):
            a = np.ascontiguousarray(a)
        h.update(f"{a.shape}{a.dtype.str}".encode())
        if a.dtype == object:
            h.update(repr(a.tolist()).encode())
        elif a.ndim == 0 or a.size == 0:
            h.update(a.tobytes())
        else:  # the bytes of tobytes(), in blocks of rows: no copy of a large (mapped) X
            for b in row_blocks(a, (1 << 26) // a.itemsize):
                h.update(a[b])
    return h.hexdigest()


def _diff(old: dict, new: dict, prefix="") -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _diff(a, b, prefix=f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}: {a!r} there, {b!r} now")
    return out


LOCK_FILE = ".skemotion.lock"
#: the files a run writes in its output folder (plots in the sub-folder PLOTS)
OUTPUT_FILES = ("results.json", "results.csv", "subjects.csv", "summary.csv", "comparisons.csv",
                "summary.json")  # fmt: skip
PLOTS = "plots"


def check_output_paths(folder, plots: bool) -> None:
    """Refuse, before any work, an output folder where a run could not write its files."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BenchmarkInputError(f"{folder} exists and is not a folder; choose another output")
    for name in OUTPUT_FILES:
        if (folder / name).exists() and not (folder / name).is_file():
            raise BenchmarkInputError(
                f"{folder / name} exists and is not a file; move it or choose another output folder"
            )
    if plots and (folder / PLOTS).exists() and not (folder / PLOTS).is_dir():
        raise BenchmarkInputError(
            f"{folder / PLOTS} exists and is not a folder (the plots go there); move it, choose "
            "another output folder or run without plots"
        )


def _check_record(saved, path) -> None:
    """The shape of a benchmark record; anything else is refused with one message."""
    problem = None
    if not isinstance(saved, dict):
        problem = f"a JSON {type(saved).__name__}, not an object"
    else:
        kinds = {"config": dict, "models": dict, "runs": list, "folds": list}
        for key, kind in kinds.items():
            if not isinstance(saved.get(key), kind):
                problem = f"{key!r} missing or not a {kind.__name__}"
                break
        else:
            for rec in saved["folds"]:
                if not isinstance(rec, dict) or any(k not in rec for k in FOLD_KEY):
                    problem = f"a fold entry without {list(FOLD_KEY)}"
                    break
                scores = [rec.get(k) for k in ("balanced_accuracy", "macro_f1")]
                if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in scores):
                    problem = f"fold {[rec[k] for k in FOLD_KEY]} has non-numeric scores"
                    break
    if problem:
        raise ResultsMismatchError(
            f"{path} is not a benchmark record ({problem}); choose another output folder or "
            "overwrite it"
        )


def _lock_folder(folder: Path):
    """Hold an exclusive lock on the output folder for the run, or refuse a folder in use.

    Two runs writing one folder would each keep only their own folds in ``results.json``; the
    second run stops instead, before any work. The lock (``fcntl.flock`` on
    :data:`LOCK_FILE`) is released when its file is closed, also when the process dies.
    """
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / LOCK_FILE, "a+")  # noqa: SIM115 (held for the whole run)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock, the run goes on unguarded
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise BenchmarkInputError(
            f"{folder} is in use by another benchmark run ({owner}); wait for it to finish or "
            "choose another output folder"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def _data_free(config: dict) -> dict:
    """``config`` without what only the loaded data tell (shape, rate, fingerprint)."""
    data = {k: v for k, v in config.get("data", {}).items() if k not in _DATA_ONLY}
    return {**config, "data": data}


_DATA_ONLY = ("shape", "sfreq", "sha1")


def check_folder_config(folder, config: dict) -> dict | None:
    """The record in ``folder`` (None when there is none) after checking that it was made
    with ``config``: the rule is one configuration (data, protocol, epochs, device,
    precision, recipe) per output folder.

    ``config`` may lack the data's shape, rate and fingerprint (checked before the data are
    loaded); what it holds must equal the record's. Raises :class:`ResultsMismatchError`.
    """
    path = Path(folder) / RESULTS_JSON
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsMismatchError(
            f"{path} is not a readable benchmark record ({exc}); choose another output "
            "folder or overwrite it"
        ) from None
    _check_record(saved, path)
    old = saved.get("config") or {}
    complete = all(k in config.get("data", {}) for k in _DATA_ONLY)
    if not complete:
        old = _data_free(old)
    if saved.get("format") != FORMAT or old != jsonable(config):
        diff = _diff(old, jsonable(config))
        raise ResultsMismatchError(
            f"{folder} holds results of another configuration ("
            + ("; ".join(diff[:4]) or f"format {saved.get('format')!r}")
            + "); choose another output folder or overwrite it"
        )
    return saved


class ResultStore:
    """The finished folds of a benchmark, in memory and (with a folder) on disk.

    Parameters
    ----------
    folder : path-like or None
        Output folder; None keeps everything in memory.
    config : dict
        What the numbers depend on besides model, seed and fold (JSON-able).
    overwrite : bool, default=False
        Discard a record made with another configuration instead of refusing it.
    """

    def __init__(self, folder, config: dict, *, overwrite: bool = False):
        self.folder = None if folder is None else Path(folder)
        self.config = jsonable(config)
        self.models: dict[str, dict] = {}
        self.runs: list[dict] = []
        self.records: dict[tuple, dict] = {}
        self._lock = None
        if self.folder is None:
            return
        self._lock = _lock_folder(self.folder)
        try:
            self._read(overwrite)
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Release the output folder (the lock of :func:`_lock_folder`)."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.close()  # closing the file releases its lock

    def _read(self, overwrite: bool) -> None:
        saved = None if overwrite else check_folder_config(self.folder, self.config)
        if saved is None:
            return
        self.models = saved.get("models", {})
        self.runs = saved.get("runs", [])
        for rec in saved.get("folds", []):
            self.records[tuple(rec[k] for k in FOLD_KEY)] = rec

    # --- bookkeeping --------------------------------------------------------------------------
    def check_model(self, key: str, description: dict) -> None:
        """Record the parameters of model ``key`` or check them against the record."""
        description = jsonable(description)
        old = self.models.get(key)
        if old is not None and old != description:
            has_folds = any(f"{r['model']}/{r['align']}" == key for r in self.records.values())
            if has_folds:
                diff = _diff(old, description)
                raise ResultsMismatchError(
                    f"{self.folder} holds results of {key} with other parameters ("
                    + "; ".join(diff[:4])
                    + "); choose another output folder or overwrite it"
                )
        self.models[key] = description

    def start_run(self, meta: dict) -> int:
        self.runs.append(jsonable(meta))
        return len(self.runs) - 1

    def has(self, model, align, seed, fold) -> bool:
        return (model, align, seed, fold) in self.records

    def add(self, records) -> None:
        """Add finished folds and save everything (atomically)."""
        for rec in records:
            rec = jsonable(rec)
            self.records[tuple(rec[k] for k in FOLD_KEY)] = rec
        self.save()

    # --- views --------------------------------------------------------------------------------
    def _selected(self, keys):
        recs = [r for k, r in self.records.items() if keys is None or k in keys]
        return sorted(recs, key=_sort_key)

    def fold_table(self, keys=None) -> pd.DataFrame:
        """One row per fold (of ``keys``, default all), sorted: registry order, seed, fold."""
        rows = [
            {k: v for k, v in r.items() if k not in ("subjects", "confusion")}
            for r in self._selected(keys)
        ]
        cols = [*FOLD_KEY, "test_subjects", "n_train", "n_test", "balanced_accuracy", "macro_f1",
                "train_balanced_accuracy", "train_macro_f1", "fit_time_s", "predict_time_s",
                "device", "precision", "max_epochs", "run"]  # fmt: skip
        df = pd.DataFrame(rows, columns=cols)
        df["test_subjects"] = [";".join(map(str, s)) for s in df["test_subjects"]]
        return df

    def subject_table(self, keys=None) -> pd.DataFrame:
        """One row per test subject and fold (of ``keys``, default all)."""
        rows = [
            {**{k: r[k] for k in FOLD_KEY}, **s}
            for r in self._selected(keys)
            for s in r["subjects"]
        ]
        cols = [*FOLD_KEY, "subject", "n_test", "balanced_accuracy", "macro_f1"]
        return pd.DataFrame(rows, columns=cols)

    # --- disk -----------------------------------------------------------------------------------
    def write_csv(self, name: str, df: pd.DataFrame) -> None:
        """Write a plain CSV table (``pandas.read_csv(path)``, R and spreadsheets read it as
        it is); what ran, with which versions, is in ``results.json``."""
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        atomic_write_text(self.folder / name, buf.getvalue())

    def save(self) -> None:
        if self.folder is None:
            return
        payload = {
            "format": FORMAT,
            "config": self.config,
            "models": self.models,
            "runs": self.runs,
            "folds": sorted(self.records.values(), key=_sort_key),
        }
        atomic_write_text(self.folder / RESULTS_JSON, json.dumps(payload, indent=1))
        self.write_csv("results.csv", self.fold_table())
        self.write_csv("subjects.csv", self.subject_table())


def _model_rank(name) -> tuple:
    """Registry order first (baselines, then models), unknown names after, alphabetically."""
    from ._registry import REGISTRY

    names = list(REGISTRY)
    return (names.index(name), "") if name in names else (len(names), str(name))


def _align_rank(align) -> tuple:
    return (0, "") if align == "none" else (1, str(align))


def _sort_key(rec):
    return (_model_rank(rec["model"]), _align_rank(rec["align"]), rec["seed"], rec["fold"])


def read_results(folder) -> dict:
    """Read a benchmark output folder: its tables and its full record.

    Parameters
    ----------
    folder : path-like
        The ``--output`` folder of ``skemotion benchmark``.

    Returns
    -------
    results : dict
        ``"folds"`` (DataFrame, one row per model, alignment, seed and fold), ``"subjects"``
        (DataFrame, one row per test subject and fold), ``"summary"`` (DataFrame or None when
        the run did not finish) and ``"record"`` (the parsed ``results.json``).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skemotion.benchmark import read_results, run_benchmark
    >>> from skemotion.datasets import make_eeg_emotion
    >>> d = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=2, random_state=0)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     _ = run_benchmark(d.X, d.y, d.groups, d.trials, sfreq=d.sfreq, models=["none"],
    ...                       output=out, plots=False)
    ...     res = read_results(out)
    >>> res["folds"]["model"].tolist(), res["folds"]["fold"].tolist()
    (['majority', 'majority', 'de_lr', 'de_lr'], [0, 1, 0, 1])
    """
    folder = Path(folder)
    out = {
        "record": json.loads((folder / RESULTS_JSON).read_text()),
        "folds": pd.read_csv(folder / "results.csv"),
        "subjects": pd.read_csv(folder / "subjects.csv"),
        "summary": None,
    }
    if (folder / "summary.csv").exists():
        out["summary"] = pd.read_csv(folder / "summary.csv")
    return out
