"""Renamed constructor arguments of the networks, accepted under their old name for one release."""

from __future__ import annotations

import warnings


def renamed_argument(owner: str, old: str, new: str, old_value, new_value):
    """The value of argument ``new``, taken from its old name ``old`` when only that is given.

    None means "not passed" for both. Passing the old name warns with a ``FutureWarning``
    (renamed in 0.1, removed in 0.2); passing both names is a ``TypeError``.
    """
    if old_value is None:
        return new_value
    if new_value is not None:
        raise TypeError(f"{owner}: pass {new} only; {old} is its deprecated old name.")
    warnings.warn(
        f"{owner}: argument {old!r} was renamed {new!r} in 0.1 and will be removed in 0.2; "
        f"pass {new}={old_value!r} instead.",
        FutureWarning,
        stacklevel=3,
    )
    return old_value


def check_required(owner: str, **arguments) -> None:
    """``TypeError`` for required arguments left None (they became optional only so that
    their old names can still be passed by keyword)."""
    missing = [name for name, value in arguments.items() if value is None]
    if missing:
        raise TypeError(f"{owner}() missing required argument(s): {', '.join(missing)}")
