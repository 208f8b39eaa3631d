"""The benchmark's options, checked once for the command line and the Python API.

:func:`check_options` is the one validation of the run options (models, protocol, seeds,
alignments, recipe, training and execution settings): :func:`~skemotion.benchmark.run_benchmark`
calls it on its arguments, the command line on its parsed options before any data are loaded,
and what comes after (folds, models, run) trusts the :class:`BenchmarkOptions` it returns. A bad
value raises :class:`OptionError`, which names the option and the value received; the command
line shows it as a one-line usage error (exit status 2).

The scalar checkers convert a raw value (a string from the command line, or a Python value)
and raise ``ValueError("must be ...; got ...")``; the command line also uses them as the
argparse types of its data options. Devices and precisions are those of the training runtime
(:func:`skemotion._training.resolve_device`, :data:`skemotion._training.PRECISIONS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, fields

from .._training import PRECISIONS
from ._store import BenchmarkInputError

__all__ = [
    "PRECISIONS",
    "BenchmarkOptions",
    "OptionError",
    "check_int_at_least",
    "check_n_jobs",
    "check_nonnegative_float",
    "check_nonnegative_int",
    "check_options",
    "check_positive_float",
    "check_positive_int",
    "check_protocol",
    "check_seed",
    "split_list",
]

#: seeds are 32-bit (numpy's and torch's generators)
SEED_LIMIT = 2**32


def _as_int(value, what: str) -> int:
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    elif hasattr(value, "__index__") and not isinstance(value, bool | float):
        return int(value)
    raise ValueError(f"must be {what}; got {value!r}")


def _as_float(value, what: str) -> float:
    out = math.nan
    if not isinstance(value, bool):
        try:
            out = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            pass
    if not math.isfinite(out):
        raise ValueError(f"must be {what}; got {value!r}")
    return out


def _checker(name: str, convert, what: str, accept):
    """A checker: ``convert(value)``, then ``accept(converted)`` or a ``ValueError``."""

    def check(value):
        out = convert(value, what)
        if not accept(out):
            raise ValueError(f"must be {what}; got {value!r}")
        return out

    check.__name__ = check.__qualname__ = name
    check.__doc__ = f"{what[0].upper()}{what[1:]}, or a ``ValueError`` saying so."
    return check


check_positive_int = _checker("check_positive_int", _as_int, "an integer >= 1", lambda v: v >= 1)
check_nonnegative_int = _checker(
    "check_nonnegative_int", _as_int, "an integer >= 0", lambda v: v >= 0
)
check_positive_float = _checker("check_positive_float", _as_float, "a number > 0", lambda v: v > 0)
check_nonnegative_float = _checker(
    "check_nonnegative_float", _as_float, "a number >= 0", lambda v: v >= 0
)
#: joblib's ``n_jobs``: a positive count, or -1 (all workers), -2 (all but one) ...
check_n_jobs = _checker(
    "check_n_jobs",
    _as_int,
    "a non-zero integer (1 serial, 4 four jobs, -1 all cores)",
    lambda v: v != 0,
)
_check_shrinkage = _checker(
    "check_shrinkage", _as_float, "a number in [0, 1)", lambda v: 0 <= v < 1
)


def check_int_at_least(minimum: int):
    """A checker of integers >= ``minimum`` (e.g. 2 subjects, 2 folds)."""
    what = f"an integer >= {minimum}"
    return _checker(f"check_int_at_least_{minimum}", _as_int, what, lambda v: v >= minimum)


def check_seed(value) -> int:
    """A seed: an integer >= 0 and below 2**32."""
    out = check_nonnegative_int(value)
    if out >= SEED_LIMIT:
        raise ValueError(f"must be below 2**32 = {SEED_LIMIT}; got {value!r}")
    return out


def split_list(values) -> list:
    """Items given as separate words, comma-separated, or both (``a b,c`` -> a, b, c).

    Strings are split at commas; other items (numbers) are kept as they are.
    """
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = [values]
    out = []
    for v in values:
        if isinstance(v, str):
            out.extend(s.strip() for s in v.split(",") if s.strip())
        else:
            out.append(v)
    return out


class OptionError(BenchmarkInputError):
    """A run option the benchmark cannot run with.

    Parameters
    ----------
    option : str
        The option (``run_benchmark``'s argument; ``--option`` on the command line).
    clause : str
        What is wrong, starting with the option's name: ``"epochs must be an integer >= 1;
        got 0"``.
    func : str, default="run_benchmark"
        The function that was called.

    Examples
    --------
    >>> from skemotion.benchmark._options import check_options
    >>> try:
    ...     check_options(epochs=0)
    ... except OptionError as exc:
    ...     print(exc.option, "|", exc)
    epochs | run_benchmark: argument epochs must be an integer >= 1; got 0.
    """

    def __init__(self, option: str, clause: str, func: str = "run_benchmark"):
        super().__init__(f"{func}: argument {clause}.")
        self.option, self.clause = option, clause


@contextmanager
def _naming(option: str, func: str):
    """Turn a checker's ``ValueError`` into an :class:`OptionError` naming ``option``."""
    try:
        yield
    except OptionError:
        raise
    except ValueError as exc:
        text = str(exc)
        clause = text if text.startswith(option) else f"{option} {text}"
        raise OptionError(option, clause, func) from None


def _one_of(value, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _optional(check, value):
    return None if value is None else check(value)


def check_protocol(protocol, n_splits=None, *, func: str = "make_folds") -> tuple:
    """``(protocol, n_splits)`` checked: a known protocol, and ``n_splits`` (>= 2) only where
    the protocol has a number of folds; raises :class:`OptionError`."""
    from ._protocols import PROTOCOLS

    with _naming("protocol", func):
        _one_of(protocol, PROTOCOLS)
    with _naming("n_splits", func):
        if n_splits is not None and protocol in ("loso", "cross-dataset"):
            raise ValueError(f"does not apply to protocol {protocol!r}")
        n_splits = _optional(check_int_at_least(2), n_splits)
    return protocol, n_splits


def _check_models(value) -> tuple:
    from ._registry import resolve_models

    names = None if value is None else split_list(value)
    if names is not None and ("none" in names and len(names) > 1 or not names):
        raise ValueError(
            f"must be registered models, or none alone (the baselines only); got {names}"
        )
    try:
        return tuple(resolve_models(names))
    except ValueError as exc:
        raise ValueError(f"must be registered: {exc}") from None


def _distinct(value, check) -> tuple:
    items = [check(v) for v in split_list(value)]
    if not items or len(set(items)) != len(items):
        raise ValueError(f"must be distinct, at least one; got {items}")
    return tuple(items)


def _alignment(value):
    from ._models import ALIGNMENTS

    return _one_of(value, list(ALIGNMENTS))


def _from_training(check, *args):
    """Call a check of :mod:`skemotion._training`; its message names the option."""
    try:
        return check(None, *args)
    except ValueError as exc:  # "<owner>: argument <option> ...": keep from the option on
        raise ValueError(str(exc).split(": argument ", 1)[-1].rstrip(".")) from None


def _check_device(value) -> tuple[str, str]:
    """The device as requested (recorded) and as it runs (``auto`` resolved)."""
    from .._training import resolve_device

    if not isinstance(value, str):
        raise ValueError(f"must be a string, 'auto', 'cpu', 'cuda' or 'cuda:N'; got {value!r}")
    value = value.strip()
    return value, _from_training(resolve_device, value)


def _check_precision(value, device: str, run_device: str) -> str:
    from .._training import check_precision

    _one_of(value, PRECISIONS)
    if value == "16-mixed" and run_device == "cpu":
        raise ValueError(
            f"precision='16-mixed' needs a CUDA device (device={device!r}); use bf16 or 32 on CPU"
        )
    _from_training(check_precision, value, run_device)  # bf16 on a CUDA device without it
    return value


@dataclass(frozen=True)
class BenchmarkOptions:
    """The run options of a benchmark, checked (what :func:`check_options` returns).

    Parameters
    ----------
    models : tuple of str
        The baselines, then the selected models (registry names).
    protocol : str
    n_splits : int or None
    seeds : tuple of int
    align : tuple of str
    recipe : str
    shrinkage : float
    epochs : int or None
    device : str
        As requested (``auto``, ``cpu``, ``cuda``, ``cuda:N``): part of the configuration.
    precision : str
    n_jobs : int
    max_folds : int or None
    run_device : str
        Where the deep models run: ``device`` with ``auto`` resolved.
    """

    models: tuple
    protocol: str
    n_splits: int | None
    seeds: tuple
    align: tuple
    recipe: str
    shrinkage: float
    epochs: int | None
    device: str
    precision: str
    n_jobs: int
    max_folds: int | None
    run_device: str

    def kwargs(self) -> dict:
        """The options as keyword arguments of :func:`~skemotion.benchmark.run_benchmark`."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in DEFAULTS}


#: the run options and their defaults (those of ``run_benchmark``)
DEFAULTS = {"models": None, "protocol": "loso", "n_splits": None, "seeds": (0,),
            "align": ("none",), "recipe": "default", "shrinkage": 0.0, "epochs": None,
            "device": "auto", "precision": "32", "n_jobs": 1, "max_folds": None}  # fmt: skip


def check_options(*, func: str = "run_benchmark", **options) -> BenchmarkOptions:
    """Check the run options of a benchmark; the defaults fill what is not given.

    Parameters
    ----------
    func : str, default="run_benchmark"
        Named in the error messages.
    **options
        Any of the keys of :data:`DEFAULTS` (``run_benchmark``'s arguments), as Python values
        or as the strings of the command line; lists may be comma-separated strings.

    Returns
    -------
    options : BenchmarkOptions

    Raises
    ------
    OptionError
        Naming the first bad option and the value received.

    Examples
    --------
    >>> from skemotion.benchmark._options import check_options
    >>> opts = check_options(models=["none"], seeds="0,1", device="cpu")
    >>> opts.models, opts.seeds, opts.run_device
    (('majority', 'de_lr'), (0, 1), 'cpu')
    """
    from ._registry import RECIPES

    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"{func}: unknown option(s) {', '.join(unknown)}.")
    raw = {**DEFAULTS, **options}
    out = {}
    out["protocol"], out["n_splits"] = check_protocol(raw["protocol"], raw["n_splits"], func=func)
    for name, check in (
        ("models", _check_models),
        ("seeds", lambda v: _distinct(v, check_seed)),
        ("align", lambda v: _distinct(v, _alignment)),
        ("recipe", lambda v: _one_of(v, RECIPES)),
        ("shrinkage", _check_shrinkage),
        ("epochs", lambda v: _optional(check_positive_int, v)),
        ("device", _check_device),
        ("precision", lambda v: _check_precision(v, *out["device"])),
        ("n_jobs", check_n_jobs),
        ("max_folds", lambda v: _optional(check_positive_int, v)),
    ):
        with _naming(name, func):
            out[name] = check(raw[name])
    out["device"], out["run_device"] = out["device"]
    return BenchmarkOptions(**out)
