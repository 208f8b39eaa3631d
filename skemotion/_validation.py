"""Input validation shared by every skemotion estimator.

This is the one module that touches scikit-learn's validation helpers. Every estimator goes
through :func:`check_signal_X` (and :func:`check_signal_X_y` in ``fit``) so that the conventions
of the package hold everywhere:

- X is ``(n_windows, n_channels, n_times)``; a 2-D X is read as single-channel
  ``(n_windows, n_times)`` and returned as ``(n_windows, 1, n_times)``, in fit and at predict
  alike; estimators that declare it also take rank-4 windows (grids, spectrograms);
- NaN/inf, complex, empty, non-numeric and wrongly shaped inputs raise a ``ValueError`` or
  ``TypeError`` that names the estimator, the argument and what was received;
- at predict time, the number of channels and of time samples must match ``fit``;
- X may also be ``mne.Epochs`` or a skemotion dataset (the Bunch of the loaders and
  generators): their windows are used, and their sampling rate and channel names are checked
  against the estimator's ``sfreq`` and ``ch_names`` parameters and, at predict time, against
  those seen in fit (:func:`signal_metadata`; the rule is in the user guide's conventions);
- the caller's array is never modified (a copy is made whenever a dtype change or a view could
  leak a later in-place operation).
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np

# scikit-learn's declarative parameter validation (``_parameter_constraints``): the private
# module is imported here only, every estimator takes the constraint types from this module
from sklearn.utils._param_validation import Hidden, Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_y,
    _num_samples,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

__all__ = [
    "check_signal_X",
    "check_signal_X_y",
    "check_is_fitted",
    "check_classification_targets",
    "check_finite_array",
    "check_sfreq",
    "fitted_sfreq",
    "signal_metadata",
    "check_input_features",
    "num_samples",
    "Interval",
    "Options",
    "StrOptions",
    "DEPRECATED",
    "deprecated_constraint",
    "renamed_parameters",
]


def _name(estimator) -> str:
    """The name in messages: the estimator's class, or a function's name given as a string."""
    return estimator if isinstance(estimator, str) else type(estimator).__name__


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


_SHAPES = {
    2: "2-D (n_windows, n_times)",
    3: "3-D (n_windows, n_channels, n_times)",
    4: "4-D (n_windows, d1, d2, d3), e.g. (n_windows, n_bands, height, width) grids or "
    "(n_windows, n_channels, n_freqs, n_frames) spectrograms",
}


def _allowed(ndims) -> str:
    ranks = sorted(ndims) + ([2] if 3 in ndims else [])
    return " or ".join(_SHAPES[r] for r in ranks)


def _promote(estimator, X, arg, ndims):
    """A 2-D X is single-channel windows: (n, T) -> (n, 1, T). Check the rank."""
    if X.ndim == 2 and 3 in ndims:
        return X[:, np.newaxis, :]
    if X.ndim in ndims:
        return X
    raise ValueError(
        f"{_name(estimator)}: argument {arg} must be {_allowed(ndims)}; got an array with "
        f"shape {X.shape}."
    )


_FINITE_CHUNK = 1 << 22  # values per block of the finite check


def row_blocks(X, values: int) -> list[slice]:
    """Slices of consecutive rows of X (its first axis) holding about ``values`` values each
    (at least one row): the blocks in which large or memory-mapped arrays are read through,
    never copied or converted whole."""
    per = max(1, values // max(1, int(np.prod(np.shape(X)[1:], dtype=np.int64))))
    return [slice(i, i + per) for i in range(0, np.shape(X)[0], per)]


def _all_finite(X) -> bool:
    """Whether every value of X is finite, in blocks of windows: no mask of X's size, and a
    memory-mapped X is read through rather than held."""
    if np.ndim(X) < 2 or np.size(X) <= _FINITE_CHUNK:
        return bool(np.isfinite(X).all())
    return all(np.isfinite(X[b]).all() for b in row_blocks(X, _FINITE_CHUNK))


def _check_finite_ndim(estimator, X, arg):
    if not _all_finite(X):
        n_bad = int(np.size(X) - np.count_nonzero(np.isfinite(X)))
        raise ValueError(
            f"{_name(estimator)}: argument {arg} contains NaN or infinity ({n_bad} values); "
            "remove or interpolate them first."
        )


def _check_shape_against_fit(estimator, X3, arg, check_times):
    """Compare a promoted X with the per-window shape seen in fit (named messages)."""
    fitted = getattr(estimator, "_signal_shape_in", None)
    if fitted is not None and len(fitted) != X3.ndim - 1:
        raise ValueError(
            f"{_name(estimator)}: argument {arg} has shape {X3.shape}, but the estimator was "
            f"fitted with windows of shape {tuple(fitted)}."
        )
    if X3.ndim == 4:
        if fitted is not None and tuple(X3.shape[1:]) != tuple(fitted):
            raise ValueError(
                f"{_name(estimator)}: argument {arg} has windows of shape {X3.shape[1:]}, but "
                f"the estimator was fitted with windows of shape {tuple(fitted)}."
            )
        return
    n_ch = getattr(estimator, "n_channels_", None)
    if n_ch is not None and X3.shape[1] != n_ch:
        raise ValueError(
            f"{_name(estimator)}: argument {arg} has {X3.shape[1]} channels, but the estimator "
            f"was fitted with {n_ch} channels."
        )
    n_t = getattr(estimator, "n_times_", None)
    if check_times and n_t is not None and X3.shape[2] != n_t:
        if getattr(estimator, "_signal_ndim_in", None) == 2:
            # sklearn's wording for tabular X (single-channel windows)
            raise ValueError(
                f"{_name(estimator)}: X has {X3.shape[2]} features, but "
                f"{_name(estimator)} is expecting {n_t} features as input (the time samples "
                "of single-channel windows)."
            )
        raise ValueError(
            f"{_name(estimator)}: argument {arg} has {X3.shape[2]} time samples, but the "
            f"estimator was fitted with windows of {n_t} samples."
        )


def _as_array(estimator, X, arg, dtype):
    """``check_array`` with named errors (complex, ragged, non-numeric, empty)."""
    if hasattr(X, "dtype") and np.iscomplexobj(X):
        raise ValueError(f"{_name(estimator)}: argument {arg}: Complex data not supported.")
    if not hasattr(X, "shape") and not hasattr(X, "__array__"):
        try:
            np.asarray(X)
        except ValueError as exc:
            if "inhomogeneous" in str(exc) or "sequence" in str(exc):
                raise ValueError(
                    f"{_name(estimator)}: argument {arg} is a ragged nested sequence (windows "
                    "or channels of different lengths); pass a regular array of shape "
                    "(n_windows, n_channels, n_times)."
                ) from None
            raise
    with _named_errors(estimator, arg):
        return check_array(
            X,
            dtype=dtype,
            allow_nd=True,
            ensure_all_finite=False,
            ensure_min_samples=1,
            ensure_min_features=1,
            copy=False,
            input_name=arg,
        )


def _source(X) -> str | None:
    """``"mne.Epochs"`` or ``"dataset"`` when X carries its rate and channel names, else None."""
    from .datasets._mne import is_epochs

    if is_epochs(X):
        return "mne.Epochs"
    if isinstance(X, Mapping) and "X" in X and ("sfreq" in X or "ch_names" in X):
        return "dataset"
    return None


def _montage_names(value):
    """A ``ch_names`` parameter as a list: a montage name stands for its channels."""
    if value is None:
        return None
    if isinstance(value, str):
        from ._montages import MONTAGES

        return list(MONTAGES[value]["ch_names"]) if value in MONTAGES else None
    return [str(c) for c in value]


def signal_metadata(estimator, X, arg: str = "X"):
    """The windows of X and, for ``mne.Epochs`` or a skemotion dataset, what they carry.

    Returns ``(X, meta)``: X itself and None for any other input; for Epochs the data as
    :func:`skemotion.datasets.from_mne` reads them (stimulus channels left out, in the
    package's units: microvolts for EEG) and for a dataset its ``X``, with
    ``meta = {"sfreq": float or None, "ch_names": list or None, "source": str}``.
    """
    source = _source(X)
    if source is None:
        from .datasets._mne import is_epochs

        if isinstance(X, list | tuple) and len(X) and is_epochs(X[0]):
            # what scikit-learn's indexing makes of Epochs (they have no ``shape``): one
            # Epochs object per epoch
            raise ValueError(
                f"{_name(estimator)}: argument {arg} is a list of {len(X)} mne.Epochs objects "
                "(scikit-learn's cross-validation and splitters index Epochs one epoch at a "
                "time); cross-validate on the windows instead: data = from_mne(epochs), then "
                "X=data.X, y=data.y, groups=data.groups, with sfreq=data.sfreq (and ch_names) "
                "given to the estimators."
            )
        return X, None
    if source == "mne.Epochs":
        from .datasets._mne import epochs_data

        epochs = X if X.preload else X.copy()  # reading may drop epochs: not in the user's
        data, ch_names, _ = epochs_data(epochs, f"{_name(estimator)}: argument {arg}")
        return data, {"sfreq": float(X.info["sfreq"]), "ch_names": ch_names, "source": source}
    sfreq = X.get("sfreq")
    names = X.get("ch_names")
    meta = {
        "sfreq": None if sfreq is None else float(sfreq),
        "ch_names": None if names is None else [str(c) for c in names],
        "source": source,
    }
    return X["X"], meta


def _first_difference(a: list, b: list, what: str = "names") -> str:
    """Where two lists of channel names (or types) first differ, for an error message."""
    if len(a) != len(b):
        return f"{len(a)} {what} against {len(b)}"
    i = next(i for i, (u, v) in enumerate(zip(a, b)) if u != v)
    return f"position {i}: {a[i]!r} against {b[i]!r}"


def _check_metadata(estimator, meta, n_channels: int, *, reset: bool, arg: str) -> None:
    """Check the rate and names X carries against the parameters and against fit."""
    name, source = _name(estimator), meta["source"]
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    sfreq, names = meta["sfreq"], meta["ch_names"]
    if names is not None and len(names) != n_channels:
        raise ValueError(
            f"{name}: argument {arg} ({source}) names {len(names)} channels but its windows "
            f"have {n_channels}."
        )
    given = params.get("sfreq")
    if sfreq is not None and isinstance(given, numbers.Real) and not _close(given, sfreq):
        allows_none = None in getattr(estimator, "_parameter_constraints", {}).get("sfreq", [])
        raise ValueError(
            f"{name}: argument sfreq={given!r} but {arg} ({source}) is sampled at {sfreq:g} Hz; "
            f"set sfreq={sfreq:g}" + (" or sfreq=None to read it from X." if allows_none else ".")
        )
    expected = _montage_names(params.get("ch_names"))
    if names is not None and expected is not None and names != expected:
        raise ValueError(
            f"{name}: the channels of {arg} ({source}) differ from argument ch_names "
            f"({_first_difference(names, expected)}); pick and order the channels of X "
            "(e.g. epochs.pick(ch_names)) or change ch_names."
        )
    if reset:
        return
    fitted = getattr(estimator, "_signal_meta_in", None)
    if fitted is None:
        return
    if sfreq is not None and fitted["sfreq"] is not None and not _close(sfreq, fitted["sfreq"]):
        raise ValueError(
            f"{name}: {arg} ({source}) is sampled at {sfreq:g} Hz but the estimator was fitted "
            f"on data sampled at {fitted['sfreq']:g} Hz."
        )
    if names is not None and fitted["ch_names"] is not None and names != fitted["ch_names"]:
        raise ValueError(
            f"{name}: the channels of {arg} ({source}) differ from those seen in fit "
            f"({_first_difference(names, fitted['ch_names'])}); pick and order them as in fit "
            f"(e.g. epochs.pick({fitted['ch_names']}))."
        )


def _close(a, b) -> bool:
    return abs(float(a) - float(b)) <= 1e-9 * max(abs(float(a)), abs(float(b)))


def fitted_sfreq(estimator) -> float:
    """The estimator's rate: its ``sfreq`` parameter, else the rate of the Epochs or dataset
    it was fitted on (a ``ValueError`` naming the estimator when neither tells it)."""
    if estimator.sfreq is not None:
        return estimator.sfreq
    meta = getattr(estimator, "_signal_meta_in", None)
    if meta is not None and meta["sfreq"] is not None:
        return meta["sfreq"]
    raise ValueError(
        f"{_name(estimator)}: argument sfreq is None and X was an array, which does not carry "
        "its sampling rate: give sfreq= (Hz), or fit on mne.Epochs or a skemotion dataset."
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
    ndims=(3,),
):
    """Validate signal windows and return a float ``(n_windows, n_channels, n_times)`` array.

    The same rules hold in ``fit`` (``reset=True``) and afterwards (``reset=False``): a 2-D X
    is single-channel windows, promoted to ``(n_windows, 1, n_times)``, at fit and at predict
    alike (an estimator fitted on ``(n, 1, T)`` accepts ``(n, T)`` and the reverse); any other
    rank than ``ndims`` gets the same message at fit and at predict.

    Parameters
    ----------
    estimator : estimator instance
        Used for error messages and ``n_features_in_`` (set when ``reset=True``).
    X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
    reset : bool
        True in ``fit`` (records ``n_features_in_`` and the per-window shape), False afterwards
        (checks them, and ``n_channels_`` / ``n_times_`` when the estimator has them).
    dtype : numpy dtype or list of dtypes
        Output dtype. ``np.float32`` by default (what the networks use).
    check_times : bool
        Whether the number of time samples must equal ``n_times_`` after fit.
    min_times : int
        Minimum window length accepted.
    arg : str
        Name of the argument in error messages.
    torch_ok : bool
        If True and X is a torch tensor, it is returned as it is after shape checks.
    ndims : tuple of int
        Accepted ranks after a 2-D X is promoted: ``(3,)`` (default), ``(3, 4)`` or ``(4,)``.

    Returns
    -------
    X : ndarray of shape (n_windows, n_channels, n_times) (or 4-D where accepted)
    """
    if torch_ok and type(X).__module__.startswith("torch"):
        if X.ndim == 2 and 3 in ndims:
            X3 = X.unsqueeze(1)
        elif X.ndim in ndims:
            X3 = X
        else:
            raise ValueError(
                f"{_name(estimator)}: argument {arg} must be {_allowed(ndims)}; got a tensor "
                f"with shape {tuple(X.shape)}."
            )
        if not reset:
            _check_shape_against_fit(estimator, X3, arg, check_times)
        return X3
    X, meta = signal_metadata(estimator, X, arg)
    X_in = X
    arr = _as_array(estimator, X, arg, dtype)
    X3 = _promote(estimator, arr, arg, ndims)
    if any(s < 1 for s in X3.shape[1:]):
        raise ValueError(
            f"{_name(estimator)}: argument {arg} has shape {X3.shape}; every window needs at "
            "least one channel and one time sample."
        )
    if meta is not None:
        _check_metadata(estimator, meta, X3.shape[1], reset=reset, arg=arg)
    if reset and arg == "X":
        # the rate and names of the Epochs or dataset of fit (None for an array)
        estimator._signal_meta_in = (
            None if meta is None else {"sfreq": meta["sfreq"], "ch_names": meta["ch_names"]}
        )
    if reset:
        if arg == "X":
            validate_data(estimator, X_in, reset=True, skip_check_array=True)
            estimator._signal_ndim_in = arr.ndim
            estimator._signal_shape_in = tuple(X3.shape[1:])
    else:
        _check_shape_against_fit(estimator, X3, arg, check_times)
        if arg == "X" and arr.ndim == getattr(estimator, "_signal_ndim_in", arr.ndim):
            # same rank as in fit: sklearn's checks of feature names and n_features_in_
            validate_data(estimator, X_in, reset=False, skip_check_array=True)
    _check_finite_ndim(estimator, X3, arg)
    if X3.ndim == 3 and X3.shape[2] < min_times:
        raise ValueError(
            f"{_name(estimator)}: argument {arg} has windows of {X3.shape[2]} samples; this "
            f"estimator needs at least {min_times} samples per window."
        )
    return X3


def check_signal_X_y(
    estimator, X, y, *, dtype=np.float32, min_times: int = 1, classifier=True, ndims=(3,)
):
    """Validate ``(X, y)`` in ``fit``: X as in :func:`check_signal_X`, y 1-D of same length."""
    if y is None:
        raise ValueError(f"{_name(estimator)} requires y to be passed, but the target y is None.")
    X3 = check_signal_X(estimator, X, reset=True, dtype=dtype, min_times=min_times, ndims=ndims)
    with _named_errors(estimator, "y"):
        y = _check_y(y, estimator=estimator)
        check_consistent_length(X3, y)
    if classifier:
        with _named_errors(estimator, "y"):
            check_classification_targets(y)
    return X3, y


def check_ids(estimator, ids, n: int, arg: str = "groups", what: str = "id") -> np.ndarray:
    """Ids per window (subjects, trials, persons): the one check of every ``groups`` argument.

    Returns ``ids`` as a 1-D array of length ``n``; raises a ``ValueError`` naming the
    estimator and the argument for another shape, complex values, and missing values (None,
    NaN, pandas' NA, infinity), which would otherwise be sorted into a group of their own or
    crash inside numpy with a message that names neither.
    """
    name = _name(estimator)
    try:
        g = np.asarray(ids)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: argument {arg} is not a 1-D array: {exc}") from exc
    if g.shape != (n,):
        raise ValueError(
            f"{name}: argument {arg} must have shape ({n},), one {what} per window; got shape "
            f"{g.shape}."
        )
    if g.dtype.kind == "c":
        raise ValueError(f"{name}: argument {arg}: complex ids are not supported.")
    if g.dtype.kind == "f":
        missing = int(np.count_nonzero(~np.isfinite(g)))
    elif g.dtype == object:
        import pandas as pd

        missing = int(sum(bool(pd.isna(v)) or (isinstance(v, float) and np.isinf(v)) for v in g))
    else:
        missing = 0
    if missing:
        raise ValueError(
            f"{name}: argument {arg} contains missing values (None, NaN or infinity: {missing} "
            f"of {n}); every window needs a {what}."
        )
    return g


def check_finite_array(estimator, a, arg: str, *, ndim=None, shape=None, dtype=np.float64):
    """Any array argument besides X gets the same checks: numeric, finite, expected shape."""
    with _named_errors(estimator, arg):
        a = check_array(
            a,
            dtype=dtype,
            ensure_2d=False,
            allow_nd=True,
            ensure_all_finite=False,
            ensure_min_samples=0,
            input_name=arg,
        )
    if ndim is not None and a.ndim != ndim:
        raise ValueError(
            f"{_name(estimator)}: argument {arg} must be {ndim}-D; got shape {a.shape}."
        )
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(
            f"{_name(estimator)}: argument {arg} must have shape {tuple(shape)}; got {a.shape}."
        )
    _check_finite_ndim(estimator, a, arg)
    return a


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


def num_samples(X) -> int:
    """Number of windows of any array-like X (without converting it)."""
    return _num_samples(X)


def check_input_features(estimator, input_features) -> np.ndarray:
    """``input_features`` of ``get_feature_names_out`` checked the scikit-learn way (against
    ``feature_names_in_`` and ``n_features_in_``); the input names, generated ``x0, x1 ...``
    when None and the estimator saw no column names. Errors name the estimator."""
    with _named_errors(estimator, "input_features"):
        return _check_feature_names_in(estimator, input_features)


# --- renamed parameters, kept for one release ----------------------------------------------
#: default of a renamed parameter's old name: "not set by the user"
DEPRECATED = "deprecated"


def deprecated_constraint(*constraints) -> list:
    """``_parameter_constraints`` entry of a renamed parameter's old name: the values it took,
    or the sentinel ``"deprecated"`` (its default; hidden from error messages)."""
    return [*constraints, Hidden(StrOptions({DEPRECATED}))]


def renamed_parameters(estimator, renames: dict, *, since="0.1", removed="0.2") -> dict:
    """``{new: value}`` for every ``old -> new`` rename of ``renames``.

    The value is the new parameter's, unless the user set the old name: then the old name's
    value is used and a ``FutureWarning`` says which name to use instead; setting both is an
    error.
    """
    name = _name(estimator)
    values = {}
    for old, new in renames.items():
        value = getattr(estimator, old)
        if isinstance(value, str) and value == DEPRECATED:
            values[new] = getattr(estimator, new)
            continue
        default = inspect.signature(type(estimator).__init__).parameters[new].default
        if not _same(getattr(estimator, new), default):
            raise ValueError(
                f"{name}: arguments {old} (deprecated) and {new} are both set; pass only "
                f"{new}={getattr(estimator, new)!r}."
            )
        warnings.warn(
            f"{name}: parameter {old!r} was renamed {new!r} in {since} and will be removed in "
            f"{removed}; pass {new}={value!r} instead.",
            FutureWarning,
            stacklevel=3,
        )
        values[new] = value
    return values


def _same(a, b) -> bool:
    try:
        return bool(np.all(a == b)) and type(a) is type(b)
    except (TypeError, ValueError):
        return a is b
