"""Checks of the arguments the dataset loaders share; every message names the loader."""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "check_baseline",
    "check_choice",
    "check_ids",
    "check_path",
    "check_threshold",
    "check_verbose",
]


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


def check_baseline(baseline, loader: str):
    """``baseline=`` of the loaders that record a pre-trial baseline (see ``remove_baseline``)."""
    if not (baseline is None or (isinstance(baseline, str) and baseline in ("segment", "mean"))):
        raise ValueError(f"{loader}: baseline must be None, 'segment' or 'mean'; got {baseline!r}.")
    return baseline
