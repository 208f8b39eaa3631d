"""Checks shared by the inspection functions, and the lazy import of optional dependencies."""

from __future__ import annotations

import importlib
import numbers

import numpy as np

#: the pip extra that provides each optional dependency
_EXTRAS = {"captum": "explain", "matplotlib": "plot", "mne": "mne"}


def require(module: str, func: str):
    """Import ``module`` (a top-level package first, so that a missing parent is caught) or
    raise an ``ImportError`` naming the function that needs it and the extra to install."""
    top = module.partition(".")[0]
    extra = _EXTRAS[top]
    try:
        importlib.import_module(top)
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{func} needs {top}, which is not installed: pip install 'skemotion[{extra}]' "
            f"(or pip install {top})."
        ) from exc


def check_windows(func: str, X, *, finite: bool, arg: str = "X") -> np.ndarray:
    """``X`` as a real numeric 3-D array ``(n_windows, n_channels, n_times)``, not copied.

    Raises a ``ValueError`` / ``TypeError`` naming ``func`` and ``arg`` for another rank, an
    empty axis, a non-numeric or complex dtype, and (with ``finite``) NaN or infinity.
    """
    try:
        X = np.asarray(X)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise ValueError(f"{func}: argument {arg} is not an array: {exc}") from exc
    if X.dtype == bool or not (
        np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)
    ):
        raise TypeError(
            f"{func}: argument {arg} must be a real numeric array; got dtype {X.dtype}."
        )
    if X.ndim != 3:
        raise ValueError(
            f"{func}: argument {arg} must be 3-D windows (n_windows, n_channels, n_times); got "
            f"an array of shape {X.shape}."
        )
    if 0 in X.shape:
        raise ValueError(f"{func}: argument {arg} is empty: shape {X.shape}.")
    if finite and not np.isfinite(X).all():
        raise ValueError(f"{func}: argument {arg} contains NaN or infinity.")
    return X


def check_ch_names(func: str, ch_names, n_channels: int) -> list[str]:
    """``ch_names`` as a list of ``n_channels`` strings; None gives ``"0"``, ``"1"``, ..."""
    if ch_names is None:
        return [str(c) for c in range(n_channels)]
    if isinstance(ch_names, str):
        raise ValueError(
            f"{func}: argument ch_names must be a sequence of channel names; got the string "
            f"{ch_names!r}."
        )
    try:
        names = [str(c) for c in ch_names]
    except TypeError as exc:
        raise ValueError(
            f"{func}: argument ch_names must be a sequence of channel names; got {ch_names!r}."
        ) from exc
    if len(names) != n_channels:
        raise ValueError(
            f"{func}: argument ch_names holds {len(names)} names but there are {n_channels} "
            "channels."
        )
    return names


def check_positive_int(func: str, value, arg: str) -> int:
    """An integer >= 1 (not a bool)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{func}: argument {arg} must be an integer >= 1; got {value!r}.")
    return int(value)
