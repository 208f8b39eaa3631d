"""Cross-dataset harmonisation: one sampling rate, one channel set, one Bunch."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy.signal import resample_poly
from sklearn.utils import Bunch

from .._montages import check_unique_channels
from .._validation import check_ids, check_sfreq
from ._base import make_dataset_bunch

__all__ = ["harmonize"]

_FUNC = "harmonize"
_CHUNK_ELEMENTS = 1 << 24  # windows are resampled in chunks of about 64 MB of float32


def harmonize(
    bunches,
    *,
    sfreq: float = 128.0,
    channels="union",
    length: str = "equal",
    target_names=None,
):
    """Concatenate EEG datasets of different rates and montages into one dataset Bunch.

    Every dataset is resampled to ``sfreq`` and its channels are placed, by name, into one
    common channel list; a channel a dataset does not have is filled with zeros and marked
    False in ``channel_mask``. The result has the layout of every loader's Bunch, so it feeds
    the classifiers and ``LeaveOneGroupOut`` directly (see Examples).

    Rules:

    - **Resampling**: polyphase (:func:`scipy.signal.resample_poly`, its default Kaiser
      anti-aliasing filter) along the time axis of all windows at once (in chunks of windows),
      by the exact ratio ``sfreq / bunch.sfreq`` written as ``up / down`` with ``down <=
      1000``. Windows are resampled one by one, so the filter sees zeros beyond each window's
      edges: the first and last few samples (about ``10 * max(up, down) / up`` at the new rate)
      are slightly attenuated. Load the data at the target rate to avoid it.
    - **Window length**: windows of all datasets must have the same length after resampling
      (``length="equal"``, the default; e.g. all loaded with the same ``window_seconds``),
      else a ValueError gives each dataset's window duration. ``length="shortest"`` instead
      keeps the first samples of every window, up to the shortest length (the start times in
      ``frame`` stay valid).
    - **Channels** are matched by name, ignoring case (``"Fp1"`` of DEAP is ``"FP1"`` of
      SEED); no aliasing of old 10-20 names (T3/T7, T5/P7, ...). ``"union"`` keeps every
      channel of any dataset, ordered as in the dataset with the most channels, then the
      others' extra channels in their order; ``"intersection"`` keeps the channels present in
      every dataset, in the same order; a list keeps exactly those channels, in that order.
    - **Groups and trials** are renumbered so that they stay unique across datasets: one
      ``groups`` code per (dataset, subject) and one ``trials`` code per (dataset, trial), in
      order of appearance. ``frame`` keeps each dataset's own columns (``subject`` is the
      subject id within its dataset; label columns a dataset lacks are NaN) and gains a first
      column ``dataset``: ``LeaveOneGroupOut`` with ``groups=frame["dataset"]`` leaves a
      whole dataset out.
    - **Labels** ``y`` are concatenated as they are: the datasets must use the same codes for
      the same classes (e.g. binary labels from every loader). With different
      ``target_names`` pass the common names in ``target_names``. For SEED-IV binary labels
      use ``load_seed_iv(..., target="binary")``, which maps neutral, sad and fear to 0 and
      happy to 1 (the GRU-XNet public code puts sad in the positive class, a mistake this
      library does not reproduce).

    Parameters
    ----------
    bunches : mapping of str to Bunch, or sequence of Bunch
        Datasets as returned by the loaders or generators of :mod:`skemotion.datasets`
        (``X``, ``y``, ``groups``, ``trials``, ``sfreq``, ``ch_names``, ``target_names``,
        ``frame``). Mapping keys name the datasets in ``frame["dataset"]``; a sequence gets the
        names ``"dataset0"``, ``"dataset1"``, ... They are not modified.
    sfreq : float, default=128.0
        Target sampling rate in Hz (128 Hz: the rate of DEAP, GAMEEMO, DREAMER and AMIGOS).
    channels : {"union", "intersection"} or list of str, default="union"
        Common channel set (see the rules above).
    length : {"equal", "shortest"}, default="equal"
        What to do with windows of different lengths after resampling.
    target_names : list of str or None, default=None
        Class names of the result. None requires every dataset to have the same
        ``target_names``.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X`` float32 (n_windows, n_channels, n_times), the datasets in the given order;
        ``y``; ``groups`` and ``trials`` (int codes unique across datasets); ``sfreq``;
        ``ch_names``; ``target_names``; ``frame`` (column ``dataset`` first);
        ``channel_mask`` bool (n_windows, n_channels), False where a window's dataset lacks
        the channel (X is zero there); ``datasets``, the dataset names; ``DESCR``.

    Examples
    --------
    >>> from sklearn.model_selection import LeaveOneGroupOut
    >>> from skemotion.datasets import harmonize, make_eeg_emotion
    >>> seed = make_eeg_emotion("seed62", n_subjects=2, n_classes=2, random_state=0)
    >>> deap = make_eeg_emotion("deap32", n_subjects=2, n_classes=2, random_state=1)
    >>> data = harmonize({"seed": seed, "deap": deap}, sfreq=128)
    >>> data.X.shape, len(data.ch_names), int(data.channel_mask[-1].sum())
    ((160, 62, 256), 62, 32)
    >>> int(data.groups.max()) + 1, LeaveOneGroupOut().get_n_splits(groups=data.frame.dataset)
    (4, 2)
    """
    names, items = _check_bunches(bunches)
    sfreq = check_sfreq(_FUNC, sfreq)
    if not (isinstance(length, str) and length in ("equal", "shortest")):
        raise ValueError(f"{_FUNC}: argument length must be 'equal' or 'shortest'; got {length!r}.")
    ch_names = _common_channels(items, names, channels)
    keys = [c.upper() for c in ch_names]
    target_names = _common_target_names(items, names, target_names)
    _check_label_kinds(items, names)
    _check_labels_in_targets(items, names, target_names)

    ratios = [_ratio(b.sfreq, sfreq, name) for b, name in zip(items, names)]
    n_out = [_resampled_length(b.X.shape[-1], up, down) for b, (up, down) in zip(items, ratios)]
    if len(set(n_out)) > 1 and length == "equal":
        desc = ", ".join(
            f"{name}: {b.X.shape[-1]} samples at {b.sfreq:g} Hz ({b.X.shape[-1] / b.sfreq:g} s)"
            for b, name in zip(items, names)
        )
        raise ValueError(
            f"{_FUNC}: the windows have different lengths at {sfreq:g} Hz ({n_out} samples; "
            f"{desc}). Load every dataset with the same window_seconds, or pass "
            "length='shortest' to keep the first samples of every window."
        )
    n_times = min(n_out)

    n_total = sum(b.X.shape[0] for b in items)
    X = np.zeros((n_total, len(ch_names), n_times), dtype=np.float32)
    mask = np.zeros((n_total, len(ch_names)), dtype=bool)
    y_parts, group_parts, trial_parts, frames = [], [], [], []
    pos = group_base = trial_base = 0
    for name, b, (up, down) in zip(names, items, ratios):
        src_keys = [c.upper() for c in b.ch_names]
        src_index = {k: i for i, k in enumerate(src_keys)}
        dst = np.array([j for j, k in enumerate(keys) if k in src_index], dtype=np.intp)
        src = np.array([src_index[keys[j]] for j in dst], dtype=np.intp)
        n = b.X.shape[0]
        if dst.size:
            _resample_into(X[pos : pos + n], b.X, src, dst, up, down, n_times)
        inner = b.get("channel_mask")  # a harmonize() output: its absent channels stay absent
        mask[pos : pos + n, dst] = True if inner is None else np.asarray(inner, bool)[:, src]
        y_parts.append(np.asarray(b.y))
        g_codes, g_uniques = pd.factorize(np.asarray(b.groups))
        t_codes, t_uniques = pd.factorize(np.asarray(b.trials))
        group_parts.append(g_codes.astype(np.int64) + group_base)
        trial_parts.append(t_codes.astype(np.int64) + trial_base)
        group_base += len(g_uniques)
        trial_base += len(t_uniques)
        frame = b.frame.reset_index(drop=True).copy()
        if "dataset" in frame.columns:  # harmonising a harmonize() output: "outer/inner"
            frame["dataset"] = name + "/" + frame["dataset"].astype(str)
        else:
            frame.insert(0, "dataset", name)
        frames.append(frame)
        pos += n

    frame = pd.concat(frames, ignore_index=True, sort=False)
    desc = "; ".join(
        f"{name}: {b.X.shape[0]} windows, {len(b.ch_names)} channels at {b.sfreq:g} Hz"
        for name, b in zip(names, items)
    )
    return make_dataset_bunch(
        X=X,
        y=np.concatenate(y_parts),
        groups=np.concatenate(group_parts),
        trials=np.concatenate(trial_parts),
        sfreq=sfreq,
        ch_names=ch_names,
        target_names=target_names,
        frame=frame,
        description=f"Harmonised to {sfreq:g} Hz and {len(ch_names)} channels "
        f"({channels if isinstance(channels, str) else 'given list'}) from {desc}.",
        channel_mask=mask,
        datasets=list(names),
    )


# --------------------------------------------------------------------------- helpers


def _check_bunches(bunches):
    if isinstance(bunches, Mapping):
        names = list(bunches.keys())
        items = list(bunches.values())
        if not all(isinstance(k, str) for k in names):
            raise ValueError(
                f"{_FUNC}: the keys of argument bunches must be dataset names (str); got {names!r}."
            )
    elif isinstance(bunches, Sequence) and not isinstance(bunches, str | bytes):
        items = list(bunches)
        names = [f"dataset{i}" for i in range(len(items))]
    else:
        raise TypeError(
            f"{_FUNC}: argument bunches must be a dict name -> Bunch or a list of Bunch; got "
            f"{type(bunches).__name__}."
        )
    if not items:
        raise ValueError(f"{_FUNC}: argument bunches is empty; pass at least one dataset.")
    required = ("X", "y", "groups", "trials", "sfreq", "ch_names", "target_names", "frame")
    for name, b in zip(names, items):
        missing = [k for k in required if not (isinstance(b, Mapping) and k in b)]
        if missing:
            raise ValueError(
                f"{_FUNC}: dataset {name!r} of argument bunches lacks {missing}; expected the "
                "Bunch of a skemotion loader."
            )
        X = b["X"]
        if not isinstance(X, np.ndarray) or X.ndim != 3:
            raise ValueError(
                f"{_FUNC}: X of dataset {name!r} must be an ndarray of shape (n_windows, "
                f"n_channels, n_times); got {getattr(X, 'shape', type(X).__name__)}."
            )
        if X.shape[1] != len(b["ch_names"]):
            raise ValueError(
                f"{_FUNC}: dataset {name!r} has {X.shape[1]} channels in X but "
                f"{len(b['ch_names'])} ch_names."
            )
        n = X.shape[0]
        for key, what in (("groups", "subject"), ("trials", "trial")):
            check_ids(_FUNC, b[key], n, arg=f"{key} of dataset {name!r}", what=what)
        for key in ("y", "groups", "trials"):
            if np.shape(b[key]) != (n,):
                raise ValueError(
                    f"{_FUNC}: {key} of dataset {name!r} must have shape ({n},); got "
                    f"{np.shape(b[key])}."
                )
        if len(b["frame"]) != n:
            raise ValueError(
                f"{_FUNC}: frame of dataset {name!r} must have {n} rows; got {len(b['frame'])}."
            )
        check_unique_channels(b["ch_names"], _FUNC, arg=f"datasets[{name!r}].ch_names")
        if not (
            isinstance(b["sfreq"], numbers.Real) and np.isfinite(b["sfreq"]) and b["sfreq"] > 0
        ):
            raise ValueError(
                f"{_FUNC}: sfreq of dataset {name!r} must be a positive number; got {b['sfreq']!r}."
            )
    return names, [Bunch(**b) for b in items]


def _common_channels(items, names, channels) -> list[str]:
    if isinstance(channels, str):
        if channels not in ("union", "intersection"):
            raise ValueError(
                f"{_FUNC}: argument channels must be 'union', 'intersection' or a list of "
                f"channel names; got {channels!r}."
            )
        # the dataset with the most channels gives the order (the first of equals)
        order = sorted(range(len(items)), key=lambda i: -len(items[i].ch_names))
        out, seen = [], set()
        for i in order:
            for c in items[i].ch_names:
                if str(c).upper() not in seen:
                    seen.add(str(c).upper())
                    out.append(str(c))
        if channels == "intersection":
            sets = [{str(c).upper() for c in b.ch_names} for b in items]
            out = [c for c in out if all(c.upper() in s for s in sets)]
            if not out:
                raise ValueError(
                    f"{_FUNC}: the datasets {names} have no channel in common; use "
                    "channels='union' or a list of names."
                )
        return out
    if (
        isinstance(channels, Sequence)
        and len(channels) > 0
        and all(isinstance(c, str) for c in channels)
    ):
        keys = [c.upper() for c in channels]
        if len(set(keys)) != len(keys):
            raise ValueError(
                f"{_FUNC}: argument channels names a channel twice (ignoring case); got "
                f"{list(channels)!r}."
            )
        known = {str(c).upper() for b in items for c in b.ch_names}
        unknown = [c for c in channels if c.upper() not in known]
        if unknown:
            raise ValueError(
                f"{_FUNC}: argument channels holds {unknown}, found in none of the datasets "
                f"{names}."
            )
        return list(channels)
    raise ValueError(
        f"{_FUNC}: argument channels must be 'union', 'intersection' or a non-empty list of "
        f"channel names; got {channels!r}."
    )


def _common_target_names(items, names, target_names) -> list[str]:
    if target_names is not None:
        if (
            isinstance(target_names, str)
            or not isinstance(target_names, Sequence)
            or not all(isinstance(t, str) for t in target_names)
        ):
            raise ValueError(
                f"{_FUNC}: argument target_names must be a list of str or None; got "
                f"{target_names!r}."
            )
        return list(target_names)
    first = list(items[0].target_names)
    if all(list(b.target_names) == first for b in items[1:]):
        return first
    desc = ", ".join(f"{n}: {list(b.target_names)}" for n, b in zip(names, items))
    raise ValueError(
        f"{_FUNC}: the datasets have different target_names ({desc}); check that their label "
        "codes mean the same classes and pass the common names as target_names=[...]."
    )


def _check_labels_in_targets(items, names, target_names) -> None:
    """Integer labels are codes into target_names; string labels are target names."""
    k = len(target_names)
    for name, b in zip(names, items):
        y = np.asarray(b.y)
        if y.dtype.kind in "iub":
            bad = np.unique(y[(y < 0) | (y >= k)]).tolist()
        elif y.dtype.kind in "OUS":
            bad = sorted({str(v) for v in y} - set(target_names))
        else:  # continuous ratings (no threshold): nothing to check against
            continue
        if bad:
            raise ValueError(
                f"{_FUNC}: dataset {name!r} has labels {bad[:5]} outside target_names "
                f"{list(target_names)} (integer labels are the codes 0 to {k - 1})."
            )


def _check_label_kinds(items, names) -> None:
    kinds = {name: np.asarray(b.y).dtype.kind in "biuf" for name, b in zip(names, items)}
    if len(set(kinds.values())) > 1:
        raise ValueError(
            f"{_FUNC}: some datasets have numeric labels and others not ({kinds}); encode them "
            "the same way before harmonising."
        )


def _ratio(src: float, dst: float, name: str) -> tuple[int, int]:
    frac = Fraction(dst / src).limit_denominator(1000)
    if abs(float(frac) - dst / src) > 1e-9 * dst / src:
        raise ValueError(
            f"{_FUNC}: cannot resample dataset {name!r} from {src:g} Hz to {dst:g} Hz by a "
            "ratio up/down with down <= 1000; choose another sfreq."
        )
    return frac.numerator, frac.denominator


def _resampled_length(n: int, up: int, down: int) -> int:
    return int(math.ceil(n * up / down))


def _resample_into(out, X, src, dst, up, down, n_times) -> None:
    """Write ``resample(X[:, src])`` cropped to ``n_times`` into ``out[:, dst]``, by chunks."""
    n, _, t = X.shape
    step = max(1, _CHUNK_ELEMENTS // max(1, src.size * max(t, n_times)))
    for a in range(0, n, step):
        part = X[a : a + step][:, src]  # fancy indexing copies: X is never modified
        if up != down:
            part = resample_poly(part, up, down, axis=-1)
        out[a : a + step, dst] = part[..., :n_times]
