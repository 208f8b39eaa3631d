"""MNE-Python in and out: a dataset Bunch from ``mne.Epochs`` and back.

MNE is an optional dependency (``pip install "skemotion[mne]"``): it is imported inside the
functions only, so ``import skemotion.datasets`` works without it.

Units. MNE keeps SI units (volts for EEG, EOG, ECG, EMG). The package's arrays keep the units
of their source: the synthetic EEG is in microvolts and the synthetic ECG in millivolts, and
the loaders return the values of the dataset's files. Both conversions use one table of the
package's units per channel type (:data:`DEFAULT_UNITS`: microvolts for EEG and EOG,
millivolts for ECG and EMG, other types unscaled), so ``to_mne`` hands MNE volts and
``from_mne`` returns the package's units; ``units=`` overrides the table. Scaling by a power
of ten and back restores every float32 value bit for bit (the float64 round-off is far below
half a float32 step), so ``from_mne(to_mne(data))`` gives back ``data.X`` exactly.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ._base import make_dataset_bunch

__all__ = ["DEFAULT_UNITS", "from_mne", "mne_output", "to_mne"]

#: Unit of the package's arrays per MNE channel type (types not listed are not scaled).
DEFAULT_UNITS = {
    "eeg": "uV",
    "eog": "uV",
    "ecog": "uV",
    "seeg": "uV",
    "dbs": "uV",
    "ecg": "mV",
    "emg": "mV",
}
#: Factor from MNE's volts to each unit (exact powers of ten).
_PER_VOLT = {"V": 1.0, "mV": 1e3, "uV": 1e6, "µV": 1e6, "μV": 1e6, "nV": 1e9}
#: Columns of the metadata ``to_mne`` writes and ``from_mne`` reads by default.
_GROUPS_COLUMN = "subject"
_TRIALS_COLUMN = "trial_id"
_TARGET_COLUMN = "target"
_INSTALL = 'pip install "skemotion[mne]"'


def _import_mne(where: str):
    try:
        import mne
    except ImportError as exc:
        raise ImportError(
            f"{where} needs MNE-Python, an optional dependency of skemotion: {_INSTALL}"
        ) from exc
    return mne


def mne_output(return_mne, where: str) -> Callable:
    """Check a loader's ``return_mne`` argument; return the step that ends the loader.

    Called first thing in a loader (so that a missing MNE is reported before anything is
    read): returns :func:`to_mne` when ``return_mne`` is true, the identity otherwise.
    """
    if not isinstance(return_mne, bool | np.bool_):
        raise ValueError(f"{where}: argument return_mne must be a bool; got {return_mne!r}.")
    if not return_mne:
        return lambda data: data
    _import_mne(f"{where}(return_mne=True)")
    return to_mne


def _scales(ch_types, units, where: str) -> np.ndarray:
    """Package units per MNE unit of each channel: ``X_package = data_mne * scale``."""
    if units is None:
        table: Mapping = DEFAULT_UNITS
    elif isinstance(units, Mapping):
        table = {**DEFAULT_UNITS, **units}
    elif isinstance(units, str | numbers.Real) and not isinstance(units, bool):
        table = dict.fromkeys(set(ch_types), units)
    else:
        raise TypeError(
            f"{where}: argument units must be None, a unit ({sorted(_PER_VOLT)} or a number) "
            f"or a dict {{channel type: unit}}; got {units!r}."
        )
    scales = []
    for kind in ch_types:
        unit = table.get(kind, 1.0)
        if isinstance(unit, str) and unit in _PER_VOLT:
            scales.append(_PER_VOLT[unit])
        elif (
            isinstance(unit, numbers.Real)
            and not isinstance(unit, bool)
            and np.isfinite(unit)
            and unit > 0
        ):
            scales.append(1.0 / float(unit))
        else:
            raise ValueError(
                f"{where}: argument units gives {unit!r} for the {kind!r} channels; expected "
                f"one of {sorted(_PER_VOLT)} or a positive number (the size of one unit of the "
                "dataset in MNE's unit, e.g. 1e-6 for microvolts)."
            )
    return np.array(scales, dtype=np.float64)


# --------------------------------------------------------------------------- to_mne


def to_mne(dataset, *, montage="auto", units=None):
    """Convert a dataset Bunch to ``mne.EpochsArray``, one epoch per window.

    Requires MNE-Python (``pip install "skemotion[mne]"``).

    Parameters
    ----------
    dataset : sklearn.utils.Bunch or dict
        A dataset as the loaders and generators return it: ``X`` (n_windows, n_channels,
        n_times), ``y``, ``sfreq``, ``ch_names`` and, when present, ``groups``, ``trials``,
        ``target_names``, ``ch_types``, ``frame`` and ``DESCR``. Other entries are not carried.
    montage : "auto", str, mne.channels.DigMontage or None, default="auto"
        Electrode positions. ``"auto"``: the standard 10-05 template (MNE's
        ``"colin27_1005"``, called ``"standard_1005"`` before MNE 1.13), set on the EEG
        channels whose names it has (case-insensitive); EEG channels it lacks (SEED's CB1 and
        CB2, non-standard names) keep no position, silently. A name of MNE's built-in montages
        or a ``DigMontage`` is set the same way, with a warning for the EEG channels it
        lacks. None: no positions.
    units : None, str, float or dict, default=None
        Unit of ``X``, converted to MNE's volts. None: the package's units per channel type
        (``DEFAULT_UNITS``: ``"uV"`` for EEG and EOG, ``"mV"`` for ECG and EMG, other types
        unscaled). A unit (``"V"``, ``"mV"``, ``"uV"``, ``"nV"``, or a number: the size of
        one unit of ``X`` in volts) applies to every channel; a dict ``{channel type: unit}``
        replaces the table's entries for the types it names. Pass the same ``units`` to
        :func:`from_mne` to get ``X`` back.

    Returns
    -------
    epochs : mne.EpochsArray
        Data in float64 (volts for the voltage channels), channel types from ``ch_types``
        (EEG when the dataset has none), ``tmin=0`` and no baseline correction. Events: the
        windows laid end to end (sample ``i * n_times``); when ``y`` holds class codes
        (integers indexing ``target_names``), event ``code + 1`` is named by
        ``target_names[code]`` (``event_id``), otherwise (ratings, other labels) every window
        is event ``"window"`` and ``y`` is the metadata column ``target``. Metadata: the
        ``frame`` with ``subject`` set to ``groups`` and ``trial_id`` to ``trials`` (the
        columns :func:`from_mne` reads by default; a frame column of one of these names
        holding other values is kept as ``frame_<name>``). ``DESCR`` becomes
        ``info["description"]``.

    See Also
    --------
    from_mne : The inverse conversion.

    Examples
    --------
    >>> from skemotion.datasets import make_ecg_emotion, to_mne
    >>> data = make_ecg_emotion(n_subjects=2, random_state=0)
    >>> epochs = to_mne(data)
    >>> epochs.get_channel_types(), epochs.event_id
    (['ecg'], {'low_arousal': 1, 'high_arousal': 2})
    """
    where = "to_mne"
    mne = _import_mne(where)
    if not isinstance(dataset, Mapping):
        raise TypeError(
            f"{where}: argument dataset must be a dataset Bunch (X, y, sfreq, ch_names ...); "
            f"got {type(dataset).__name__}."
        )
    missing = [k for k in ("X", "y", "sfreq", "ch_names") if k not in dataset]
    if missing:
        raise ValueError(
            f"{where}: argument dataset lacks {missing}; it has {sorted(map(str, dataset))}."
        )
    X = np.asarray(dataset["X"])
    if X.ndim != 3 or not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise ValueError(
            f"{where}: dataset X must be a real array of shape (n_windows, n_channels, "
            f"n_times); got {X.dtype} of shape {X.shape}."
        )
    n, n_ch, n_times = X.shape
    if n == 0:
        raise ValueError(f"{where}: dataset X holds no window.")
    ch_names = [str(c) for c in dataset["ch_names"]]
    if len(ch_names) != n_ch:
        raise ValueError(f"{where}: dataset has {len(ch_names)} ch_names for {n_ch} channels in X.")
    ch_types = dataset.get("ch_types")
    ch_types = ["eeg"] * n_ch if ch_types is None else [str(t) for t in ch_types]
    if len(ch_types) != n_ch:
        raise ValueError(f"{where}: dataset has {len(ch_types)} ch_types for {n_ch} channels.")
    ids = {}
    for key in ("y", "groups", "trials"):
        default = np.zeros(n, dtype=np.int64) if key == "groups" else np.arange(n)
        ids[key] = np.asarray(dataset.get(key, default))
        if ids[key].shape != (n,):
            raise ValueError(
                f"{where}: dataset {key} must have shape ({n},); got {ids[key].shape}."
            )
    scale = _scales(ch_types, units, where)
    data = X.astype(np.float64)  # a new array: MNE keeps (and may change) the one it is given
    if np.any(scale != 1.0):
        data /= scale[:, None]

    try:
        info = mne.create_info(ch_names, float(dataset["sfreq"]), ch_types)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{where}: MNE refuses the dataset's ch_names, ch_types or sfreq: {exc}"
        ) from exc
    description = dataset.get("DESCR")
    if isinstance(description, str) and description:
        info["description"] = description

    target_names = [str(t) for t in dataset.get("target_names", [])]
    y = ids["y"]
    codes_ok = (
        np.issubdtype(y.dtype, np.integer)
        and len(set(target_names)) == len(target_names) > 0
        and y.min() >= 0
        and y.max() < len(target_names)
    )
    events = np.zeros((n, 3), dtype=np.int64)
    events[:, 0] = np.arange(n) * n_times
    columns = {_GROUPS_COLUMN: ids["groups"], _TRIALS_COLUMN: ids["trials"]}
    if codes_ok:
        events[:, 2] = y + 1
        event_id = {name: k + 1 for k, name in enumerate(target_names)}
    else:
        events[:, 2] = 1
        event_id = {"window": 1}
        columns[_TARGET_COLUMN] = y
    metadata = _metadata(dataset.get("frame"), columns, n)
    epochs = mne.EpochsArray(
        data,
        info,
        events=events,
        tmin=0.0,
        event_id=event_id,
        metadata=metadata,
        baseline=None,
        on_missing="ignore",  # a class without windows in this selection keeps its name
        verbose=False,
    )
    _set_montage(mne, epochs, montage, where)
    return epochs


def _metadata(frame, columns: dict, n: int) -> pd.DataFrame:
    """The frame (copied) with ``columns`` set; a frame column of one of their names holding
    other values is kept as ``frame_<name>``."""
    if frame is None:
        metadata = pd.DataFrame(index=pd.RangeIndex(n))
    else:
        metadata = pd.DataFrame(frame).reset_index(drop=True).copy()
        if len(metadata) != n:
            raise ValueError(f"to_mne: dataset frame has {len(metadata)} rows for {n} windows.")
    for column, values in columns.items():
        if column in metadata.columns and not np.array_equal(metadata[column].to_numpy(), values):
            metadata = metadata.rename(columns={column: f"frame_{column}"})
        metadata[column] = values
    return metadata


def _set_montage(mne, epochs, montage, where: str) -> None:
    if montage is None:
        return
    on_missing = "warn"
    if isinstance(montage, str) and montage == "auto":
        builtin = mne.channels.get_builtin_montages()
        montage = "colin27_1005" if "colin27_1005" in builtin else "standard_1005"
        on_missing = "ignore"
    if isinstance(montage, str):
        builtin = mne.channels.get_builtin_montages()
        if montage not in builtin:
            raise ValueError(
                f"{where}: argument montage must be 'auto', None, a DigMontage or one of MNE's "
                f"built-in montages {builtin}; got {montage!r}."
            )
        montage = mne.channels.make_standard_montage(montage)
    elif not isinstance(montage, mne.channels.DigMontage):
        raise TypeError(
            f"{where}: argument montage must be 'auto', None, a str or a DigMontage; got "
            f"{type(montage).__name__}."
        )
    if "eeg" in epochs.get_channel_types():
        epochs.set_montage(montage, match_case=False, on_missing=on_missing, verbose=False)


# --------------------------------------------------------------------------- from_mne


def is_epochs(X) -> bool:
    """Whether X is an MNE Epochs object (without importing MNE when it is not loaded)."""
    mne = sys.modules.get("mne")
    return mne is not None and isinstance(X, mne.BaseEpochs)


def epochs_data(epochs, where: str, units=None):
    """``(X, ch_names, ch_types)`` of epochs, as :func:`from_mne` reads them.

    X is float32 ``(n_epochs, n_channels, n_times)`` in the package's units (or ``units``),
    stimulus channels left out. Reading epochs that are not preloaded may drop bad ones: pass
    a copy of the user's object then. Errors name ``where``.
    """
    kinds = epochs.get_channel_types()
    picks = [i for i, kind in enumerate(kinds) if kind != "stim"]
    if not picks:
        raise ValueError(f"{where}: the epochs have no channel besides stimulus channels.")
    data = epochs.get_data(picks=picks, copy=True)
    if data.shape[0] == 0:
        raise ValueError(f"{where}: the epochs hold no epoch (all dropped?).")
    if np.iscomplexobj(data):
        raise ValueError(f"{where}: the epochs hold complex data; expected real signals.")
    ch_types = [kinds[i] for i in picks]
    ch_names = [epochs.ch_names[i] for i in picks]
    scale = _scales(ch_types, units, where)
    if np.any(scale != 1.0):
        data *= scale[:, None]
    return data.astype(np.float32), ch_names, ch_types


def from_mne(epochs, *, label=None, groups=None, trials=None, units=None):
    """Convert ``mne.Epochs`` to the package's dataset Bunch, one window per epoch.

    Requires MNE-Python (``pip install "skemotion[mne]"``). The epochs are not modified
    (epochs that are not preloaded are read from a copy).

    Parameters
    ----------
    epochs : mne.Epochs, mne.EpochsArray or any mne.BaseEpochs
        The epochs. Every channel except stimulus channels is kept, bad ones included (drop
        them first with ``epochs.drop_channels(epochs.info["bads"])`` if you wish).
    label : str or None, default=None
        Where ``y`` comes from. None: the events. ``y`` then holds integer class codes and
        ``target_names`` the ``event_id`` names in the order of their event codes, so
        ``target_names[y[i]]`` is the event of epoch ``i`` (as in scikit-learn's
        ``load_iris``). A str: the metadata column of that name, whose values become ``y`` as
        they are (strings, integers, ratings); ``target_names`` are then its sorted distinct
        values (as str), or ``[label]`` for a float column (a regression target).
    groups : str or None, default=None
        Metadata column holding the subject of each epoch (for ``LeaveOneGroupOut``). None:
        the column ``subject`` when the metadata has one (as :func:`to_mne` writes it),
        otherwise every epoch belongs to subject 0 (one recording of one person; a
        ``LeaveOneGroupOut`` split then refuses to run rather than leak).
    trials : str or None, default=None
        Metadata column holding the trial of each epoch (windows of one trial must stay on one
        side of a split). None: the column ``trial_id`` when the metadata has one (as
        :func:`to_mne` writes it), otherwise each epoch is its own trial (ids 0 to n - 1).
    units : None, str, float or dict, default=None
        Unit of the returned ``X``, converted from MNE's volts: None gives the package's units
        (``DEFAULT_UNITS``: microvolts for EEG and EOG, millivolts for ECG and EMG, other types
        unscaled); ``"V"`` keeps MNE's values; see :func:`to_mne` for the other forms.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X`` float32 (n_epochs, n_channels, n_times), ``y``, ``groups``, ``trials``,
        ``sfreq``, ``ch_names``, ``ch_types`` (MNE channel type of each channel),
        ``target_names``, ``frame`` and ``DESCR`` (``info["description"]`` when set). ``frame``
        holds the metadata columns (one row per epoch) and adds those it lacks among
        ``subject`` (``groups``), ``session`` (1), ``trial`` (``trials``) and ``start`` (the
        epoch's first sample in seconds, ``events[:, 0] / sfreq + tmin``).

    Raises
    ------
    ImportError
        When MNE-Python is not installed.
    ValueError
        When ``label``, ``groups`` or ``trials`` names a column the metadata lacks (the
        message lists the available columns), or the column has missing values.

    See Also
    --------
    to_mne : The inverse conversion.

    Examples
    --------
    >>> from skemotion.datasets import from_mne, make_eeg_emotion, to_mne
    >>> epochs = to_mne(make_eeg_emotion("emotiv14", n_subjects=2, random_state=0))
    >>> # ... any MNE processing of the epochs ...
    >>> data = from_mne(epochs, groups="subject")
    >>> data.X.shape, data.target_names
    ((120, 14, 256), ['negative', 'neutral', 'positive'])
    """
    where = "from_mne"
    mne = _import_mne(where)
    if not isinstance(epochs, mne.BaseEpochs):
        raise TypeError(
            f"{where}: argument epochs must be an mne.Epochs (or EpochsArray) object; got "
            f"{type(epochs).__name__}."
        )
    for name, value in (("label", label), ("groups", groups), ("trials", trials)):
        if value is not None and not isinstance(value, str):
            raise TypeError(
                f"{where}: argument {name} must be None or the name of a metadata column; got "
                f"{value!r}."
            )
    if not epochs.preload:
        epochs = epochs.copy()  # reading may drop bad epochs: never in the user's object
    X, ch_names, ch_types = epochs_data(epochs, where, units)
    n = X.shape[0]

    metadata = epochs.metadata
    frame = (
        pd.DataFrame(index=pd.RangeIndex(n))
        if metadata is None
        else metadata.reset_index(drop=True).copy()
    )
    events = np.asarray(epochs.events)
    sfreq = float(epochs.info["sfreq"])

    if label is None:
        y, target_names = _event_labels(epochs.event_id, events[:, 2], where)
    else:
        y = _column(frame, label, "label", where)
        if pd.api.types.is_float_dtype(frame[label]):
            target_names = [label]
        else:
            target_names = [str(v) for v in np.unique(np.asarray(y))]
    groups_arr = (
        _column(frame, groups or _GROUPS_COLUMN, "groups", where)
        if groups is not None or _GROUPS_COLUMN in frame.columns
        else np.zeros(n, dtype=np.int64)
    )
    trials_arr = (
        _column(frame, trials or _TRIALS_COLUMN, "trials", where)
        if trials is not None or _TRIALS_COLUMN in frame.columns
        else np.arange(n, dtype=np.int64)
    )
    defaults = {
        "subject": groups_arr,
        "session": np.ones(n, dtype=np.int64),
        "trial": trials_arr,
        "start": events[:, 0] / sfreq + float(epochs.tmin),
    }
    for column, values in defaults.items():
        if column not in frame.columns:
            frame[column] = values
    description = epochs.info.get("description") or (
        f"Converted from {type(epochs).__name__}: {n} epochs, {len(ch_names)} channels at "
        f"{sfreq:g} Hz."
    )
    return make_dataset_bunch(
        X=X,
        y=y,
        groups=groups_arr,
        trials=trials_arr,
        sfreq=sfreq,
        ch_names=ch_names,
        ch_types=ch_types,
        target_names=target_names,
        frame=frame,
        description=description,
    )


def _event_labels(event_id: Mapping, codes: np.ndarray, where: str):
    """Class codes 0..k-1 of the epochs' events and the event names in code order."""
    by_code: dict[int, str] = {}
    for name, code in event_id.items():
        if int(code) in by_code:
            raise ValueError(
                f"{where}: event_id names {by_code[int(code)]!r} and {name!r} share the code "
                f"{code}; give each class its own code, or pass label='<metadata column>'."
            )
        by_code[int(code)] = str(name)
    known = np.array(sorted(by_code), dtype=np.int64)
    unknown = sorted(set(np.unique(codes).tolist()) - set(known.tolist()))
    if unknown:
        raise ValueError(
            f"{where}: events with codes {unknown} have no name in event_id {dict(event_id)}."
        )
    y = np.searchsorted(known, codes).astype(np.int64)
    return y, [by_code[c] for c in known.tolist()]


def _column(frame: pd.DataFrame, column: str, arg: str, where: str) -> np.ndarray:
    if column not in frame.columns:
        available = [str(c) for c in frame.columns]
        raise ValueError(
            f"{where}: argument {arg}={column!r} is not a column of epochs.metadata; "
            + (f"available columns: {available}." if available else "the epochs have no metadata.")
        )
    values = frame[column]
    if values.isna().any():
        raise ValueError(
            f"{where}: argument {arg}={column!r}: the column has missing values in "
            f"{int(values.isna().sum())} of {len(values)} epochs."
        )
    return values.to_numpy()
