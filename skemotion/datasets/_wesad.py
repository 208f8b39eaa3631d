"""WESAD loader (``WESAD/S2/S2.pkl ... S17/S17.pkl``, chest RespiBAN signals at 700 Hz)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import scipy.signal
from tqdm.auto import tqdm

from ..features._filtering import resample_fraction
from ._checks import check_choice, check_ids, check_path, check_verbose
from ._loading import (
    DatasetFormatError,
    TrialSource,
    Windowing,
    index_files,
    read_py2_pickle,
    select_subjects,
)
from ._mne import mne_output
from ._targets import ClassCodes

LOADER = "load_wesad"
SFREQ = 700.0
SUBJECTS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17)  # S1 and S12 do not exist
CONDITIONS = {1: "baseline", 2: "stress", 3: "amusement", 4: "meditation"}
TARGETS = {
    "affect": ClassCodes({1: 0, 2: 1, 3: 2}, ["baseline", "stress", "amusement"]),
    "stress": ClassCodes({1: 0, 3: 0, 2: 1}, ["non_stress", "stress"]),
}
CHEST_CHANNELS = ("ECG", "EMG", "EDA", "Temp", "Resp")
_EXPECTED = (
    "a Python 2 pickle of a dict with 'signal' ({'chest': {'ECG', 'EMG', 'EDA', 'Temp', "
    "'Resp' (N, 1), 'ACC' (N, 3)}, 'wrist': {...}}), 'label' (N,) and 'subject'"
)
_FILE_RE = re.compile(r"^S(\d+)\.pkl$")


def list_wesad_files(path) -> dict[int, Path]:
    """``{subject: pickle}`` found as ``path/S{n}/S{n}.pkl`` (or ``path/WESAD/...``)."""
    root = check_path(path, LOADER)
    if (root / "WESAD").is_dir():
        root = root / "WESAD"
    return index_files(
        sorted([*root.glob("S*/S*.pkl"), *root.glob("S*.pkl")]),
        _FILE_RE,
        lambda m: int(m.group(1)),
        lambda s, a, b: (
            f"{LOADER}: subject {s} has two files, {str(a)!r} and {str(b)!r}; keep one."
        ),
    )


def read_wesad_file(file: Path, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read one subject pickle; return the chest ``channels`` (n_channels, N) and label (N,)."""
    try:
        content = read_py2_pickle(file)
    except Exception as exc:
        raise DatasetFormatError(
            f"{LOADER}: could not read {str(file)!r} ({type(exc).__name__}: {exc}); "
            f"expected {_EXPECTED}."
        ) from exc
    if not isinstance(content, dict) or "signal" not in content or "label" not in content:
        keys = sorted(map(str, content)) if isinstance(content, dict) else type(content).__name__
        raise DatasetFormatError(f"{LOADER}: {str(file)!r} holds {keys}; expected {_EXPECTED}.")
    signal = content["signal"]
    chest = signal.get("chest") if isinstance(signal, dict) else None
    if not isinstance(chest, dict):
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} has no 'signal'['chest'] dict; expected {_EXPECTED}."
        )
    label = np.asarray(content["label"]).ravel()
    rows = []
    for ch in channels:
        if ch not in chest:
            raise DatasetFormatError(
                f"{LOADER}: {str(file)!r} 'signal'['chest'] has {sorted(chest)}, lacks {ch!r}."
            )
        x = np.asarray(chest[ch])
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1 or x.shape[0] != label.shape[0]:
            raise DatasetFormatError(
                f"{LOADER}: {str(file)!r} chest {ch!r} has shape {np.shape(chest[ch])} for "
                f"{label.shape[0]} labels; expected ({label.shape[0]}, 1) (700 Hz, one label per "
                "sample)."
            )
        rows.append(x)
    return np.stack(rows), label


def _check_channels(channels) -> list[str]:
    given = channels
    if isinstance(channels, str):
        channels = [channels]
    try:
        channels = list(channels)
    except TypeError:
        channels = []
    if not channels or any(not isinstance(c, str) or c not in CHEST_CHANNELS for c in channels):
        raise ValueError(
            f"{LOADER}: channels must be names among {list(CHEST_CHANNELS)}; got {given!r}."
        )
    return channels


def _segments(label: np.ndarray, keep) -> list[tuple[int, int, int, int]]:
    """Contiguous runs ``(block, start, stop, value)`` of ``label`` whose value is in ``keep``.

    ``block`` numbers the runs of every study condition (labels 1-4) from 1 in recording
    order, so a block keeps its number whatever ``keep`` selects.
    """
    change = np.flatnonzero(np.diff(label)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [label.size]])
    out, block = [], 0
    for a, b in zip(starts, stops):
        value = int(label[a])
        if value in CONDITIONS:
            block += 1
            if value in keep:
                out.append((block, a, b, value))
    return out


def load_wesad(
    path,
    *,
    subjects=None,
    target: str = "affect",
    channels=("ECG",),
    resample: float | None = None,
    window_seconds: float = 10.0,
    overlap: float = 0.0,
    verbose: bool = True,
    return_mne: bool = False,
    cache_dir=None,
):
    """Load WESAD chest signals (RespiBAN, 700 Hz; ECG by default) as windows.

    Parameters
    ----------
    path : str or path-like
        The ``WESAD`` folder (``S2/S2.pkl`` ... ``S17/S17.pkl``) or its parent. Files are only
        read.
    subjects : int, list of int or None, default=None
        Subjects among 2-11, 13-17 (S1 and S12 do not exist); None loads every file present.
    target : {"affect", "stress"}, default="affect"
        ``"affect"``: 3 classes 0 baseline, 1 stress, 2 amusement (study labels 1, 2, 3);
        ``"stress"``: baseline and amusement -> 0 (``"non_stress"``), stress -> 1. Samples with
        any other label (0 transient, 4 meditation, 5-7) are never windowed.
    channels : str or sequence of str, default=("ECG",)
        Chest channels among ``"ECG"``, ``"EMG"``, ``"EDA"``, ``"Temp"``, ``"Resp"``.
    resample : float or None, default=None
        Resample each condition block to this rate (polyphase, ``scipy.signal.resample_poly``),
        e.g. 256 Hz to match the ECG of other datasets; a rate that no ratio p/q with
        q <= 1000 reaches exactly is refused. None keeps 700 Hz.
    window_seconds : float, default=10.0
        Window length in seconds (10 s is common for ECG).
    overlap : float, default=0.0
        Fraction of a window shared by consecutive windows, in [0, 1).
    verbose : bool, default=True
        Show a progress bar over files.
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
        ``X`` (n_windows, n_channels, n_times) float32; ``y``; ``groups`` subject; ``trials``:
        one per contiguous condition block (windows never straddle two blocks);
        ``sfreq``; ``ch_names``; ``target_names``; ``frame`` with subject, session (1), trial
        (block number within the subject), start (s from block onset), label (study code),
        condition, block_start (s from recording start).
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    Notes
    -----
    Each pickle also holds the wrist signals, so peak memory is one whole pickle (about 1 GB
    for a real subject) plus the selected blocks in float32 plus ``X``.

    Examples
    --------
    >>> data = load_wesad("~/data/WESAD", target="affect", channels=["ECG"])  # doctest: +SKIP
    >>> data.target_names  # doctest: +SKIP
    ['baseline', 'stress', 'amusement']
    """
    as_mne = mne_output(return_mne, LOADER)
    root = check_path(path, LOADER)
    subject_ids = check_ids(subjects, "subjects", SUBJECTS, LOADER)
    check_choice(target, "target", list(TARGETS), LOADER)
    channels = _check_channels(channels)
    ratio = None if resample is None else resample_fraction(SFREQ, resample, LOADER, "resample")
    verbose = check_verbose(verbose, LOADER)
    classes = TARGETS[target]
    sfreq = SFREQ if resample is None else float(resample)

    found = list_wesad_files(root)
    subject_ids = select_subjects(
        subject_ids,
        found,
        f"{LOADER}: no S<n>/S<n>.pkl under {str(root)!r}; expected the WESAD folder.",
        lambda s: f"{LOADER}: subject {s} requested but S{s}/S{s}.pkl is not under {str(root)!r}.",
    )
    windowing = Windowing(LOADER, sfreq, window_seconds, overlap, False).cached_in(
        cache_dir,
        [found[s] for s in subject_ids],
        subjects=subject_ids,
        target=target,
        channels=channels,
        resample=resample,
    )
    hit = windowing.cached()
    if hit is not None:
        return as_mne(hit)
    sources = []
    for s in tqdm(subject_ids, desc=LOADER, unit="file", disable=not verbose, leave=False):
        signal, label = read_wesad_file(found[s], channels)
        for k, a, b, value in _segments(label, classes.codes):
            block = signal[:, a:b]
            if ratio is not None:
                block = scipy.signal.resample_poly(
                    block, ratio.numerator, ratio.denominator, axis=1
                )
            block = np.ascontiguousarray(block, dtype=np.float32)
            labels = {"label": value, "condition": CONDITIONS[value], "block_start": a / SFREQ}
            sources.append(
                TrialSource.held(block, s, 1, k, target=classes.codes[value], labels=labels)
            )
            del block
        del signal, label
    about = f"WESAD chest {channels} ({sfreq:g} Hz), subjects {subject_ids}, target={target!r}"
    data = windowing.bunch(sources, ch_names=channels, target=classes, about=about)
    return as_mne(data)
