"""Machinery shared by the dataset loaders: finding and selecting the files of a local copy,
and the window assembler that fills one preallocated array trial by trial (argument checks are
in ``_checks.py``, label encodings in ``_targets.py``).

Memory model: a loader describes each selected trial as a :class:`TrialSource` (its length and
a ``load`` callable) before any signal is copied. :func:`assemble_windows` counts the windows,
allocates ``X`` once (float32) and then loads one trial at a time, copies its windows in and
drops the trial. Peak memory is therefore ``X`` plus whatever one ``load`` call holds (one file
for pickled or cell-array formats), never a list of per-trial window arrays followed by a
concatenation (which would need twice ``X``).
"""

from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from re import Match, Pattern

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from ..features._filtering import subtract_baseline
from ._base import make_dataset_bunch
from ._cache import WindowCache
from ._windowing import n_windows, window_params

__all__ = [
    "DatasetFormatError",
    "TrialSource",
    "Windowing",
    "assemble_windows",
    "cache_hit",
    "window_cache",
    "index_files",
    "present_pairs",
    "select_subjects",
    "trial_id",
]


class DatasetFormatError(ValueError):
    """A dataset file is missing a variable, has the wrong layout, or cannot be read."""


@dataclass
class TrialSource:
    """One trial to window: metadata, length and a callable returning its signal.

    ``load()`` returns an array of shape (n_channels, n_samples). ``target`` and ``labels`` may
    be filled in by ``load`` itself (DEAP keeps its labels in the same pickle as the signal).
    ``bad`` (bool, per sample) marks samples that no kept window may touch (NaN policy).
    """

    subject: int
    session: int
    trial: int
    n_samples: int
    load: Callable[[], np.ndarray]
    target: object = None
    labels: dict = field(default_factory=dict)
    bad: np.ndarray | None = None

    @classmethod
    def held(cls, x: np.ndarray, subject: int, session: int, trial: int, **meta) -> TrialSource:
        """A trial whose signal ``x`` (n_channels, n_samples) is already in memory; ``meta``:
        ``target``, ``labels``, ``bad``."""
        return cls(subject, session, trial, x.shape[1], lambda: x, **meta)


def assemble_windows(
    sources: list[TrialSource],
    *,
    loader: str,
    n_channels: int,
    sfreq: float,
    window_seconds: float,
    overlap: float,
    y_dtype=np.int64,
    verbose: bool = False,
    allocate: Callable | None = None,
) -> dict:
    """Window every trial of ``sources`` into one float32 array.

    ``sources`` is consumed: each entry is replaced by ``None`` once its windows are copied,
    so the trial's signal can be freed. ``allocate(shape, dtype)``, when given, makes ``X``
    (the window cache passes a memory-mapped file); by default ``np.empty``.

    Returns
    -------
    dict with ``X`` (n_windows, n_channels, n_times) float32, ``y``, ``groups`` (subject),
    ``trials`` and ``frame``. A trial's id is :func:`trial_id` of its subject, session and
    trial number: it names the recording, so it is the same whatever else is selected, and
    two loads (e.g. of different sessions) never share an id.
    """
    length, step = window_params(sfreq, window_seconds, overlap, where=loader)
    keep_masks: list[np.ndarray | None] = []
    counts = np.zeros(len(sources), dtype=np.int64)
    for i, src in enumerate(sources):
        n = n_windows(src.n_samples, length, step)
        mask = None
        if n and src.bad is not None and src.bad.any():
            mask = _clean_windows(src.bad, n, length, step)
            counts[i] = int(mask.sum())
        else:
            counts[i] = n
        keep_masks.append(mask)
    total = int(counts.sum())
    if total == 0:
        raise ValueError(
            f"{loader}: no window of {window_seconds} s fits in the selected data "
            f"({len(sources)} trials); choose a shorter window_seconds or another selection."
        )
    X = (allocate or np.empty)((total, n_channels, length), np.float32)
    meta = []
    pos = 0
    bar = tqdm(total=len(sources), desc=loader, unit="trial", disable=not verbose, leave=False)
    for i in range(len(sources)):
        src = sources[i]
        sources[i] = None  # let the trial's signal go once copied
        bar.update(1)
        if counts[i] == 0:
            meta.append((src.subject, src.session, src.trial, src.target, src.labels, None))
            continue
        data = src.load()
        if data.ndim != 2 or data.shape != (n_channels, src.n_samples):
            raise DatasetFormatError(
                f"{loader}: trial {src.trial} of subject {src.subject} (session "
                f"{src.session}) has shape {data.shape}; expected ({n_channels}, "
                f"{src.n_samples})."
            )
        n_all = n_windows(src.n_samples, length, step)
        views = np.lib.stride_tricks.sliding_window_view(data, length, axis=1)[:, ::step]
        views = views[:, :n_all].transpose(1, 0, 2)  # (n_windows, n_channels, length)
        starts = np.arange(n_all) * step / float(sfreq)
        if keep_masks[i] is not None:
            views, starts = views[keep_masks[i]], starts[keep_masks[i]]
        X[pos : pos + counts[i]] = views
        pos += counts[i]
        meta.append((src.subject, src.session, src.trial, src.target, src.labels, starts))
        del data, views
    bar.close()

    kept = [(k, m) for k, m in enumerate(meta) if m[5] is not None]
    reps = counts[[k for k, _ in kept]]
    subjects = np.repeat(np.array([m[0] for _, m in kept]), reps)
    targets = np.array([m[3] for _, m in kept])
    if targets.dtype == object:
        raise ValueError(f"{loader}: internal error, a trial has no target.")
    frame = pd.DataFrame(
        {
            "subject": subjects,
            "session": np.repeat(np.array([m[1] for _, m in kept]), reps),
            "trial": np.repeat(np.array([m[2] for _, m in kept]), reps),
            "start": np.concatenate([m[5] for _, m in kept]),
        }
    )
    label_cols: dict[str, list] = {}
    for _, m in kept:
        for key in m[4]:
            label_cols.setdefault(key, [])
    for key in label_cols:
        col = np.array([m[4].get(key, np.nan) for _, m in kept])
        frame[key] = np.repeat(col, reps)
    trial_ids = np.repeat(np.array([trial_id(m[0], m[1], m[2]) for _, m in kept]), reps)
    return {
        "X": X,
        "y": np.repeat(targets.astype(y_dtype), reps),
        "groups": subjects,
        "trials": trial_ids,
        "frame": frame,
    }


@dataclass(frozen=True)
class Windowing:
    """How a loader cuts its trials into windows: the loader's name (in messages), the
    sampling rate, the loader's ``window_seconds`` and ``overlap``, whether a progress bar
    runs over the trials while their windows are copied, and the window cache entry
    (:class:`~._cache.WindowCache`, None: windows in memory)."""

    loader: str
    sfreq: float
    window_seconds: float
    overlap: float
    verbose: bool = False
    cache: WindowCache | None = None

    def count(self, sources: Iterable[TrialSource], *, clean: bool = False) -> int:
        """Number of windows in ``sources``: all of them, or with ``clean`` those that
        :func:`assemble_windows` keeps (no ``bad`` sample)."""
        length, step = window_params(
            self.sfreq, self.window_seconds, self.overlap, where=self.loader
        )
        total = 0
        for src in sources:
            n = n_windows(src.n_samples, length, step)
            if clean and n and src.bad is not None and src.bad.any():
                n = int(_clean_windows(src.bad, n, length, step).sum())
            total += n
        return total

    def cached_in(self, cache_dir, files, **options) -> Windowing:
        """This windowing with the cache entry of a loader call (none when ``cache_dir`` is
        None): ``files`` are every file the call reads, ``options`` the call's other
        arguments that change its windows or labels (the rate, window length and overlap are
        added here)."""
        key = {**options, "sfreq": self.sfreq, "window_seconds": self.window_seconds,
               "overlap": self.overlap}  # fmt: skip
        return replace(self, cache=window_cache(cache_dir, self.loader, files, key))

    def cached(self) -> Bunch | None:
        """The dataset from the window cache when it holds a valid entry (None otherwise, and
        without a cache): a loader calls this before reading any file."""
        return cache_hit(self.cache)

    def bunch(self, sources: list[TrialSource], *, ch_names, target, about: str, **extra) -> Bunch:
        """Window ``sources`` (:func:`assemble_windows`) into the dataset Bunch.

        ``target`` gives the class names and the dtype of ``y`` (a ``RatingTarget`` or
        ``ClassCodes``); ``about`` starts the description, which ends with the windowing;
        ``extra`` entries are stored in the Bunch. With a cache, the windows are written to
        (or read from) its entry and ``X`` is a read-only ``numpy.memmap``.
        """

        def assemble(allocate=None):
            return assemble_windows(
                sources,
                loader=self.loader,
                n_channels=len(ch_names),
                sfreq=self.sfreq,
                window_seconds=self.window_seconds,
                overlap=self.overlap,
                y_dtype=target.y_dtype,
                verbose=self.verbose,
                allocate=allocate,
            )

        meta = {
            "sfreq": self.sfreq,
            "ch_names": list(ch_names),
            "target_names": list(target.names),
            "description": f"{about}, {self.window_seconds} s windows, overlap {self.overlap}.",
            "extra": extra,
        }
        if self.cache is not None:
            return _entry_bunch(self.cache.get_or_build(assemble, meta))
        return _entry_bunch({**assemble(), "meta": meta})


def cache_hit(cache: WindowCache | None) -> Bunch | None:
    """The dataset of a valid cache entry; None without a cache or entry."""
    if cache is None:
        return None
    entry = cache.open()
    return None if entry is None else _entry_bunch(entry)


def _entry_bunch(entry: dict) -> Bunch:
    meta = entry["meta"]
    return make_dataset_bunch(
        X=entry["X"],
        y=entry["y"],
        groups=entry["groups"],
        trials=entry["trials"],
        frame=entry["frame"],
        sfreq=meta["sfreq"],
        ch_names=meta["ch_names"],
        target_names=meta["target_names"],
        description=meta["description"],
        **meta["extra"],
    )


def window_cache(cache_dir, loader: str, files, options: dict) -> WindowCache | None:
    """The cache entry of a loader call (None when ``cache_dir`` is None); ``files`` are every
    file the call reads, ``options`` every argument that changes its windows or labels."""
    if cache_dir is None:
        return None
    if not isinstance(cache_dir, str | os.PathLike):
        raise ValueError(f"{loader}: cache_dir must be a folder path or None; got {cache_dir!r}.")
    return WindowCache(cache_dir, loader, files, options)


def trial_id(subject: int, session: int, trial: int) -> np.int64:
    """``subject * 10**6 + session * 1000 + trial``: e.g. subject 2, session 3, trial 7 is
    2003007. Session and trial numbers must lie in 0-999."""
    if not (0 <= session < 1000 and 0 <= trial < 1000 and subject >= 0):
        raise ValueError(
            f"trial_id: subject {subject}, session {session}, trial {trial} do not fit the "
            "subject * 10**6 + session * 1000 + trial scheme (session and trial in 0-999)."
        )
    return np.int64(subject) * 1_000_000 + session * 1000 + trial


def _clean_windows(bad: np.ndarray, n: int, length: int, step: int) -> np.ndarray:
    """Boolean mask of the ``n`` windows that contain no ``bad`` sample."""
    csum = np.concatenate([[0], np.cumsum(bad, dtype=np.int64)])
    starts = np.arange(n) * step
    return (csum[starts + length] - csum[starts]) == 0


# --------------------------------------------------------------------------- files of a copy


def index_files(
    files: Iterable[Path],
    pattern: Pattern,
    key: Callable[[Match], object],
    duplicate: Callable[[object, Path, Path], str],
) -> dict:
    """``{key(match): file}`` of the ``files`` whose name matches ``pattern`` (names only: a
    file is reported by name when it is read). Two files with one key raise
    :class:`DatasetFormatError` with the message ``duplicate(key, first, second)``."""
    found: dict = {}
    for f in files:
        m = pattern.match(f.name)
        if not m:
            continue
        k = key(m)
        if k in found:
            raise DatasetFormatError(duplicate(k, found[k], f))
        found[k] = f
    return found


def select_subjects(
    ids: list[int] | None,
    present: Collection[int],
    none_found: str,
    missing: Callable[[int], str] | None = None,
) -> list[int]:
    """The subjects to load: ``ids`` (checked by ``check_ids``), or every subject ``present``
    in the copy when ``ids`` is None.

    Raises ``FileNotFoundError`` with the message ``none_found`` when the copy holds no subject
    and, when ``missing`` is given, with ``missing(subject)`` for a selected subject that is
    not ``present``.
    """
    if ids is None:
        if not present:
            raise FileNotFoundError(none_found)
        return sorted(present)
    if missing is not None:
        for s in ids:
            if s not in present:
                raise FileNotFoundError(missing(s))
    return ids


def present_pairs(
    subjects: Iterable[int],
    parts: Sequence[int],
    found: Mapping,
    selected: bool,
    absent: Callable[[int, int], str],
    missing: Callable[[int, int], str],
) -> tuple[list[tuple[int, int]], list[str]]:
    """The ``(subject, part)`` keys of ``found`` to load (parts are sessions or games), in
    subject then part order, and the descriptions of the absent ones.

    A part the user ``selected`` must be present: an absent one raises ``FileNotFoundError``
    with ``missing(subject, part)``, as does a subject with none of ``parts``. When the parts
    were not selected (None: all), a subject with some of them loads those, and each absent
    part is listed as ``absent(subject, part)`` (for a warning about a partial copy).
    """
    keys, gone = [], []
    for s in subjects:
        has_any = any((s, p) in found for p in parts)
        for p in parts:
            if (s, p) in found:
                keys.append((s, p))
            elif not selected and has_any:
                gone.append(absent(s, p))
            else:
                raise FileNotFoundError(missing(s, p))
    return keys, gone


# --------------------------------------------------------------------------- Python 2 pickles


def read_py2_pickle(file: Path):
    """Load a Python 2 pickle (DEAP, WESAD) holding numpy arrays, without copying them.

    An array's data sit in the file as one string after its shape and dtype. Here they are not
    read: the array is returned as a read-only ``numpy.memmap`` of the file at that place (for
    data of 1 MiB or more; smaller arrays are read), so that a loader reads only the parts it
    windows, one at a time, and nothing holds a copy of the file. ``pickle.load(f,
    encoding="latin1")`` would hold each array twice while building it (the raw string, then
    its latin-1 round trip). Dict keys and plain strings are decoded as latin-1, which gives
    the result of ``encoding="latin1"``. Pickles execute code when loaded: only load files you
    trust (your own dataset copy).
    """
    with open(file, "rb") as f:
        return _decode_keys(_MappingUnpickler(f, Path(file)).load())


_MAP_MIN_BYTES = 1 << 20


class _Span:
    """Where a large string of the pickle lies in the file (not read)."""

    __slots__ = ("length", "offset")

    def __init__(self, offset: int, length: int):
        self.offset, self.length = offset, length


class _MappingUnpickler(pickle._Unpickler):
    """Python's own unpickler (the pure-Python one, whose opcodes can be extended), except that
    large byte strings are skipped and recorded as a :class:`_Span`, and an array built from
    one (numpy's ``__setstate__`` state) becomes a memory map of the file at that place."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, path: Path):
        super().__init__(file, encoding="bytes")
        self._f, self._path = file, path
        self._size = path.stat().st_size

    def _string(self, n: int):
        if n < 0:
            raise pickle.UnpicklingError("negative byte count in a string of the pickle")
        if n < _MAP_MIN_BYTES:
            return self.read(n)
        span = _Span(self._f.tell(), n)
        if span.offset + n > self._size:
            raise pickle.UnpicklingError("the file ends inside an array (truncated)")
        self._f.seek(n, os.SEEK_CUR)  # protocol 2 has no frames: the file position is exact
        return span

    def load_binstring(self):  # Python 2 str
        data = self._string(int.from_bytes(self.read(4), "little", signed=True))
        self.append(data if isinstance(data, _Span) else self._decode_string(data))

    def load_binbytes(self):
        self.append(self._string(int.from_bytes(self.read(4), "little")))

    def load_build(self):
        state, inst = self.stack[-1], self.stack[-2]
        if not (isinstance(inst, np.ndarray) and isinstance(state, tuple) and len(state) >= 4
                and isinstance(state[-1], _Span)):  # fmt: skip
            return pickle._Unpickler.load_build(self)
        self.stack.pop()
        shape, dtype, fortran, span = state[-4:]
        dtype = np.dtype(dtype)
        if span.length != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise pickle.UnpicklingError(
                f"an array of shape {tuple(shape)} {dtype} holds {span.length} bytes"
            )
        arr = np.memmap(self._path, dtype=dtype, mode="r", offset=span.offset,
                        shape=tuple(shape), order="F" if fortran else "C")  # fmt: skip
        self.stack[-1] = arr
        for key, value in list(self.memo.items()):  # later references to the array
            if value is inst:
                self.memo[key] = arr

    dispatch[pickle.BINSTRING[0]] = load_binstring
    dispatch[pickle.BINBYTES[0]] = load_binbytes
    dispatch[pickle.BUILD[0]] = load_build


def read_rows(arr: np.ndarray, index: int) -> np.ndarray:
    """``arr[index]`` as a new array. For a C-ordered memory map of a file (what
    :func:`read_py2_pickle` returns), the row is read from the file with ``np.fromfile``
    rather than through the mapping, so that the process never keeps the pages of the rows it
    has read: reading a file row by row holds one row, not the file."""
    base = arr if isinstance(arr, np.memmap) else getattr(arr, "base", None)
    if (
        isinstance(base, np.memmap)
        and base.filename is not None
        and base.shape == arr.shape
        and arr.flags.c_contiguous
        and np.shares_memory(arr, base)
    ):
        row = int(np.prod(arr.shape[1:], dtype=np.int64))
        index = index + arr.shape[0] if index < 0 else index
        if not 0 <= index < arr.shape[0]:
            raise IndexError(f"row {index} of an array of {arr.shape[0]} rows")
        out = np.fromfile(base.filename, dtype=arr.dtype, count=row,
                          offset=base.offset + index * row * arr.itemsize)  # fmt: skip
        return out.reshape(arr.shape[1:])
    return np.array(arr[index])


def _decode_keys(obj):
    if isinstance(obj, dict):
        return {_decode_keys(k): _decode_keys(v) for k, v in obj.items()}
    if isinstance(obj, bytes):
        return obj.decode("latin1")
    if isinstance(obj, list | tuple):
        return type(obj)(_decode_keys(v) for v in obj)
    return obj


# --------------------------------------------------------------------------- baseline


def remove_baseline(
    trial: np.ndarray, baseline: np.ndarray, method: str | None, segment: int, where: str
) -> np.ndarray:
    """Subtract a pre-trial baseline from a (n_channels, n_samples) trial; float32 result.

    ``"segment"``: the baseline is cut into 1 s segments (``segment`` samples), their mean
    segment is subtracted from every consecutive 1 s segment of the trial (the usual DEAP /
    DREAMER practice). ``"mean"``: the per-channel mean of the baseline is subtracted.
    ``None``: the trial is returned as is (float32). The computation is the one of
    :func:`skemotion.features.functional.remove_baseline` (``"base_mean"`` with ``segment``);
    errors name ``where`` (the loader, file and trial).
    """
    if method is None:
        return np.array(trial, dtype=np.float32, copy=True)
    out = subtract_baseline(
        np.asarray(trial, dtype=np.float64)[np.newaxis],
        np.asarray(baseline)[np.newaxis],
        "base_mean" if method == "segment" else "mean",
        segment,
        where,
    )
    return out[0].astype(np.float32)


def warn_missing(loader: str, what: str, items: list[str], stacklevel: int = 3) -> None:
    """Warn that a selection of None loaded a partial copy (``items`` were not there).

    The default ``stacklevel`` points the warning at the caller of the loader that calls this.
    """
    if items:
        shown = ", ".join(items[:10]) + (" ..." if len(items) > 10 else "")
        warnings.warn(
            f"{loader}: the copy is partial, {len(items)} {what} absent and not loaded: {shown}",
            UserWarning,
            stacklevel=stacklevel,
        )


def warn_skipped(loader: str, what: str, items: list[str]) -> None:
    if items:
        shown = ", ".join(items[:10]) + (" ..." if len(items) > 10 else "")
        warnings.warn(f"{loader}: skipped {len(items)} {what}: {shown}", UserWarning, stacklevel=3)
