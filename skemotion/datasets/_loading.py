"""Machinery shared by the dataset loaders: argument checks, label encoding, and the window
assembler that fills one preallocated array trial by trial.

Memory model: a loader describes each selected trial as a :class:`TrialSource` (its length and
a ``load`` callable) before any signal is copied. :func:`assemble_windows` counts the windows,
allocates ``X`` once (float32) and then loads one trial at a time, copies its windows in and
drops the trial. Peak memory is therefore ``X`` plus whatever one ``load`` call holds (one file
for pickled or cell-array formats), never a list of per-trial window arrays followed by a
concatenation (which would need twice ``X``).
"""

from __future__ import annotations

import mmap
import numbers
import os
import pickle
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..features._filtering import subtract_baseline
from ._windowing import n_windows, window_params

__all__ = ["DatasetFormatError", "TrialSource", "assemble_windows", "trial_id"]


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
) -> dict:
    """Window every trial of ``sources`` into one float32 array.

    ``sources`` is consumed: each entry is replaced by ``None`` once its windows are copied,
    so the trial's signal can be freed.

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
    X = np.empty((total, n_channels, length), dtype=np.float32)
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


# --------------------------------------------------------------------------- Python 2 pickles


def read_py2_pickle(file: Path):
    """Load a Python 2 pickle (DEAP, WESAD) holding numpy arrays, with one copy of the data.

    ``pickle.load(f, encoding="latin1")`` holds each array twice while it builds it (the raw
    string, then its latin-1 round trip). Reading from a memory map with ``encoding="bytes"``
    lets numpy keep the one ``bytes`` copy as the array's buffer; dict keys and plain strings
    are then decoded as latin-1, which gives the same result as ``encoding="latin1"``.
    Pickles execute code when loaded: only load files you trust (your own dataset copy).
    """
    with open(file, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return _decode_keys(pickle.loads(mm, encoding="bytes"))


def _decode_keys(obj):
    if isinstance(obj, dict):
        return {_decode_keys(k): _decode_keys(v) for k, v in obj.items()}
    if isinstance(obj, bytes):
        return obj.decode("latin1")
    if isinstance(obj, list | tuple):
        return type(obj)(_decode_keys(v) for v in obj)
    return obj


# --------------------------------------------------------------------------- argument checks


def check_path(path, loader: str) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{loader}: path must be a str or os.PathLike; got {type(path).__name__}.")
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"{loader}: path {str(p)!r} does not exist.")
    return p


def check_choice(value, name: str, choices: Sequence, loader: str):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{loader}: {name} must be one of {list(choices)}; got {value!r}.")
    return value


def check_ids(value, name: str, known: Iterable[int], loader: str) -> list[int] | None:
    """Normalise ``subjects=``/``sessions=``: None, an int or a sequence of known ints."""
    if value is None:
        return None
    known = sorted(known)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        value = [value]
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{loader}: {name} must be None, an int or a list of ints; got {value!r}.")
    out = []
    for v in value:
        if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Integral):
            raise ValueError(f"{loader}: {name} must contain ints; got {v!r} in {value!r}.")
        if int(v) not in known:
            raise ValueError(f"{loader}: {name} contains {v!r}; expected values in {known}.")
        if int(v) not in out:
            out.append(int(v))
    if not out:
        raise ValueError(f"{loader}: {name} is empty; pass None to select all.")
    return sorted(out)


def check_threshold(threshold, comparison: str, loader: str):
    if threshold is not None and (
        isinstance(threshold, bool | np.bool_)
        or not isinstance(threshold, numbers.Real)
        or not np.isfinite(threshold)
    ):
        raise ValueError(f"{loader}: threshold must be a finite number or None; got {threshold!r}.")
    check_choice(comparison, "comparison", (">", ">="), loader)


def check_verbose(verbose, loader: str) -> bool:
    if not isinstance(verbose, bool | np.bool_ | int):
        raise ValueError(f"{loader}: verbose must be a bool; got {verbose!r}.")
    return bool(verbose)


# --------------------------------------------------------------------------- label encoding

QUADRANT_NAMES = ["LVLA", "LVHA", "HVLA", "HVHA"]


def is_high(score: float, threshold: float, comparison: str) -> int:
    return int(score >= threshold) if comparison == ">=" else int(score > threshold)


def rating_target(scores: Mapping[str, float], target: str, threshold, comparison: str) -> object:
    """Encode one trial's ratings: binary high/low, 4 quadrants, or the raw score."""
    if target == "quadrant":
        v = is_high(scores["valence"], threshold, comparison)
        a = is_high(scores["arousal"], threshold, comparison)
        return 2 * v + a
    if threshold is None:
        return float(scores[target])
    return is_high(scores[target], threshold, comparison)


def rating_target_names(target: str, threshold) -> list[str]:
    if target == "quadrant":
        return list(QUADRANT_NAMES)
    if threshold is None:
        return [target]
    return [f"low_{target}", f"high_{target}"]


def check_rating_target(target, threshold, comparison, scales: Sequence[str], loader: str):
    check_choice(target, "target", [*scales, "quadrant"], loader)
    check_threshold(threshold, comparison, loader)
    if target == "quadrant" and threshold is None:
        raise ValueError(
            f"{loader}: target='quadrant' needs a numeric threshold; got threshold=None."
        )


def label_map_codes(label_map, loader: str, known) -> tuple[dict, list[str]]:
    """``{raw_label: class_name}`` -> ``({raw_label: code}, target_names)``.

    Codes follow the first appearance of each class name in the mapping, so several raw labels
    may share one class; raw labels absent from the mapping are dropped. Every key must be one
    of the dataset's raw labels ``known`` (a key that matches nothing would silently drop the
    class it was meant for).
    """
    if not isinstance(label_map, Mapping) or not label_map:
        raise ValueError(
            f"{loader}: label_map must be a non-empty dict {{raw_label: class_name}}; "
            f"got {label_map!r}."
        )
    known = sorted(known)
    names: list[str] = []
    codes = {}
    for raw, name in label_map.items():
        if isinstance(raw, bool | np.bool_) or raw not in known:
            raise ValueError(
                f"{loader}: label_map key {raw!r} is not a raw label of the dataset; expected "
                f"keys among {known}."
            )
        if not isinstance(name, str):
            raise ValueError(f"{loader}: label_map values must be class names; got {name!r}.")
        if name not in names:
            names.append(name)
        codes[raw] = names.index(name)
    return codes, names


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


def warn_missing(loader: str, what: str, items: list[str]) -> None:
    """Warn that a selection of None loaded a partial copy (``items`` were not there)."""
    if items:
        shown = ", ".join(items[:10]) + (" ..." if len(items) > 10 else "")
        warnings.warn(
            f"{loader}: the copy is partial, {len(items)} {what} absent and not loaded: {shown}",
            UserWarning,
            stacklevel=3,
        )


def warn_skipped(loader: str, what: str, items: list[str]) -> None:
    if items:
        shown = ", ".join(items[:10]) + (" ..." if len(items) > 10 else "")
        warnings.warn(f"{loader}: skipped {len(items)} {what}: {shown}", UserWarning, stacklevel=3)
