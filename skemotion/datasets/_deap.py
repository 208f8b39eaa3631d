"""DEAP loader (``data_preprocessed_python/s01.dat ... s32.dat`` or the MATLAB copy
``data_preprocessed_matlab/s01.mat ... s32.mat``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .._montages import DEAP32
from ._checks import check_baseline, check_choice, check_ids, check_path, check_verbose
from ._loading import (
    DatasetFormatError,
    TrialSource,
    Windowing,
    read_py2_pickle,
    read_rows,
    remove_baseline,
    select_subjects,
)
from ._mne import mne_output
from ._targets import RatingTarget

LOADER = "load_deap"
SFREQ = 128.0
BASELINE_SAMPLES = 384  # the 3 s before each video
N_SUBJECTS = 32
DEAP40 = [
    *DEAP32,
    "hEOG",
    "vEOG",
    "zEMG",
    "tEMG",
    "GSR",
    "Respiration",
    "Plethysmograph",
    "Temperature",
]
SCALES = ("valence", "arousal", "dominance", "liking")
_FILE_RE = re.compile(r"^s(\d{2})\.(dat|mat)$")
_EXPECTED = (
    "a Python 2 pickle (data_preprocessed_python/sXX.dat) or MATLAB file "
    "(data_preprocessed_matlab/sXX.mat) with 'data' (n_trials, 40, n_samples) and 'labels' "
    "(n_trials, 4), e.g. 'data' (40, 40, 8064)"
)


def _data_dir(path: Path) -> Path:
    if path.is_file():
        raise ValueError(
            f"{LOADER}: path must be the folder holding s01.dat ... s32.dat "
            "(data_preprocessed_python) or s01.mat ... s32.mat (data_preprocessed_matlab), or "
            f"their parent; got the file {str(path)!r}."
        )
    for name in ("data_preprocessed_python", "data_preprocessed_matlab"):
        if (path / name).is_dir():
            return path / name
    return path


def list_deap_files(path) -> dict[int, Path]:
    """``{subject: file}`` of the DEAP subject files found under ``path``.

    The Python copy (``sXX.dat``) is preferred where both copies of a subject are present.
    """
    folder = _data_dir(check_path(path, LOADER))
    files = {}
    # names only: a directory, a broken link or an unreadable file under a subject's name is
    # that subject's file, and reading it fails with an error naming it
    for f in sorted(folder.iterdir()):
        m = _FILE_RE.match(f.name)
        if m:
            subject = int(m.group(1))
            if subject not in files or m.group(2) == "dat":
                files[subject] = f
    return files


def _read_mat(file: Path) -> dict:
    from scipy.io import loadmat

    return loadmat(file, variable_names=["data", "labels"])


def read_deap_file(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one DEAP subject file (pickle or MATLAB); return ``(data, labels)`` after checks."""
    try:
        content = _read_mat(file) if file.suffix == ".mat" else read_py2_pickle(file)
    except Exception as exc:  # truncated, corrupt or not a pickle at all
        raise DatasetFormatError(
            f"{LOADER}: could not read {str(file)!r} ({type(exc).__name__}: {exc}); "
            f"expected {_EXPECTED}."
        ) from exc
    if not isinstance(content, dict):
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} holds a {type(content).__name__}; expected {_EXPECTED}."
        )
    missing = [k for k in ("data", "labels") if k not in content]
    if missing:
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} has keys {sorted(map(str, content))}, lacks {missing}; "
            f"expected {_EXPECTED}."
        )
    data, labels = np.asarray(content["data"]), np.asarray(content["labels"])
    if (
        data.ndim != 3
        or data.shape[1] != 40
        or data.shape[2] <= BASELINE_SAMPLES
        or not np.issubdtype(data.dtype, np.floating)
    ):
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} has 'data' of shape {data.shape} and dtype {data.dtype}; "
            f"expected float (n_trials, 40, n_samples > {BASELINE_SAMPLES}), e.g. (40, 40, 8064)."
        )
    if labels.shape != (data.shape[0], 4):
        raise DatasetFormatError(
            f"{LOADER}: {str(file)!r} has 'labels' of shape {labels.shape}; expected "
            f"({data.shape[0]}, 4) (valence, arousal, dominance, liking)."
        )
    return data, labels


def load_deap(
    path,
    *,
    subjects=None,
    target: str = "valence",
    threshold: float | None = 5.0,
    comparison: str = ">",
    channels="eeg",
    baseline: str | None = None,
    window_seconds: float = 1.0,
    overlap: float = 0.0,
    verbose: bool = True,
    return_mne: bool = False,
    cache_dir=None,
):
    """Load DEAP (preprocessed Python version) as windows.

    Parameters
    ----------
    path : str or path-like
        The ``data_preprocessed_python`` folder (``s01.dat`` ... ``s32.dat``), the MATLAB copy
        ``data_preprocessed_matlab`` (``s01.mat`` ... ``s32.mat``, same variables), or their
        parent (the Python copy is preferred when both are there).
        Files are only read.
    subjects : int, list of int or None, default=None
        Subjects 1-32 to load; None loads every file present. Only the selected files are
        read.
    target : {"valence", "arousal", "dominance", "liking", "quadrant"}, default="valence"
        Rating to predict. ``"quadrant"`` gives 4 classes from valence and arousal:
        0 LVLA, 1 LVHA, 2 HVLA, 3 HVHA.
    threshold : float or None, default=5.0
        Ratings (1-9) above the threshold are "high" (class 1). None returns the raw
        continuous rating as a float ``y`` (regression).
    comparison : {">", ">="}, default=">"
        Whether high means ``rating > threshold`` or ``rating >= threshold``; published
        work uses both, so report which one you used.
    channels : "eeg", "all" or list of str, default="eeg"
        ``"eeg"``: the 32 EEG channels (Geneva order); ``"all"``: the 40 channels (EEG, then
        hEOG, vEOG, zEMG, tEMG, GSR, Respiration, Plethysmograph, Temperature); or names.
    baseline : {None, "segment", "mean"}, default=None
        Use of the 3 s pre-trial baseline (always cut from the windows). ``"segment"``: the
        mean of its three 1 s segments is subtracted from every 1 s segment of the trial (the
        usual DEAP practice); ``"mean"``: its per-channel mean is subtracted; None: nothing.
    window_seconds : float, default=1.0
        Window length in seconds (128 samples per second).
    overlap : float, default=0.0
        Fraction of a window shared by consecutive windows, in [0, 1).
    verbose : bool, default=True
        Show a progress bar over trials.
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
        ``X`` ndarray of shape (n_windows, n_channels, n_times) float32; ``y`` int class codes
        (float ratings when ``threshold=None``); ``groups`` subject (1-32); ``trials`` id unique
        per subject-trial; ``sfreq`` 128.0; ``ch_names``; ``target_names``; ``frame`` with
        subject, session (always 1), trial (1-40, video order), start (s from video onset),
        valence, arousal, dominance, liking.
        With ``return_mne=True``: the ``mne.EpochsArray`` of
        :func:`~skemotion.datasets.to_mne` instead.

    Notes
    -----
    Windows of one trial are strongly correlated: split by ``groups`` (subject) or by
    ``trials``, never by window. Peak memory is ``X`` plus one subject file (about 100 MB).

    Examples
    --------
    >>> data = load_deap("~/data/deap", subjects=[1, 2], window_seconds=2.0)  # doctest: +SKIP
    >>> data.X.shape  # doctest: +SKIP
    (2400, 32, 256)
    """
    as_mne = mne_output(return_mne, LOADER)
    root = check_path(path, LOADER)
    subject_ids = check_ids(subjects, "subjects", range(1, N_SUBJECTS + 1), LOADER)
    rating = RatingTarget.check(target, threshold, comparison, SCALES, LOADER)
    ch_idx = _channel_indices(channels)
    check_baseline(baseline, LOADER)
    verbose = check_verbose(verbose, LOADER)

    folder = _data_dir(root)
    found = list_deap_files(root)
    subject_ids = select_subjects(
        subject_ids,
        found,
        f"{LOADER}: no s01.dat ... s32.dat (or .mat) in {str(folder)!r}; expected the DEAP "
        "data_preprocessed_python or data_preprocessed_matlab folder.",
        lambda s: (
            f"{LOADER}: subject {s} requested but {str(folder / f's{s:02d}.dat')!r} does not exist."
        ),
    )

    files = [found[s] for s in subject_ids]
    windowing = Windowing(LOADER, SFREQ, window_seconds, overlap, verbose).cached_in(
        cache_dir, files, subjects=subject_ids, target=rating, channels=ch_idx, baseline=baseline
    )
    hit = windowing.cached()
    if hit is not None:
        return as_mne(hit)
    # The first file fixes the per-file layout every other file must share.
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    first = subject_ids[0]
    cache[first] = read_deap_file(found[first])
    n_trials, _, n_samples = cache[first][0].shape

    def make_load(src: TrialSource, subject: int, t: int):
        def load():
            if subject not in cache:
                cache.clear()  # one file in memory at a time
                data, labels = read_deap_file(found[subject])
                if data.shape != (n_trials, 40, n_samples):
                    raise DatasetFormatError(
                        f"{LOADER}: {str(found[subject])!r} has 'data' of shape {data.shape}; "
                        f"expected {(n_trials, 40, n_samples)} like "
                        f"{str(found[first])!r}."
                    )
                cache[subject] = (data, labels)
            data, labels = cache[subject]
            scores = dict(zip(SCALES, map(float, labels[t])))
            src.labels = scores
            src.target = rating.encode(scores)
            trial = read_rows(data, t)[ch_idx]  # one trial read from the file
            return remove_baseline(
                trial[:, BASELINE_SAMPLES:],
                trial[:, :BASELINE_SAMPLES],
                baseline,
                int(SFREQ),
                f"{LOADER}: {str(found[subject])!r} trial {t + 1}",
            )

        return load

    sources = []
    for s in subject_ids:
        for t in range(n_trials):
            src = TrialSource(
                subject=s, session=1, trial=t + 1, n_samples=n_samples - BASELINE_SAMPLES, load=None
            )
            src.load = make_load(src, s, t)
            sources.append(src)
    about = (
        f"DEAP preprocessed (128 Hz), {len(subject_ids)} subjects, {rating}, baseline={baseline!r}"
    )
    data = windowing.bunch(
        sources, ch_names=[DEAP40[i] for i in ch_idx], target=rating, about=about
    )
    cache.clear()
    return as_mne(data)


def _channel_indices(channels) -> list[int]:
    if isinstance(channels, str):
        check_choice(channels, "channels", ("eeg", "all"), LOADER)
        return list(range(32 if channels == "eeg" else 40))
    try:
        names = list(channels)
    except TypeError:
        names = None
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"{LOADER}: channels must be 'eeg', 'all' or a list of channel names; got {channels!r}."
        )
    unknown = [n for n in names if n not in DEAP40]
    if unknown:
        raise ValueError(
            f"{LOADER}: channels contains unknown names {unknown}; expected names from {DEAP40}."
        )
    return [DEAP40.index(n) for n in names]
