"""Input validation shared by every skemotion estimator.

This is the one module that touches scikit-learn's validation helpers. Every estimator goes
through :func:`check_signal_X` (and :func:`check_signal_X_y` in ``fit``) so that the conventions
of the package hold everywhere:

- X is ``(n_windows, n_channels, n_times)``; a 2-D X is read as single-channel
  ``(n_windows, n_times)`` and returned as ``(n_windows, 1, n_times)``;
- NaN/inf, complex, empty, non-numeric and wrongly shaped inputs raise a ``ValueError`` or
  ``TypeError`` that names the estimator, the argument and what was received;
- at predict time, the number of channels and of time samples must match ``fit``;
- the caller's array is never modified (a copy is made whenever a dtype change or a view could
  leak a later in-place operation).
"""

from __future__ import annotations

import numbers
from contextlib import contextmanager

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "check_signal_X",
    "check_signal_X_y",
    "check_is_fitted",
    "check_classification_targets",
    "check_sfreq",
]


def _name(estimator) -> str:
    return type(estimator).__name__


@contextmanager
def _named_errors(estimator, arg: str):
    """Re-raise scikit-learn's validation errors with the estimator and argument named."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if msg.startswith(_name(estimator)):
            raise
        raise type(exc)(f"{_name(estimator)}: argument {arg}: {msg}") from exc


def _to_3d(estimator, X: np.ndarray, arg: str) -> np.ndarray:
    if X.ndim == 2:
        return X[:, np.newaxis, :]
    if X.ndim == 3:
        return X
    raise ValueError(
        f"{_name(estimator)}: argument {arg} must be 3-D (n_windows, n_channels, n_times) or 2-D "
        f"(n_windows, n_times); got an array with shape {X.shape}."
    )


def _check_finite_ndim(estimator, X, arg):
    if not np.isfinite(X).all():
        n_bad = int(np.size(X) - np.count_nonzero(np.isfinite(X)))
        raise ValueError(
            f"{_name(estimator)}: argument {arg} contains NaN or infinity ({n_bad} values); "
            "remove or interpolate them first."
        )


def _check_shape_against_fit(estimator, X3, arg, check_times):
    n_ch = getattr(estimator, "n_channels_", None)
    if n_ch is not None and X3.shape[1] != n_ch:
        raise ValueError(
            f"{_name(estimator)}: argument {arg} has {X3.shape[1]} channels, but the estimator "
            f"was fitted with {n_ch} channels."
        )
    n_t = getattr(estimator, "n_times_", None)
    if check_times and n_t is not None and X3.shape[2] != n_t:
        raise ValueError(
            f"{_name(estimator)}: argument {arg} has {X3.shape[2]} time samples, but the "
            f"estimator was fitted with windows of {n_t} samples."
        )


def _validate_X(estimator, X, reset, dtype):
    return validate_data(
        estimator,
        X,
        reset=reset,
        dtype=dtype,
        allow_nd=True,
        ensure_all_finite=False,
        ensure_min_samples=1,
        ensure_min_features=1,
        copy=False,
    )


def check_signal_X(
    estimator,
    X,
    *,
    reset: bool,
    dtype=np.float32,
    check_times: bool = True,
    min_times: int = 1,
    arg: str = "X",
    torch_ok: bool = False,
):
    """Validate signal windows and return a float ``(n_windows, n_channels, n_times)`` array.

    Parameters
    ----------
    estimator : estimator instance
        Used for error messages and ``n_features_in_`` (set when ``reset=True``).
    X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
    reset : bool
        True in ``fit`` (records ``n_features_in_``), False afterwards (checks it, and checks
        ``n_channels_`` / ``n_times_`` when the estimator has them).
    dtype : numpy dtype or list of dtypes
        Output dtype. ``np.float32`` by default (what the networks use).
    check_times : bool
        Whether the number of time samples must equal ``n_times_`` after fit.
    min_times : int
        Minimum window length accepted.
    torch_ok : bool
        If True and X is a torch tensor, it is returned as it is after shape checks.
    """
    if torch_ok and type(X).__module__.startswith("torch"):
        X3 = X if X.ndim == 3 else (X.unsqueeze(1) if X.ndim == 2 else None)
        if X3 is None:
            raise ValueError(
                f"{_name(estimator)}: argument {arg} must be 3-D or 2-D; got a tensor with "
                f"shape {tuple(X.shape)}."
            )
        if not reset:
            _check_shape_against_fit(estimator, X3, arg, check_times)
        return X3
    if hasattr(X, "dtype") and np.iscomplexobj(X):
        raise ValueError(f"{_name(estimator)}: argument {arg}: Complex data not supported.")
    shape = getattr(X, "shape", None)
    if not reset and shape is not None and len(shape) == 3:
        # name channels and time samples (sklearn's own message would say "features")
        _check_shape_against_fit(estimator, np.empty((0, *shape[1:])), arg, check_times)
    with _named_errors(estimator, arg):
        X = _validate_X(estimator, X, reset, dtype)
    X3 = _to_3d(estimator, X, arg)
    if X3.shape[2] < 1 or X3.shape[1] < 1:
        raise ValueError(
            f"{_name(estimator)}: argument {arg} has shape {X3.shape}; every window needs at "
            "least one channel and one time sample."
        )
    _check_finite_ndim(estimator, X3, arg)
    if X3.shape[2] < min_times:
        raise ValueError(
            f"{_name(estimator)}: argument {arg} has windows of {X3.shape[2]} samples; this "
            f"estimator needs at least {min_times} samples per window."
        )
    if not reset:
        _check_shape_against_fit(estimator, X3, arg, check_times)
    return X3


def check_signal_X_y(estimator, X, y, *, dtype=np.float32, min_times: int = 1, classifier=True):
    """Validate ``(X, y)`` in ``fit``: X as in :func:`check_signal_X`, y 1-D of same length."""
    if y is None:
        raise ValueError(f"{_name(estimator)} requires y to be passed, but the target y is None.")
    if hasattr(X, "dtype") and np.iscomplexobj(X):
        raise ValueError(f"{_name(estimator)}: argument X: Complex data not supported.")
    with _named_errors(estimator, "X or y"):
        X, y = validate_data(
            estimator,
            X,
            y,
            reset=True,
            dtype=dtype,
            allow_nd=True,
            ensure_all_finite=False,
            ensure_min_samples=1,
            y_numeric=False,
            copy=False,
        )
    X3 = _to_3d(estimator, X, "X")
    _check_finite_ndim(estimator, X3, "X")
    if X3.shape[2] < min_times:
        raise ValueError(
            f"{_name(estimator)}: argument X has windows of {X3.shape[2]} samples; this "
            f"estimator needs at least {min_times} samples per window."
        )
    if classifier:
        with _named_errors(estimator, "y"):
            check_classification_targets(y)
    return X3, y


def check_sfreq(estimator, sfreq, arg="sfreq") -> float:
    """Check a sampling frequency is a positive finite number and return it as float."""
    if (
        isinstance(sfreq, bool)
        or not isinstance(sfreq, numbers.Real)
        or not np.isfinite(sfreq)
        or sfreq <= 0
    ):
        raise ValueError(
            f"{_name(estimator)}: argument {arg} must be a positive number (Hz); got {sfreq!r}."
        )
    return float(sfreq)
