"""The dataset Bunch every loader and generator returns."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

#: MNE channel type of the non-EEG channels of the package's datasets, by name (DEAP's
#: peripheral channels, the ECG leads of AMIGOS, DREAMER and the synthetic corpus, WESAD's
#: chest sensors); every other channel of a loader or generator is EEG.
CHANNEL_TYPES = {
    "hEOG": "eog",
    "vEOG": "eog",
    "zEMG": "emg",
    "tEMG": "emg",
    "GSR": "gsr",
    "Respiration": "resp",
    "Plethysmograph": "bio",
    "Temperature": "temperature",
    "ECG": "ecg",
    "ECG1": "ecg",
    "ECG2": "ecg",
    "ECG_R": "ecg",
    "ECG_L": "ecg",
    "EMG": "emg",
    "EDA": "gsr",
    "Temp": "temperature",
    "Resp": "resp",
}


def make_dataset_bunch(
    *,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    trials: np.ndarray,
    sfreq: float,
    ch_names,
    target_names,
    frame: pd.DataFrame,
    description: str = "",
    ch_types=None,
    **extra,
) -> Bunch:
    """Assemble and check the dataset Bunch of ``DESIGN.md``.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_channels, n_times)
        Signal windows; converted to float32 (a view when it already is float32).
    y : ndarray of shape (n_windows,)
        Target per window.
    groups : ndarray of shape (n_windows,)
        Subject id per window (use as ``groups`` of ``LeaveOneGroupOut``).
    trials : ndarray of shape (n_windows,)
        Trial id per window, unique across subjects and sessions.
    sfreq : float
        Sampling frequency in Hz.
    ch_names : list of str
        Channel names in the order of X's second axis.
    target_names : list of str
        Name of each class (for classification targets) or of the target.
    frame : pandas.DataFrame
        One row per window: at least ``subject``, ``session``, ``trial``, ``start`` (seconds)
        and the label columns.
    description : str
        Free text stored as ``DESCR``.
    ch_types : list of str, optional
        MNE channel type of each channel (``"eeg"``, ``"ecg"``, ``"eog"`` ...); by default
        looked up by name in :data:`CHANNEL_TYPES`, ``"eeg"`` for the names it lacks.
    **extra
        Further entries (e.g. ``baseline``) stored in the Bunch as they are.
    """
    if not isinstance(X, np.memmap):  # a window cache's file stays a memory map
        X = np.asarray(X)
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    n = X.shape[0]
    y = np.asarray(y)
    groups = np.asarray(groups)
    trials = np.asarray(trials)
    for name, arr in (("y", y), ("groups", groups), ("trials", trials)):
        if arr.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},); got {arr.shape}.")
    if len(frame) != n:
        raise ValueError(f"frame must have {n} rows; got {len(frame)}.")
    if X.ndim != 3 or X.shape[1] != len(ch_names):
        raise ValueError(f"X must be (n, {len(ch_names)}, n_times); got {X.shape}.")
    for col in ("subject", "session", "trial", "start"):
        if col not in frame.columns:
            raise ValueError(f"frame lacks the column {col!r}.")
    if ch_types is None:
        ch_types = [CHANNEL_TYPES.get(name, "eeg") for name in ch_names]
    if len(ch_types) != len(ch_names):
        raise ValueError(f"ch_types must have {len(ch_names)} entries; got {len(ch_types)}.")
    return Bunch(
        X=X,
        y=y,
        groups=groups,
        trials=trials,
        sfreq=float(sfreq),
        ch_names=list(ch_names),
        ch_types=list(ch_types),
        target_names=list(target_names),
        frame=frame.reset_index(drop=True),
        DESCR=description,
        **extra,
    )
