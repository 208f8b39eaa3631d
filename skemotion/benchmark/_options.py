"""Checks of the benchmark's option values, shared by the command line and the Python API.

Every checker takes the raw value (a string from the command line, or a Python value from
:func:`~skemotion.benchmark.run_benchmark`) and returns the converted value, or raises a
``ValueError`` whose message states the allowed values and the value received. The command line
uses them as argparse ``type=`` functions, so a bad value there is a one-line usage error naming
the option (exit status 2) and the same value passed to the API raises the same message.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "DEVICE_PATTERN",
    "PRECISIONS",
    "check_device",
    "check_int_at_least",
    "check_n_jobs",
    "check_nonnegative_float",
    "check_nonnegative_int",
    "check_positive_float",
    "check_positive_int",
    "split_list",
]

PRECISIONS = ("32", "bf16", "16-mixed")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def _as_int(value, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be {what}; got {value!r}")
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise ValueError(f"must be {what}; got {value!r}") from None
    if isinstance(value, int) or (hasattr(value, "__index__") and not isinstance(value, float)):
        return int(value)
    raise ValueError(f"must be {what}; got {value!r}")


def _as_float(value, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"must be {what}; got {value!r}")
    try:
        out = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"must be {what}; got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"must be {what}; got {value!r}")
    return out


def check_positive_int(value) -> int:
    """An integer >= 1 (epochs, folds, subjects ...)."""
    out = _as_int(value, "an integer >= 1")
    if out < 1:
        raise ValueError(f"must be an integer >= 1; got {value!r}")
    return out


def check_int_at_least(minimum: int):
    """A checker of integers >= ``minimum`` (e.g. 2 subjects, 2 folds)."""

    def check(value) -> int:
        what = f"an integer >= {minimum}"
        out = _as_int(value, what)
        if out < minimum:
            raise ValueError(f"must be {what}; got {value!r}")
        return out

    check.__name__ = f"check_int_at_least_{minimum}"
    return check


def check_nonnegative_int(value) -> int:
    """An integer >= 0 (seeds)."""
    out = _as_int(value, "an integer >= 0")
    if out < 0:
        raise ValueError(f"must be an integer >= 0; got {value!r}")
    return out


def check_positive_float(value) -> float:
    """A finite number > 0 (window length in seconds)."""
    out = _as_float(value, "a number > 0")
    if out <= 0:
        raise ValueError(f"must be a number > 0; got {value!r}")
    return out


def check_nonnegative_float(value) -> float:
    """A finite number >= 0 (synthetic effect size)."""
    out = _as_float(value, "a number >= 0")
    if out < 0:
        raise ValueError(f"must be a number >= 0; got {value!r}")
    return out


def check_n_jobs(value) -> int:
    """joblib's ``n_jobs``: a positive count, or -1 (all workers), -2 (all but one) ..."""
    out = _as_int(value, "a non-zero integer (1 serial, 4 four jobs, -1 all cores)")
    if out == 0:
        raise ValueError(
            f"must be a non-zero integer (1 serial, 4 four jobs, -1 all cores); got {value!r}"
        )
    return out


def check_device(value) -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``; CUDA only where torch sees a device."""
    if not isinstance(value, str) or not DEVICE_PATTERN.match(value.strip()):
        raise ValueError(f"must be one of auto, cpu, cuda, cuda:N; got {value!r}")
    value = value.strip()
    if value.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(
                "asks for CUDA, but torch sees no CUDA device here; use auto or cpu "
                f"(got {value!r})"
            )
        index = int(value.split(":")[1]) if ":" in value else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"only {torch.cuda.device_count()} CUDA device(s) here; got {value!r}")
    return value


def split_list(values) -> list[str]:
    """Items given as separate words, comma-separated, or both (``a b,c`` -> a, b, c)."""
    if isinstance(values, str):
        values = [values]
    out = []
    for v in values:
        out.extend(s.strip() for s in str(v).split(",") if s.strip())
    return out
