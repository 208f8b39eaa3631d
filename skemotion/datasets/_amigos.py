"""AMIGOS loader (``Data_Preprocessed_P01.mat ... P40.mat``, MATLAB v5 cell arrays)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import scipy.io
from tqdm.auto import tqdm

from .._montages import EMOTIV14
from ._checks import check_choice, check_ids, check_path, check_verbose
from ._loading import (
    DatasetFormatError,
    TrialSource,
    Windowing,
    index_files,
    select_subjects,
    warn_skipped,
)
from ._mne import mne_output
from ._targets import RatingTarget

LOADER = "load_amigos"
SFREQ = 128.0
N_SUBJECTS = 40
N_TRIALS = 20
N_SHORT = 16  # trials 1-16: short videos (session 1); 17-20: long videos (session 2)
SELF_ASSESSMENT = (
    "arousal",
    "valence",
    "dominance",
    "liking",
    "familiarity",
    "neutral",
    "disgust",
    "happiness",
    "surprise",
    "anger",
    "fear",
    "sadness",
)
SCALES = ("arousal", "valence", "dominance", "liking")
MODALITIES = {
    "eeg": (list(range(14)), list(EMOTIV14)),
    "ecg": ([14, 15], ["ECG_R", "ECG_L"]),
    "all": (list(range(17)), [*EMOTIV14, "ECG_R", "ECG_L", "GSR"]),
}
NAN_POLICIES = ("drop", "interpolate", "raise")
_FILE_RE = re.compile(r"^Data_Preprocessed_P(\d{2})\.mat$")
_KEYS = ("VideoIDs", "joined_data", "labels_selfassessment")
_EXPECTED = (
    "a MATLAB v5 file with (1, 20) cells 'VideoIDs', 'joined_data' ((n_samples, 17) per trial) "
    "and 'labels_selfassessment' ((1, 12) per trial)"
)


def list_amigos_files(path) -> dict[int, Path]:
    """``{participant: file}``; files may sit in ``path`` or one folder each below it."""
    root = check_path(path, LOADER)
    candidates = [root] if root.is_file() else [*root.glob("*.mat"), *root.glob("*/*.mat")]
    return index_files(
        sorted(candidates),
        _FILE_RE,
        lambda m: int(m.group(1)),
        lambda s, a, b: (
            f"{LOADER}: participant {s} has two files, {str(a)!r} and {str(b)!r}; keep one."
        ),
    )


def _read_file(file: Path) -> dict:
    try:
        # the external annotations are not used, but reading them too means a copy cut short
        # anywhere (they may come last) fails here instead of loading as if complete
        content = scipy.io.loadmat(file, variable_names=[*_KEYS, "labels_ext_annotation"])
    except Exception as exc:
        raise DatasetFormatError(
            f"{LOADER}: could not read {str(file)!r} ({type(exc).__name__}: {exc}); "
            f"expected {_EXPECTED}."
        ) from exc
    missing = [k for k in _KEYS if k not in content]
    if missing:
        found = [k for k in content if not k.startswith("__")]
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} lacks {missing} (has {found}); expected {_EXPECTED}."
        )
    for key in _KEYS:
        cell = content[key]
        if cell.dtype != object or cell.size != N_TRIALS:
            raise DatasetFormatError(
                f"{LOADER}: {str(file)!r} '{key}' is a {cell.shape} {cell.dtype} array; "
                f"expected a (1, {N_TRIALS}) cell ({_EXPECTED})."
            )
        content[key] = cell.ravel()
    return content


def _video_id(value) -> str:
    arr = np.asarray(value).ravel()
    return str(arr[0]) if arr.size else ""


def _fix_nans(x: np.ndarray, policy: str, where: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply the NaN policy to a (n_channels, n_samples) float32 trial."""
    nan = np.isnan(x)
    if not nan.any():
        return x, None
    if policy == "raise":
        raise ValueError(
            f"{LOADER}: {where} holds {int(nan.sum())} NaN samples; pass nan_policy='drop' or "
            "'interpolate' to handle them."
        )
    if policy == "drop":
        return x, nan.any(axis=0)
    t = np.arange(x.shape[1])
    for c in np.flatnonzero(nan.any(axis=1)):
        ok = ~nan[c]
        if not ok.any():
            return x, np.ones(x.shape[1], dtype=bool)  # nothing to interpolate from
        x[c, ~ok] = np.interp(t[~ok], t[ok], x[c, ok])
    return x, None


def load_amigos(
    path,
    *,
    subjects=None,
    sessions=None,
    modality: str = "eeg",
    target: str = "valence",
    threshold: float | None = 5.0,
    comparison: str = ">",
    nan_policy: str = "drop",
    window_seconds: float = 1.0,
    overlap: float = 0.0,
    verbose: bool = True,
    return_mne: bool = False,
    cache_dir=None,
):
    """Load AMIGOS (preprocessed, 128 Hz) as EEG or ECG windows.

    Parameters
    ----------
    path : str or path-like
        Folder holding ``Data_Preprocessed_P01.mat`` ... ``P40.mat`` directly or each in its own
        folder (``Data_Preprocessed_P01/Data_Preprocessed_P01.mat``). Files are only read.
    subjects : int, list of int or None, default=None
        Participants 1-40; None loads every file present.
    sessions : int, list of int or None, default=None
        1: the 16 short videos (trials 1-16); 2: the 4 long videos (trials 17-20, absent for
        some participants); None: both.
    modality : {"eeg", "ecg", "all"}, default="eeg"
        ``"eeg"``: columns 0-13 (Emotiv order AF3 ... AF4); ``"ecg"``: columns 14-15 (ECG right
        and left arm leads, for ECG models such as SSL-ECG); ``"all"``: the 17 columns (+ GSR).
    target : {"arousal", "valence", "dominance", "liking", "quadrant"}, default="valence"
        Self-assessed rating to predict (the file stores arousal first, then valence).
        ``"quadrant"``: 0 LVLA, 1 LVHA, 2 HVLA, 3 HVHA.
    threshold : float or None, default=5.0
        Ratings (1-9) above it are high (class 1); None returns the raw rating (regression).
    comparison : {">", ">="}, default=">"
        High means ``rating > threshold`` or ``rating >= threshold``.
    nan_policy : {"drop", "interpolate", "raise"}, default="drop"
        NaNs occur in the preprocessed signals. ``"drop"``: windows holding a NaN in a selected
        channel are left out; ``"interpolate"``: NaN runs are filled by linear interpolation in
        time per channel (edges take the nearest value; a channel that is NaN throughout drops
        the trial); ``"raise"``: a ValueError names the file and trial. Trials that are empty
        (0, 0) or whose self-assessment is missing/NaN are skipped with a warning.
    window_seconds : float, default=1.0
        Window length in seconds.
    overlap : float, default=0.0
        Fraction of a window shared by consecutive windows, in [0, 1).
    verbose : bool, default=True
        Show progress bars over files and trials.
    return_mne : bool, default=False
        Return ``mne.EpochsArray`` (:func:`~skemotion.datasets.to_mne` of the Bunch: signals
        in volts, channel types, 10-05 electrode positions, labels as events, ids and ``frame``
        as metadata) instead of the Bunch. Needs MNE-Python (``pip install "skemotion[mne]"``).
    cache_dir : str, path-like or None, default=None
        Folder of an on-disk window cache. The first call writes the windows there once and
        every call returns ``X`` as a read-only ``numpy.memmap`` of that file, so the windows
        need not fit in memory; a later call with the same files and options reuses the entry
        without reading the dataset (see :ref:`scaling`).

    Returns
    -------
    bunch : sklearn.utils.Bunch
        ``X`` (n_windows, n_channels, n_times) float32, ``y``, ``groups`` participant,
        ``trials``, ``sfreq`` 128.0, ``ch_names``, ``target_names``, ``frame`` with subject,
        session, trial (1-20), start (s), video_id and the 12 self-assessment columns
        (arousal, valence, dominance, liking, familiarity, then the 7 binary basic emotions
        neutral ... sadness); ``n_nan_windows_dropped``.
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    Notes
    -----
    The selected channels of each file are kept as float32 while the file is read; peak
    memory is that copy plus ``X`` plus one file.

    Examples
    --------
    >>> data = load_amigos("~/data/amigos", sessions=[1], target="valence")  # doctest: +SKIP
    >>> data.target_names  # doctest: +SKIP
    ['low_valence', 'high_valence']
    """
    as_mne = mne_output(return_mne, LOADER)
    root = check_path(path, LOADER)
    subject_ids = check_ids(subjects, "subjects", range(1, N_SUBJECTS + 1), LOADER)
    session_ids = check_ids(sessions, "sessions", (1, 2), LOADER) or [1, 2]
    check_choice(modality, "modality", list(MODALITIES), LOADER)
    rating = RatingTarget.check(target, threshold, comparison, SCALES, LOADER)
    check_choice(nan_policy, "nan_policy", NAN_POLICIES, LOADER)
    verbose = check_verbose(verbose, LOADER)
    cols, ch_names = MODALITIES[modality]

    found = list_amigos_files(root)
    subject_ids = select_subjects(
        subject_ids,
        found,
        f"{LOADER}: no Data_Preprocessed_PXX.mat under {str(root)!r} (directly or one folder "
        "down); expected the AMIGOS preprocessed data.",
        lambda s: (
            f"{LOADER}: participant {s} requested but Data_Preprocessed_P{s:02d}.mat is "
            f"not under {str(root)!r}."
        ),
    )
    trial_idx = [t for t in range(N_TRIALS) if (1 if t < N_SHORT else 2) in session_ids]
    windowing = Windowing(LOADER, SFREQ, window_seconds, overlap, verbose).cached_in(
        cache_dir,
        [found[s] for s in subject_ids],
        subjects=subject_ids,
        sessions=session_ids,
        modality=modality,
        target=rating,
        nan_policy=nan_policy,
    )
    data = windowing.cached()
    if data is None:
        data = _build(windowing, found, subject_ids, session_ids, trial_idx, modality, cols,
                      ch_names, rating, nan_policy)  # fmt: skip
    n_dropped = data["n_nan_windows_dropped"]
    if n_dropped:
        warnings.warn(
            f"{LOADER}: left out {n_dropped} of {n_dropped + len(data.y)} windows holding NaN "
            "(nan_policy='drop').",
            UserWarning,
            stacklevel=2,
        )
    return as_mne(data)


def _build(windowing, found, subject_ids, session_ids, trial_idx, modality, cols, ch_names,
           rating, nan_policy):  # fmt: skip
    """Read the selected files and window them (:func:`load_amigos` without a cache hit)."""
    verbose = windowing.verbose

    sources: list[TrialSource] = []
    skipped: list[str] = []
    n_bad_samples = 0
    for s in tqdm(subject_ids, desc=LOADER, unit="file", disable=not verbose, leave=False):
        file = found[s]
        content = _read_file(file)
        for t in trial_idx:
            where = f"{file.name} trial {t + 1}"
            raw = np.asarray(content["joined_data"][t])
            if raw.size == 0:
                skipped.append(f"{where} (empty)")
                continue
            if raw.ndim != 2 or raw.shape[1] != 17 or not np.issubdtype(raw.dtype, np.number):
                raise DatasetFormatError(
                    f"{LOADER}: {str(file)!r} joined_data trial {t + 1} is a {raw.shape} "
                    f"{raw.dtype} array; expected (n_samples, 17) numbers at 128 Hz."
                )
            assessed = np.asarray(content["labels_selfassessment"][t], dtype=float).ravel()
            if assessed.size < 5 or np.isnan(assessed[:4]).any():
                skipped.append(f"{where} (no self-assessment)")
                continue
            labels = dict(zip(SELF_ASSESSMENT, map(float, assessed)))
            x = np.ascontiguousarray(raw[:, cols].T, dtype=np.float32)
            x, bad = _fix_nans(x, nan_policy, f"{str(file)!r} trial {t + 1}")
            if bad is not None:
                n_bad_samples += int(bad.sum())
            sources.append(
                TrialSource.held(
                    x,
                    subject=s,
                    session=1 if t < N_SHORT else 2,
                    trial=t + 1,
                    target=rating.encode(labels),
                    labels={"video_id": _video_id(content["VideoIDs"][t]), **labels},
                    bad=bad,
                )
            )
            del x
        del content
    warn_skipped(LOADER, "trials", skipped)
    if not sources:
        raise ValueError(f"{LOADER}: no usable trial in the selection {subject_ids}.")
    about = (
        f"AMIGOS preprocessed {modality.upper()} (128 Hz), participants {subject_ids}, "
        f"sessions {session_ids}, {rating}, nan_policy={nan_policy!r}"
    )
    n_dropped = windowing.count(sources) - windowing.count(sources, clean=True)
    return windowing.bunch(
        sources, ch_names=ch_names, target=rating, about=about, n_nan_windows_dropped=n_dropped
    )
